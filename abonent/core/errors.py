"""One error family for the whole domain: a machine code and a Russian message.

Services raise these; the API renders them as {"code", "message", "fields"} with a 4xx
and the web views show the message next to the form.

Messages go through gettext: the defaults here are lazy, and whatever a service passes in
(lazy or not) is rendered to a plain `str` when the error is raised, in the request's
language, so the JSON renderer and the forms never see a lazy proxy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    code = "error"
    status = 400
    default_message: StrOrPromise = _("Не удалось выполнить операцию.")

    def __init__(
        self,
        message: StrOrPromise | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[StrOrPromise]] | None = None,
        retry_after: int | None = None,
        status: int | None = None,
    ) -> None:
        self.message: str = (str(message) if message is not None else "") or str(
            self.default_message
        )
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields: dict[str, list[str]] = {
            name: [str(m) for m in messages] for name, messages in (fields or {}).items()
        }
        self.retry_after = retry_after
        super().__init__(self.message)

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {name: [str(m) for m in msgs] for name, msgs in self.fields.items()},
        }


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422
    default_message = _("Проверьте введённые данные.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Не найдено.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = _("Недостаточно прав.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    default_message = _("Войдите в личный кабинет.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("Конфликт с текущим состоянием.")


class TooManyRequests(DomainError):
    code = "too_many_requests"
    status = 429
    default_message = _("Слишком много попыток. Попробуйте позже.")
