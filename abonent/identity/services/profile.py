"""Profile, contacts, and deletion of the account at the customer's request."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonent.accounts.services import account_links_remove_all
from abonent.core.errors import (
    Conflict,
    NotFound,
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
    CodeTicket,
    _code_check,
    _code_issue,
    _code_take,
    _email,
    _name,
    _new_password,
    _phone,
    _ticket,
    _uuid,
)
from abonent.identity.services.devices import _devices_revoke
from abonent.privacy.services import personal_data_erase


def profile_update(
    *,
    user: User,
    first_name: str,
    patronymic: str,
    last_name: str,
    now: datetime,
    ip: str | None = None,
) -> User:
    before = {
        "first_name": user.first_name,
        "patronymic": user.patronymic,
        "last_name": user.last_name,
    }
    user.first_name = _name(first_name, "first_name")
    user.patronymic = _name(patronymic, "patronymic", required=False)
    user.last_name = _name(last_name, "last_name", required=False)
    after = {
        "first_name": user.first_name,
        "patronymic": user.patronymic,
        "last_name": user.last_name,
    }
    if before != after:
        with transaction.atomic():
            user.save(update_fields=["first_name", "patronymic", "last_name"])
            audit_record(
                now=now,
                action="user.profile_update",
                actor=user,
                target=user,
                ip=ip,
                data={"before": before, "after": after},
            )
    return user


CONTACT_TAKEN_TEXT = gettext_lazy(
    "Кто-то указал этот контакт для другой учётной записи в Абоненте. Он уже привязан к вашей "
    "учётной записи, поэтому ничего не изменится. Если это были не вы, ничего делать не нужно."
)


def contact_change_start(
    *, user: User, phone: str | None = None, email: str | None = None, now: datetime, ip: str | None
) -> CodeTicket:
    """Send a code to the new phone or e-mail; it changes only once the code is confirmed."""
    if phone:
        purpose, channel, target = CodePurpose.CHANGE_PHONE, CodeChannel.SMS, _phone(phone)
        current = user.phone
    elif email:
        purpose, channel, target = CodePurpose.CHANGE_EMAIL, CodeChannel.EMAIL, _email(email)
        current = user.email
    else:
        raise ValidationFailed(_("Укажите новый телефон или e-mail."), code="contact_required")
    if target == current:
        msg = _("Это ваш текущий контакт.")
        raise ValidationFailed(
            msg, code="contact_unchanged", fields={"phone" if phone else "email": [msg]}
        )
    # A contact that belongs to someone else gets the same answer as a free one (an account
    # must not be a way to find out who is registered): its owner receives a notice instead
    # of a code, so the change cannot be confirmed, and the limits count it like any code.
    taken = user_by_login(login=target) is not None
    with transaction.atomic():
        vc = _code_issue(
            purpose=purpose,
            channel=channel,
            target=target,
            user=user,
            payload={"taken": True} if taken else None,
            now=now,
            ip=ip,
            text=str(CONTACT_TAKEN_TEXT) if taken else None,
        )
    return _ticket(vc)


def contact_change_confirm(
    *, user: User, request_id: str, code: str, now: datetime, ip: str | None
) -> User:
    vc = VerificationCode.objects.filter(public_id=_uuid(request_id), user=user).first()
    if vc is None or vc.purpose not in (CodePurpose.CHANGE_PHONE, CodePurpose.CHANGE_EMAIL):
        raise NotFound(_("Запрос кода не найден. Запросите новый код."), code="code_not_found")
    _code_check(request_id=request_id, purpose=vc.purpose, code=code, now=now)
    field = "phone" if vc.purpose == CodePurpose.CHANGE_PHONE else "email"
    try:
        with transaction.atomic():
            vc = _code_take(request_id=request_id, purpose=vc.purpose, now=now)
            before = getattr(user, field)
            setattr(user, field, vc.target)
            user.save(update_fields=[field])
            audit_record(
                now=now,
                action=f"user.{field}_change",
                actor=user,
                target=user,
                ip=ip,
                data={"before": before, "after": vc.target},
            )
    except IntegrityError as exc:
        user.refresh_from_db()
        msg = _("Этот телефон или e-mail уже привязан к другому пользователю.")
        raise Conflict(msg, code="contact_taken", fields={field: [msg]}) from exc
    return user


def user_delete(*, user: User, password: str, now: datetime, ip: str | None) -> None:
    """Delete the account at the customer's request (152-ФЗ): personal data is erased.

    The row stays, anonymised, so that payments and audit entries keep their reference;
    what happens to the rest is `privacy.services.personal_data_erase` (decision 0012).
    """
    if not user.check_password(password or ""):
        msg = _("Пароль указан неверно.")
        raise ValidationFailed(msg, code="wrong_password", fields={"password": [msg]})
    with transaction.atomic():
        _devices_revoke(Device.objects.filter(user=user), now=now)
        Device.objects.filter(user=user).delete()
        VerificationCode.objects.filter(user=user).delete()
        logins = [x for x in (user.phone, user.email) if x]
        VerificationCode.objects.filter(target__in=logins).delete()
        account_links_remove_all(user=user)
        erased = personal_data_erase(user=user, now=now)
        user.phone = None
        user.email = None
        user.first_name = "Удалённый"
        user.patronymic = ""
        user.last_name = "пользователь"
        user.set_unusable_password()
        user.is_active = False
        user.deleted_at = now
        user.session_stamp = new_session_stamp()
        user.save()
        audit_record(now=now, action="user.delete", actor=user, target=user, ip=ip, data=erased)


def password_change(
    *,
    user: User,
    current_password: str,
    new_password: str,
    new_password_confirm: str,
    sign_out_others: bool,
    current_device_id: int | None,
    now: datetime,
    ip: str | None,
) -> User:
    """Change the password; with sign_out_others every other session and app is signed out."""
    if not user.check_password(current_password or ""):
        msg = _("Текущий пароль указан неверно.")
        raise ValidationFailed(msg, code="wrong_password", fields={"current_password": [msg]})
    _new_password(new_password, new_password_confirm, user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        fields = ["password"]
        if sign_out_others:
            user.session_stamp = new_session_stamp()
            fields.append("session_stamp")
            _devices_revoke(
                Device.objects.filter(user=user).exclude(pk=current_device_id or 0), now=now
            )
        user.save(update_fields=fields)
        audit_record(
            now=now,
            action="user.password_change",
            actor=user,
            target=user,
            ip=ip,
            data={"sign_out_others": sign_out_others},
        )
    return user


def profile_change(
    *,
    user: User,
    first_name: str | None = None,
    patronymic: str | None = None,
    last_name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    now: datetime,
    ip: str | None,
) -> tuple[User, CodeTicket | None]:
    """A partial update: names change at once, a new phone or e-mail waits for its code.

    All or nothing: a bad name sends no code, a taken phone changes no name.
    """
    if phone and email:
        raise ValidationFailed(
            _("Меняйте телефон и e-mail по очереди: на каждый придёт свой код."),
            code="one_contact_at_a_time",
        )
    ticket = None
    with transaction.atomic():
        if first_name is not None or patronymic is not None or last_name is not None:
            user = profile_update(
                user=user,
                first_name=user.first_name if first_name is None else first_name,
                patronymic=user.patronymic if patronymic is None else patronymic,
                last_name=user.last_name if last_name is None else last_name,
                now=now,
                ip=ip,
            )
        if phone is not None or email is not None:
            ticket = contact_change_start(user=user, phone=phone, email=email, now=now, ip=ip)
    return user, ticket
