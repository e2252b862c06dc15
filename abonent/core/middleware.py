from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

_API_ERRORS = {
    404: ("not_found", _("Не найдено.")),
    405: ("method_not_allowed", _("Этот метод не поддерживается для этого адреса.")),
}


class ApiErrorShapeMiddleware:
    """Under /api/ every error is JSON {"code", "message", "fields"}, also the 404 for an unknown
    path and the 405 that Django Ninja answers by itself, neither of which reach its handlers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code in _API_ERRORS
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _API_ERRORS[response.status_code]
            shaped = JsonResponse(
                {"code": code, "message": str(message), "fields": {}},
                status=response.status_code,
                json_dumps_params={"ensure_ascii": False},
            )
            if "Allow" in response:
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` on every response (Django has no setting for it): the cabinet needs
    no camera, microphone, location, payment handler, USB or motion sensors, so no page — nor
    anything injected into one — may ask for them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.value = settings.PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.value:
            response.headers.setdefault("Permissions-Policy", self.value)
        return response
