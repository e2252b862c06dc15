"""One error family for the whole domain: a machine code and a Russian message.

Services raise these; the API renders them as {"code", "message", "fields"} with a 4xx
and the web views show the message next to the form.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    status = 400
    default_message = "Не удалось выполнить операцию."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}
        self.retry_after = retry_after
        super().__init__(self.message)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422
    default_message = "Проверьте введённые данные."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Не найдено."


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = "Недостаточно прав."


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    default_message = "Войдите в личный кабинет."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = "Конфликт с текущим состоянием."


class TooManyRequests(DomainError):
    code = "too_many_requests"
    status = 429
    default_message = "Слишком много попыток. Попробуйте позже."
