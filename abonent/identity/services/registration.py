"""Sign-up by phone or e-mail with a code, and password reset by code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from abonent.core.errors import (
    Conflict,
    ValidationFailed,
)
from abonent.core.services import audit_record
from abonent.identity.models import (
    CodeChannel,
    CodePurpose,
    Device,
    User,
    VerificationCode,
    new_session_stamp,
)
from abonent.identity.selectors import user_by_login
from abonent.identity.services.codes import (
    CODE_WRONG,
    TAKEN_TEXT,
    TAKEN_WHAT_EMAIL,
    TAKEN_WHAT_PHONE,
    CodeTicket,
    _code_check,
    _code_issue,
    _code_take,
    _login_target,
    _name,
    _new_password,
    _ticket,
    _uuid,
)
from abonent.identity.services.devices import _devices_revoke


def signup_start(
    *,
    login: str,
    first_name: str,
    patronymic: str,
    password: str,
    password_confirm: str,
    consent: bool,
    now: datetime,
    ip: str | None,
) -> CodeTicket:
    """Validate the form and send a code to the phone or e-mail.

    A login that is taken gets the same answer (so nobody learns who is registered);
    its owner receives a message saying so, and confirming that code says so too.
    """
    channel, target = _login_target(login)
    first = _name(first_name, "first_name")
    middle = _name(patronymic, "patronymic", required=False)
    if not consent:
        msg = _("Нужно согласие с правилами и на обработку персональных данных.")
        raise ValidationFailed(msg, code="consent_required", fields={"consent": [msg]})
    probe = User(first_name=first, patronymic=middle)
    setattr(probe, "phone" if channel == CodeChannel.SMS else "email", target)
    _new_password(password, password_confirm, probe)
    taken = user_by_login(login=target) is not None
    payload: dict[str, Any] = {
        "first_name": first,
        "patronymic": middle,
        "password": make_password(password),
        "consent_version": settings.CONSENT_VERSION,
        "consent_at": now.isoformat(),
        "taken": taken,
    }
    if taken:
        what = TAKEN_WHAT_PHONE if channel == CodeChannel.SMS else TAKEN_WHAT_EMAIL
        payload["text"] = str(TAKEN_TEXT).replace("{what}", str(what))
    with transaction.atomic():
        vc = _code_issue(
            purpose=CodePurpose.SIGNUP,
            channel=channel,
            target=target,
            payload=payload,
            now=now,
            ip=ip,
            text=payload.get("text"),
        )
    return _ticket(vc)


def signup_confirm(*, request_id: str, code: str, now: datetime, ip: str | None) -> User:
    _code_check(request_id=request_id, purpose=CodePurpose.SIGNUP, code=code, now=now)
    taken_msg = _("Этот телефон или e-mail уже зарегистрирован. Войдите или восстановите пароль.")
    try:
        with transaction.atomic():
            vc = _code_take(request_id=request_id, purpose=CodePurpose.SIGNUP, now=now)
            data = vc.payload
            if data.get("taken") or user_by_login(login=vc.target) is not None:
                raise IntegrityError("login taken")
            user = User(
                first_name=data["first_name"],
                patronymic=data["patronymic"],
                password=data["password"],
                consent_version=data["consent_version"],
                consent_at=datetime.fromisoformat(data["consent_at"]),
            )
            if vc.channel == CodeChannel.SMS:
                user.phone = vc.target
            else:
                user.email = vc.target
            user.save()
            audit_record(now=now, action="user.signup", actor=user, target=user, ip=ip)
    except IntegrityError as exc:
        raise Conflict(taken_msg, code="login_taken", fields={"login": [taken_msg]}) from exc
    return user


def password_reset_start(*, login: str, now: datetime, ip: str | None) -> CodeTicket:
    """Send a reset code. An unknown login gets the same answer and a code nobody receives."""
    channel, target = _login_target(login)
    user = user_by_login(login=target)
    with transaction.atomic():
        vc = _code_issue(
            purpose=CodePurpose.PASSWORD_RESET,
            channel=channel,
            target=target,
            user=user,
            payload={"deliver": user is not None},
            now=now,
            ip=ip,
            deliver=user is not None,
        )
    return _ticket(vc)


def password_reset_confirm(
    *,
    request_id: str,
    code: str,
    password: str,
    password_confirm: str,
    now: datetime,
    ip: str | None,
) -> User:
    """Set a new password by code; every device is signed out and the login lock lifted."""
    vc = (
        VerificationCode.objects.filter(
            public_id=_uuid(request_id), purpose=CodePurpose.PASSWORD_RESET
        )
        .select_related("user")
        .first()
    )
    # Validated the same way for an unknown login, so the answer does not tell who exists.
    _new_password(password, password_confirm, vc.user if vc and vc.user else User())
    _code_check(request_id=request_id, purpose=CodePurpose.PASSWORD_RESET, code=code, now=now)
    with transaction.atomic():
        vc = _code_take(request_id=request_id, purpose=CodePurpose.PASSWORD_RESET, now=now)
        user = None
        if vc.user_id is not None:
            user = User.objects.select_for_update().filter(pk=vc.user_id, is_active=True).first()
        if user is None:
            raise ValidationFailed(CODE_WRONG, code="code_invalid", fields={"code": [CODE_WRONG]})
        user.set_password(password)
        user.session_stamp = new_session_stamp()
        user.save(update_fields=["password", "session_stamp"])
        _devices_revoke(Device.objects.filter(user=user), now=now)
        audit_record(now=now, action="user.password_reset", actor=user, target=user, ip=ip)
    _axes_reset(user)
    return user


def _axes_reset(user: User) -> None:
    from axes.utils import reset

    for login in (user.phone, user.email):
        if login:
            reset(username=login)
