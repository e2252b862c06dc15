"""The JSON API: mounts each app's router under /api/v1 and renders every error one way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.renderers import BaseRenderer

from abonent.core.errors import DomainError


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value.as_tuple().exponent == -2 else str(value)
    raise TypeError


class ORJSONRenderer(BaseRenderer):
    """UTF-8 JSON without \\u escapes (Cyrillic stays readable and ~1.5× smaller)."""

    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=_default)


class ObjectBodyParser(Parser):
    """Every JSON body of this API is an object. Ninja validates a schema from any value's
    attributes, so `[null]` or `5` would pass for a body whose fields are all optional: such a
    body is refused as malformed (400) before it reaches a schema."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = orjson.loads(request.body)
        # Ninja also parses each multipart form value through here, on a bare HttpRequest
        # (no META): those are scalars. Only the body of a real request must be an object.
        if request.META.get("REQUEST_METHOD") and not isinstance(data, dict):
            raise ValueError("the JSON body is not an object")
        if _has_nul(data):  # PostgreSQL text cannot hold it: refuse it here, not with a 500
            raise ValueError("the JSON body has a NUL character")
        return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Машинный код ошибки"},
        "message": {"type": "string", "description": "Текст для человека, по-русски"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Ошибки по полям запроса",
        },
    },
    "required": ["code", "message", "fields"],
}
_UNSAFE = {"post", "put", "patch", "delete"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation documents the errors the API can answer it with, in one shape: 400 for a
    malformed body, 401 when it needs sign-in, 403 for a session request without the CSRF
    token, 404 when a path names an object, 422 for invalid parameters or body, 503 (with
    Retry-After) when the database dropped the request. A router's own entry is kept."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            params = operation.get("parameters", [])
            added: dict[int, dict[str, Any]] = {}
            if operation.get("requestBody"):
                added[400] = _error("Тело запроса не разобрать (не JSON-объект, не форма)")
            if operation.get("security"):
                added[401] = _error("Нужно войти: нет или истёк токен / сессия")
                by_session = any("CabinetSessionAuth" in s for s in operation["security"])
                if method in _UNSAFE and by_session:
                    added[403] = _error("Запрос с сессионной cookie без CSRF-токена")
            if any(p.get("in") == "path" for p in params):
                added[404] = _error("Нет такого объекта или он не ваш")
            if params or operation.get("requestBody"):
                added[422] = _error("Неверные параметры или поля запроса")
            # abonent.core.middleware.DatabaseFaultMiddleware, with Retry-After
            added[503] = _error("База данных на минуту недоступна: повторите запрос")
            # Ninja keys responses by int; a str key would be a second "400" in the JSON.
            responses = operation.setdefault("responses", {})
            present = {int(status) for status in responses if str(status).isdigit()}
            for status, response in added.items():
                if status not in present:
                    responses[status] = response
    return schema


class AbonentAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_errors(schema)
        return schema


api = AbonentAPI(
    title="Абонент API",
    version="1",
    description="Личный кабинет клиента теплоснабжающей компании: API для приложений и сайта.",
    renderer=ORJSONRenderer(),
    parser=ObjectBodyParser(),
    urls_namespace="api",
)


def error_response(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc)


_FIELD_MESSAGES = {
    "missing": gettext_lazy("Обязательное поле."),
    "string_too_long": gettext_lazy("Слишком длинное значение."),
    "string_too_short": gettext_lazy("Слишком короткое значение."),
    "json_invalid": gettext_lazy("Тело запроса — не корректный JSON."),
}


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        # ("body", "data", "first_name") → "first_name": the schema parameter is always `data`.
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form"):
            loc = loc[1:]
        if len(loc) > 1 and loc[0] in ("data", "filters"):
            loc = loc[1:]
        key = ".".join(loc) or "__all__"
        fields.setdefault(key, []).append(
            str(_FIELD_MESSAGES.get(err.get("type", ""), _("Неверное значение.")))
        )
    return error_response(
        request,
        DomainError(
            _("Проверьте введённые данные."), code="validation_error", fields=fields, status=422
        ),
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request,
        DomainError(_("Войдите в личный кабинет."), code="not_authenticated", status=401),
    )


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error_response(
        request, DomainError(_("Недостаточно прав."), code="forbidden", status=403)
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, DomainError(_("Не найдено."), code="not_found", status=404))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        403: "forbidden",
        405: "method_not_allowed",
        429: "too_many_requests",
    }
    messages = {
        400: _("Некорректный запрос."),
        403: _("Недостаточно прав или устарел CSRF-токен. Обновите страницу."),
        429: _("Слишком много запросов. Попробуйте позже."),
    }
    status = exc.status_code
    return error_response(
        request,
        DomainError(
            messages.get(status) or _("Некорректный запрос."),
            code=codes.get(status, "bad_request"),
            status=status,
        ),
    )


def _mount() -> None:
    from abonent.accounts.api import router as accounts_router
    from abonent.appeals.api import router as appeals_router
    from abonent.documents.api import router as documents_router
    from abonent.identity.api import auth_router, me_router
    from abonent.meters.api import router as meters_router
    from abonent.notices.api import router as notices_router
    from abonent.payments.api import router as payments_router

    api.add_router("/auth", auth_router)
    api.add_router("/me", me_router)
    api.add_router("", accounts_router)
    api.add_router("", documents_router)
    api.add_router("", meters_router)
    api.add_router("", appeals_router)
    api.add_router("", payments_router)
    api.add_router("", notices_router)


_mount()
