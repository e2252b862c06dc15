from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
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


log = logging.getLogger(__name__)
_RETRIED = "_abonent_db_retried"
UNAVAILABLE_HTML = (
    '<!doctype html><html lang="ru"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>Абонент — повторите через минуту</title>"
    "<h1>Сервис на минуту недоступен</h1>"
    "<p>Ничего не сохранилось наполовину. Обновите страницу через несколько секунд.</p></html>"
)


class DatabaseFaultMiddleware:
    """The database dropped the connection (a restart, a failover, `pg_terminate_backend`), a
    lock or statement timeout fired, or a deadlock was broken. The transaction is gone, so
    nothing is half-written; the request is then either
    - a read (GET/HEAD): retried once on a fresh connection, the customer sees nothing; or
    - a write, or a read that failed twice: answered 503 with Retry-After and, under /api/,
      the error shape (`database_unavailable`) — the client repeats it (payments carry their
      idempotency key). A write is never re-run here: part of it may have committed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        for conn in connections.all(initialized_only=True):
            if not conn.in_atomic_block:
                conn.close_if_unusable_or_obsolete()
        if request.method in ("GET", "HEAD") and not getattr(request, _RETRIED, False):
            setattr(request, _RETRIED, True)
            log.warning("database fault on %s, retrying the read: %s", request.path, exception)
            try:
                return self.get_response(request)
            except DatabaseError:
                pass
        log.error("database fault on %s %s: %s", request.method, request.path, exception)
        return _unavailable(request)


def _unavailable(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "code": "database_unavailable",
                "message": str(_("Сервис на минуту недоступен. Повторите запрос.")),
                "fields": {},
            },
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = HttpResponse(UNAVAILABLE_HTML, status=503)
    response["Retry-After"] = "5"
    return response
