"""Validation shared by the identity services, and one-time codes: issue, check, take."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonent.core import tasks as delivery
from abonent.core.errors import (
    DomainError,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from abonent.identity.models import (
    CodeChannel,
    CodePurpose,
    User,
    VerificationCode,
)
from abonent.identity.phones import normalize_phone

NAME_RE = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё '\-]{0,59}$")
PIN_RE = re.compile(r"^\d{4,6}$")

CODE_WRONG = gettext_lazy("Неверный код. Проверьте цифры и попробуйте ещё раз.")
CODE_EXPIRED = gettext_lazy("Срок действия кода истёк. Запросите новый код.")
CODE_USED = gettext_lazy("Этот код уже использован. Запросите новый код.")
CODE_LOCKED = gettext_lazy("Слишком много неверных попыток. Запросите новый код.")
LOGIN_FAILED = gettext_lazy("Неверный логин или пароль.")


def _name(value: str, field: str, *, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if not value:
        if required:
            raise ValidationFailed(fields={field: [_("Заполните это поле.")]})
        return ""
    if not NAME_RE.match(value):
        raise ValidationFailed(
            fields={field: [_("Только буквы, пробел, дефис и апостроф, до 60 знаков.")]}
        )
    return value


def _email(value: str, field: str = "email") -> str:
    value = (value or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        msg = _("Укажите e-mail в формате name@example.ru.")
        raise ValidationFailed(msg, code="invalid_email", fields={field: [msg]}) from exc
    return value


def _phone(value: str, field: str = "phone") -> str:
    try:
        return normalize_phone(value or "")
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=exc.code, fields={field: [exc.message]}) from exc


def _login_target(login: str) -> tuple[str, str]:
    """(channel, normalized target) for a phone or an e-mail typed by the customer."""
    login = (login or "").strip()
    if not login:
        raise ValidationFailed(fields={"login": [_("Укажите телефон или e-mail.")]})
    if "@" in login:
        return CodeChannel.EMAIL, _email(login, "login")
    return CodeChannel.SMS, _phone(login, "login")


def _new_password(password: str, confirm: str, user: User, *, field: str = "password") -> None:
    if password != confirm:
        msg = _("Пароли не совпадают.")
        raise ValidationFailed(msg, code="password_mismatch", fields={f"{field}_confirm": [msg]})
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed(
            " ".join(exc.messages), code="weak_password", fields={field: list(exc.messages)}
        ) from exc


def _hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _code_hash(public_id: str, code: str) -> str:
    return salted_hmac(
        "abonent.identity.code", f"{public_id}:{code}", algorithm="sha256"
    ).hexdigest()


# (e-mail subject, message). "{code}" is filled in with str.format once translated: keep it.
CODE_TEXTS = {
    CodePurpose.SIGNUP: (
        gettext_lazy("Код регистрации"),
        gettext_lazy("Код регистрации в Абоненте: {code}. Никому его не сообщайте."),
    ),
    CodePurpose.PASSWORD_RESET: (
        gettext_lazy("Восстановление пароля"),
        gettext_lazy("Код для восстановления пароля в Абоненте: {code}. Никому его не сообщайте."),
    ),
    CodePurpose.CHANGE_PHONE: (
        gettext_lazy("Подтверждение номера"),
        gettext_lazy("Код подтверждения номера в Абоненте: {code}."),
    ),
    CodePurpose.CHANGE_EMAIL: (
        gettext_lazy("Подтверждение e-mail"),
        gettext_lazy("Код подтверждения e-mail в Абоненте: {code}."),
    ),
}
TAKEN_TEXT = gettext_lazy(
    # Translators: keep {code} and {what} (TAKEN_WHAT_PHONE or TAKEN_WHAT_EMAIL) as they are.
    "Код {code}. Этот {what} уже зарегистрирован в Абоненте: войдите с паролем "
    "или восстановите его. Если это были не вы, ничего делать не нужно."
)
TAKEN_WHAT_PHONE = gettext_lazy("номер")
TAKEN_WHAT_EMAIL = gettext_lazy("адрес")


@dataclass(frozen=True)
class CodeTicket:
    """What the client needs to confirm a code: the request id and when to allow a resend."""

    request_id: str
    channel: str
    target: str
    expires_at: datetime
    resend_at: datetime


def _ticket(vc: VerificationCode) -> CodeTicket:
    return CodeTicket(
        request_id=str(vc.public_id),
        channel=vc.channel,
        target=vc.target,
        expires_at=vc.expires_at,
        resend_at=vc.created_at + timedelta(seconds=settings.VERIFICATION_RESEND_INTERVAL_SECONDS),
    )


def _code_issue(
    *,
    purpose: str,
    channel: str,
    target: str,
    now: datetime,
    ip: str | None,
    user: User | None = None,
    payload: dict[str, Any] | None = None,
    deliver: bool = True,
    text: str | None = None,
) -> VerificationCode:
    """Create a code and send it on commit, within the resend limits per target and per IP."""
    hour_ago = now - timedelta(hours=1)
    interval = timedelta(seconds=settings.VERIFICATION_RESEND_INTERVAL_SECONDS)
    recent = VerificationCode.objects.filter(target=target, created_at__gt=hour_ago)
    last = recent.order_by("-created_at").first()
    if last is not None and last.created_at + interval > now:
        wait = int((last.created_at + interval - now).total_seconds()) + 1
        raise TooManyRequests(
            _("Новый код можно запросить через %(wait)s с.") % {"wait": wait},
            code="code_resend_too_soon",
            retry_after=wait,
        )
    if recent.count() >= settings.VERIFICATION_MAX_PER_HOUR or (
        ip
        and VerificationCode.objects.filter(ip=ip, created_at__gt=hour_ago).count()
        >= settings.VERIFICATION_MAX_PER_HOUR * 2
    ):
        raise TooManyRequests(
            _("Слишком много запросов кода. Попробуйте через час."),
            code="code_limit_reached",
            retry_after=3600,
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    vc = VerificationCode(
        purpose=purpose,
        channel=channel,
        target=target,
        user=user,
        payload=payload or {},
        ip=ip,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.VERIFICATION_CODE_TTL_SECONDS),
    )
    vc.code_hash = _code_hash(str(vc.public_id), code)
    vc.save()
    if deliver:
        subject, template = CODE_TEXTS[CodePurpose(purpose)]
        # The job's arguments go through JSON: plain strings, in the request's language.
        title = str(subject)
        body = str(text or template).format(code=code)
        if channel == CodeChannel.SMS:
            transaction.on_commit(lambda: delivery.sms_send.delay(target, body))
        else:
            transaction.on_commit(lambda: delivery.email_send.delay(target, title, body))
    return vc


def _code_check(*, request_id: str, purpose: str, code: str, now: datetime) -> None:
    """Check a code; a wrong one counts against the code's tries even though we then raise."""
    error: DomainError | None = None
    with transaction.atomic():
        vc = (
            VerificationCode.objects.select_for_update()
            .filter(public_id=_uuid(request_id), purpose=purpose)
            .first()
        )
        if vc is None:
            error = NotFound(
                _("Запрос кода не найден. Запросите новый код."), code="code_not_found"
            )
        elif vc.consumed_at is not None:
            error = ValidationFailed(CODE_USED, code="code_used", fields={"code": [CODE_USED]})
        elif vc.expires_at <= now:
            error = ValidationFailed(
                CODE_EXPIRED, code="code_expired", fields={"code": [CODE_EXPIRED]}
            )
        elif vc.attempts >= settings.VERIFICATION_CODE_MAX_ATTEMPTS:
            error = TooManyRequests(CODE_LOCKED, code="code_attempts_exceeded")
        elif not constant_time_compare(
            _code_hash(str(vc.public_id), (code or "").strip()), vc.code_hash
        ):
            vc.attempts += 1
            vc.save(update_fields=["attempts"])
            if vc.attempts >= settings.VERIFICATION_CODE_MAX_ATTEMPTS:
                error = TooManyRequests(CODE_LOCKED, code="code_attempts_exceeded")
            else:
                left = settings.VERIFICATION_CODE_MAX_ATTEMPTS - vc.attempts
                msg = str(CODE_WRONG) + " " + _("Осталось попыток: %(left)s.") % {"left": left}
                error = ValidationFailed(msg, code="code_invalid", fields={"code": [msg]})
    if error is not None:
        raise error


def _code_take(*, request_id: str, purpose: str, now: datetime) -> VerificationCode:
    """Inside the caller's transaction: lock a checked code and mark it used, exactly once."""
    vc = (
        VerificationCode.objects.select_for_update()
        .filter(public_id=_uuid(request_id), purpose=purpose, consumed_at__isnull=True)
        .first()
    )
    if vc is None:
        raise ValidationFailed(CODE_USED, code="code_used", fields={"code": [CODE_USED]})
    vc.consumed_at = now
    vc.save(update_fields=["consumed_at"])
    return vc


def _uuid(value: str) -> str:
    value = (value or "").strip()
    if not re.fullmatch(r"[0-9a-fA-F-]{32,36}", value):
        return "00000000-0000-0000-0000-000000000000"
    return value


def code_resend(*, request_id: str, now: datetime, ip: str | None) -> CodeTicket:
    """Send a fresh code for the same request (same purpose, target and pending data)."""
    old = VerificationCode.objects.filter(
        public_id=_uuid(request_id), consumed_at__isnull=True
    ).first()
    if old is None:
        raise NotFound(_("Запрос кода не найден. Начните заново."), code="code_not_found")
    with transaction.atomic():
        vc = _code_issue(
            purpose=old.purpose,
            channel=old.channel,
            target=old.target,
            user=old.user,
            payload=old.payload,
            now=now,
            ip=ip,
            deliver=old.payload.get("deliver", True),
            text=old.payload.get("text"),
        )
        # The old code stops working once a new one is sent.
        VerificationCode.objects.filter(pk=old.pk).update(consumed_at=now)
    return _ticket(vc)


def codes_purge(*, now: datetime) -> int:
    """Delete codes that can no longer be used or count toward a limit (older than a day)."""
    deleted, _ = VerificationCode.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    return deleted
