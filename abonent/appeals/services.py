"""Appeals writes: open an appeal, send messages (both sides), take, hand over, close, reopen,
rate, read marks and call-back requests.

Every write locks the appeal row, so messages of one appeal get ids in commit order (clients
catch up with «after id N»). Files are checked before anything is stored, saved to private
storage, and removed again if the transaction fails. Live delivery and badges go out after
commit; a notification is stored for a recipient who does not have the thread open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink
from abonent.accounts.selectors import account_link_for_user, branch_for_user
from abonent.appeals import hours, realtime, selectors, uploads
from abonent.appeals.models import (
    Appeal,
    AppealStatus,
    Attachment,
    CallbackRequest,
    CallbackStatus,
    Category,
    Message,
    ReadMark,
    Side,
)
from abonent.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from abonent.core.services import audit_record
from abonent.identity.phones import normalize_phone
from abonent.notices.models import NotificationKind
from abonent.notices.services import NotificationDraft, notifications_create

SUBJECT_MAX = 150
RATING_COMMENT_MAX = 500


def _text(value: str | None, *, field: str, required: bool, limit: int, empty: str) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise ValidationFailed(empty, code="empty", fields={field: [empty]})
    if len(text) > limit:
        message = _("Не больше %(n)d символов (сейчас %(len)d).") % {"n": limit, "len": len(text)}
        raise ValidationFailed(message, code="too_long", fields={field: [message]})
    return text


def _body(value: str | None, *, has_files: bool) -> str:
    return _text(
        value,
        field="body",
        required=not has_files,
        limit=settings.APPEALS_MESSAGE_MAX_LENGTH,
        empty=_("Напишите сообщение или приложите файл."),
    )


def _lock(appeal_id: int, *, user: Any | None = None) -> Appeal:
    rows = Appeal.objects.select_for_update().filter(pk=appeal_id)
    if user is not None:
        rows = rows.filter(user=user)
    appeal = rows.first()
    if appeal is None:
        raise NotFound(_("Обращение не найдено."), code="appeal_not_found")
    return appeal


def operators_group_ensure() -> Any:
    """The «Операторы» group with the console permission and the operator role's back-office
    permissions (identity/roles.py; the migrations make it, a flushed test database or a fresh
    demo needs it again)."""
    from abonent.identity.roles import OPERATOR, role_ensure

    return role_ensure(OPERATOR)


def _require_operator(user: Any) -> None:
    if not selectors.is_operator(user):
        raise PermissionDenied(_("Только для специалистов."), code="not_an_operator")


def _mark(appeal: Appeal, side: str, last_id: int, now: datetime) -> None:
    mark, created = ReadMark.objects.get_or_create(
        appeal=appeal, side=side, defaults={"last_read_id": last_id, "at": now}
    )
    if not created and last_id > mark.last_read_id:
        mark.last_read_id = last_id
        mark.at = now
        mark.save(update_fields=["last_read_id", "at"])


def _attach(message: Message, files: list[uploads.CheckedFile], paths: list[str]) -> None:
    rows = Attachment.objects.bulk_create(
        Attachment(
            message=message,
            path=path,
            name=f.name,
            size=f.size,
            content_type=f.kind.content_type,
            sha256=f.sha256,
            created_at=message.created_at,
        )
        for f, path in zip(files, paths, strict=True)
    )
    # What the thread shows right after: no query for the attachments again.
    message._prefetched_objects_cache = {"attachments": rows}  # type: ignore[attr-defined]


def _publish(message: Message) -> None:
    """After commit: the message to the open sockets (the payload is built now, in the
    transaction, from the rows just written — nothing is read again)."""
    payload = selectors.message_payload(message)
    appeal_id, internal = message.appeal_id, message.is_internal
    transaction.on_commit(lambda: realtime.broadcast(appeal_id, payload, internal=internal))


def _publish_status(appeal: Appeal) -> None:
    appeal_id = appeal.pk

    def send() -> None:
        fresh = Appeal.objects.select_related("assignee").filter(pk=appeal_id).first()
        if fresh is not None:
            realtime.broadcast(appeal_id, selectors.status_payload(fresh))

    transaction.on_commit(send)


def _schedule(appeal_or_branch: Any, now: datetime) -> hours.Schedule:
    branch = getattr(appeal_or_branch, "branch", appeal_or_branch)
    return selectors.schedule_for_branch(branch, around=now.date())


# ---------------------------------------------------------------- opening an appeal


def appeal_create(
    *,
    user: Any,
    category_id: int | None,
    account_id: int | None,
    subject: str,
    body: str,
    files: Sequence[uploads.UploadLike],
    now: datetime,
    ip: str | None = None,
) -> Appeal:
    """A new appeal with its first message. The ЛС is asked only when the customer has several
    (one is taken as it is; none is fine). Outside working hours an automatic first reply says
    when specialists are back, in the branch's local time. The deadline counts working hours
    of the category's SLA."""
    category = Category.objects.filter(pk=category_id or 0, is_active=True).first()
    if category is None:
        message = _("Выберите тему обращения.")
        raise ValidationFailed(message, code="category_required", fields={"category": [message]})
    links = list(AccountLink.objects.filter(user=user).select_related("account__branch")[:2])
    account = None
    if account_id:
        account = account_link_for_user(user=user, account_id=account_id).account
    elif len(links) > 1:
        message = _("Выберите лицевой счёт, о котором обращение.")
        raise ValidationFailed(message, code="account_required", fields={"account": [message]})
    elif links:
        account = links[0].account
    subject = _text(
        subject,
        field="subject",
        required=True,
        limit=SUBJECT_MAX,
        empty=_("Напишите тему обращения."),
    )
    text = _text(
        body,
        field="body",
        required=True,
        limit=settings.APPEALS_MESSAGE_MAX_LENGTH,
        empty=_("Напишите, в чём вопрос."),
    )
    checked = uploads.check_files(files)
    branch = account.branch if account is not None else branch_for_user(user_id=user.pk)
    if branch is None:
        raise Conflict(_("Нет филиала, который принял бы обращение."), code="no_branch")
    schedule = _schedule(branch, now)
    paths = uploads.store(checked, now=now)
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                user=user,
                branch=branch,
                account=account,
                category=category,
                subject=subject,
                created_at=now,
                last_message_at=now,
                deadline_at=hours.add_working_hours(schedule, now, category.sla_hours),
            )
            first = Message.objects.create(appeal=appeal, author=user, body=text, created_at=now)
            _attach(first, checked, paths)
            _mark(appeal, Side.CUSTOMER, first.pk, now)
            if not hours.is_open(schedule, now):
                Message.objects.create(
                    appeal=appeal,
                    is_operator=True,
                    is_auto=True,
                    body=hours.outside_hours_reply(schedule, now),
                    created_at=now,
                )
            audit_record(
                now=now,
                action="appeal.create",
                actor=user,
                target=appeal,
                ip=ip,
                data={"category": category.pk, "files": len(checked)},
            )
    except Exception:
        uploads.discard(paths)
        raise
    return appeal


# ---------------------------------------------------------------- messages


def _notify_customer(appeal: Appeal, message: Message, now: datetime) -> None:
    if realtime.is_online(appeal.pk, Side.CUSTOMER):
        return
    preview = message.body[:200] or _("Специалист прислал файл.")
    notifications_create(
        drafts=[
            NotificationDraft(
                user_id=appeal.user_id,
                kind=NotificationKind.APPEAL,
                title=_("Ответ по обращению № %(n)d") % {"n": appeal.pk},
                body=preview,
                link=f"/appeals/{appeal.pk}/",
                dedupe_key=f"appeal-message:{message.pk}",
            )
        ],
        now=now,
    )


def _notify_operator(appeal: Appeal, message: Message, now: datetime) -> None:
    if appeal.assignee_id is None or realtime.is_online(appeal.pk, Side.OPERATOR):
        return
    notifications_create(
        drafts=[
            NotificationDraft(
                user_id=appeal.assignee_id,
                kind=NotificationKind.APPEAL,
                title=_("Новое сообщение в обращении № %(n)d") % {"n": appeal.pk},
                body=message.body[:200],
                link=f"/operator/appeals/{appeal.pk}/",
                dedupe_key=f"appeal-message:{message.pk}",
            )
        ],
        now=now,
    )


def _writable(appeal: Appeal, *, as_operator: bool) -> None:
    if appeal.is_closed:
        raise Conflict(
            _("Обращение закрыто. Откройте его снова, чтобы написать.")
            if not as_operator
            else _("Обращение закрыто: клиент может открыть его снова."),
            code="appeal_closed",
        )


def message_send(
    *,
    appeal_id: int,
    user: Any,
    body: str,
    files: Sequence[uploads.UploadLike],
    now: datetime,
    as_operator: bool = False,
    internal: bool = False,
    waiting_customer: bool = False,
    ip: str | None = None,
) -> Message:
    """A message in a thread. A customer writes only to their own appeal (another's is 404);
    an operator's public answer sets «answered» (or «waiting for the customer»), an internal
    note changes nothing the customer sees. The message is stored before it is broadcast."""
    if as_operator:
        _require_operator(user)
    elif internal or waiting_customer:
        raise PermissionDenied(_("Только для специалистов."), code="not_an_operator")
    # Access and state first: another's appeal is «not found» whatever the files are.
    _writable(
        selectors.appeal_for_operator(appeal_id=appeal_id)
        if as_operator
        else selectors.appeal_for_customer(user=user, appeal_id=appeal_id),
        as_operator=as_operator,
    )
    text = _body(body, has_files=bool(files))
    checked = uploads.check_files(files)
    paths = uploads.store(checked, now=now)
    try:
        with transaction.atomic():
            appeal = _lock(appeal_id, user=None if as_operator else user)
            _writable(appeal, as_operator=as_operator)
            message = Message.objects.create(
                appeal=appeal,
                author=user,
                is_operator=as_operator,
                is_internal=internal,
                body=text,
                created_at=now,
            )
            _attach(message, checked, paths)
            fields = ["last_message_at"]
            appeal.last_message_at = now
            status_before = appeal.status
            if as_operator and not internal:
                if appeal.first_answered_at is None:
                    appeal.first_answered_at = now
                    fields.append("first_answered_at")
                if appeal.assignee_id is None:
                    appeal.assignee = user
                    fields.append("assignee")
                appeal.status = (
                    AppealStatus.WAITING_CUSTOMER if waiting_customer else AppealStatus.ANSWERED
                )
            elif not as_operator and appeal.status in (
                AppealStatus.ANSWERED,
                AppealStatus.WAITING_CUSTOMER,
            ):
                appeal.status = AppealStatus.IN_PROGRESS if appeal.assignee_id else AppealStatus.NEW
                schedule = _schedule(appeal, now)
                appeal.deadline_at = hours.add_working_hours(
                    schedule, now, appeal.category.sla_hours
                )
                fields.append("deadline_at")
            if appeal.status != status_before:
                fields.append("status")
            appeal.save(update_fields=fields)
            _mark(appeal, Side.OPERATOR if as_operator else Side.CUSTOMER, message.pk, now)
            if as_operator and not internal:
                _notify_customer(appeal, message, now)
            elif not as_operator:
                _notify_operator(appeal, message, now)
            audit_record(
                now=now,
                action="appeal.note" if internal else "appeal.message",
                actor=user,
                subject_user_id=appeal.user_id,
                target=appeal,
                ip=ip,
                data={"message": message.pk, "files": len(checked)},
            )
            _publish(message)
            if appeal.status != status_before:
                _publish_status(appeal)
            if as_operator and not internal:
                customer_id, appeal_pk = appeal.user_id, appeal.pk
                transaction.on_commit(
                    lambda: realtime.user_event(
                        customer_id, {"kind": "appeal_message", "appeal_id": appeal_pk}
                    )
                )
    except Exception:
        uploads.discard(paths)
        raise
    return message


def appeal_mark_read(
    *, appeal_id: int, user: Any, last_id: int | None, now: datetime, as_operator: bool = False
) -> int:
    """Move this side's read mark forward (never back) to `last_id`, or to the end of the
    thread. Returns the mark."""
    if as_operator:
        _require_operator(user)
    with transaction.atomic():
        appeal = _lock(appeal_id, user=None if as_operator else user)
        newest = Message.objects.filter(appeal=appeal).aggregate(m=Max("pk"))["m"] or 0
        target = newest if last_id is None else max(0, min(int(last_id), newest))
        side = Side.OPERATOR if as_operator else Side.CUSTOMER
        _mark(appeal, side, target, now)
        return selectors.read_mark(appeal=appeal, side=side)


# ---------------------------------------------------------------- the operators' actions


def appeal_take(*, appeal_id: int, operator: Any, now: datetime) -> Appeal:
    _require_operator(operator)
    with transaction.atomic():
        appeal = _lock(appeal_id)
        if appeal.is_closed:
            raise Conflict(_("Обращение закрыто."), code="appeal_closed")
        if appeal.assignee_id not in (None, operator.pk):
            raise Conflict(
                _("Обращение уже взял другой специалист: передать его может он сам."),
                code="appeal_taken",
            )
        appeal.assignee = operator
        if appeal.status == AppealStatus.NEW:
            appeal.status = AppealStatus.IN_PROGRESS
        appeal.save(update_fields=["assignee", "status"])
        audit_record(
            now=now,
            action="appeal.take",
            actor=operator,
            subject_user_id=appeal.user_id,
            target=appeal,
        )
        _publish_status(appeal)
    return appeal


def appeal_hand_over(
    *, appeal_id: int, operator: Any, to_user_id: int, note: str, now: datetime
) -> Appeal:
    """Pass an appeal to a colleague, with an internal note the customer never sees."""
    _require_operator(operator)
    target = next((u for u in selectors.operator_list() if u.pk == to_user_id), None)
    if target is None:
        error = _("Выберите специалиста из списка.")
        raise ValidationFailed(error, code="not_an_operator", fields={"to": [error]})
    note = _text(note, field="note", required=False, limit=1000, empty="")
    with transaction.atomic():
        appeal = _lock(appeal_id)
        if appeal.is_closed:
            raise Conflict(_("Обращение закрыто."), code="appeal_closed")
        appeal.assignee = target
        if appeal.status == AppealStatus.NEW:
            appeal.status = AppealStatus.IN_PROGRESS
        appeal.save(update_fields=["assignee", "status"])
        text = _("%(from)s передал(а) обращение: %(to)s.") % {
            "from": operator,
            "to": target,
        }
        message = Message.objects.create(
            appeal=appeal,
            author=operator,
            is_operator=True,
            is_internal=True,
            body=f"{text}\n{note}".strip(),
            created_at=now,
        )
        if target.pk != operator.pk:
            notifications_create(
                drafts=[
                    NotificationDraft(
                        user_id=target.pk,
                        kind=NotificationKind.APPEAL,
                        title=_("Вам передано обращение № %(n)d") % {"n": appeal.pk},
                        body=note[:200],
                        link=f"/operator/appeals/{appeal.pk}/",
                        dedupe_key=f"appeal-handover:{message.pk}",
                    )
                ],
                now=now,
            )
        audit_record(
            now=now,
            action="appeal.hand_over",
            actor=operator,
            subject_user_id=appeal.user_id,
            target=appeal,
            data={"to": target.pk},
        )
        _publish(message)
        _publish_status(appeal)
    return appeal


# ---------------------------------------------------------------- closing, reopening, rating


def appeal_close(*, appeal_id: int, user: Any, now: datetime, as_operator: bool = False) -> Appeal:
    if as_operator:
        _require_operator(user)
    with transaction.atomic():
        appeal = _lock(appeal_id, user=None if as_operator else user)
        if appeal.is_closed:
            raise Conflict(_("Обращение уже закрыто."), code="appeal_closed")
        appeal.status = AppealStatus.CLOSED
        appeal.closed_at = now
        appeal.reopen_until = now + timedelta(days=selectors.reopen_days())
        appeal.save(update_fields=["status", "closed_at", "reopen_until"])
        audit_record(
            now=now,
            action="appeal.close",
            actor=user,
            subject_user_id=appeal.user_id,
            target=appeal,
            data={"by": "operator" if as_operator else "customer"},
        )
        _publish_status(appeal)
    return appeal


def appeal_reopen(*, appeal_id: int, user: Any, now: datetime) -> Appeal:
    """The customer reopens a closed appeal within the reopen period (then: a new appeal)."""
    with transaction.atomic():
        appeal = _lock(appeal_id, user=user)
        if not appeal.is_closed:
            raise Conflict(_("Обращение не закрыто."), code="appeal_not_closed")
        if appeal.reopen_until is None or now >= appeal.reopen_until:
            raise Conflict(
                _(
                    "Срок, в который можно открыть обращение снова, прошёл "
                    "(%(days)d дней после закрытия). Создайте новое обращение."
                )
                % {"days": selectors.reopen_days()},
                code="reopen_period_over",
            )
        appeal.status = AppealStatus.IN_PROGRESS if appeal.assignee_id else AppealStatus.NEW
        appeal.closed_at = None
        appeal.reopen_until = None
        appeal.reopened_count += 1
        appeal.deadline_at = max(
            appeal.created_at,
            hours.add_working_hours(_schedule(appeal, now), now, appeal.category.sla_hours),
        )
        appeal.save(
            update_fields=["status", "closed_at", "reopen_until", "reopened_count", "deadline_at"]
        )
        audit_record(now=now, action="appeal.reopen", actor=user, target=appeal)
        _publish_status(appeal)
    return appeal


def appeal_rate(*, appeal_id: int, user: Any, rating: int, comment: str, now: datetime) -> Appeal:
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        message = _("Оценка — от 1 до 5.")
        raise ValidationFailed(message, code="invalid_rating", fields={"rating": [message]})
    comment = _text(comment, field="comment", required=False, limit=RATING_COMMENT_MAX, empty="")
    with transaction.atomic():
        appeal = _lock(appeal_id, user=user)
        if appeal.first_answered_at is None or appeal.status not in (
            AppealStatus.ANSWERED,
            AppealStatus.CLOSED,
        ):
            raise Conflict(
                _("Оценить можно, когда специалист ответил."), code="appeal_not_answered"
            )
        appeal.rating = rating
        appeal.rating_comment = comment
        appeal.save(update_fields=["rating", "rating_comment"])
        audit_record(
            now=now, action="appeal.rate", actor=user, target=appeal, data={"rating": rating}
        )
    return appeal


# ---------------------------------------------------------------- call-back requests


def callback_request_create(
    *,
    user: Any,
    appeal_id: int | None,
    slot_from: datetime,
    phone: str | None,
    now: datetime,
) -> CallbackRequest:
    """«Перезвоните мне» in one of the offered slots of the branch's working time."""
    appeal = selectors.appeal_for_customer(user=user, appeal_id=appeal_id) if appeal_id else None
    branch = appeal.branch if appeal is not None else branch_for_user(user_id=user.pk)
    if branch is None:
        raise Conflict(_("Нет филиала, который принял бы заказ звонка."), code="no_branch")
    slots = dict(selectors.callback_slots_for(branch=branch, now=now))
    ends = slots.get(slot_from)
    if ends is None:
        message = _("Выберите время звонка из предложенных.")
        raise ValidationFailed(message, code="invalid_slot", fields={"slot": [message]})
    number = normalize_phone(phone) if phone else user.phone
    if not number:
        message = _("Укажите телефон для звонка.")
        raise ValidationFailed(message, code="phone_required", fields={"phone": [message]})
    try:
        with transaction.atomic():
            callback = CallbackRequest.objects.create(
                user=user,
                appeal=appeal,
                branch=branch,
                phone=number,
                slot_from=slot_from,
                slot_to=ends,
                created_at=now,
            )
            audit_record(now=now, action="appeal.callback", actor=user, target=callback)
    except IntegrityError as exc:
        raise Conflict(_("На это время звонок уже заказан."), code="callback_exists") from exc
    return callback


def callback_done(*, callback_id: int, operator: Any, now: datetime) -> CallbackRequest:
    _require_operator(operator)
    with transaction.atomic():
        callback = CallbackRequest.objects.select_for_update().filter(pk=callback_id).first()
        if callback is None:
            raise NotFound(_("Заказ звонка не найден."), code="callback_not_found")
        callback.status = CallbackStatus.DONE
        callback.save(update_fields=["status"])
        audit_record(
            now=now,
            action="appeal.callback_done",
            actor=operator,
            subject_user_id=callback.user_id,
            target=callback,
        )
    return callback
