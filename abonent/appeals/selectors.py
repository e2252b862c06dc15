"""Appeals reads: the customer's list with unread counts, a thread, access checks, the
operators' queue and the answer-time report."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from abonent.accounts.models import Branch
from abonent.appeals import hours
from abonent.appeals.models import (
    Appeal,
    AppealStatus,
    Attachment,
    BranchHoliday,
    CallbackRequest,
    CallbackStatus,
    CannedAnswer,
    Category,
    Message,
    ReadMark,
    Side,
)
from abonent.core.errors import NotFound

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Unread(TypedDict):
    unread: int


OPERATOR_PERMISSION = "appeals.operate"
OPERATORS_GROUP = "Операторы"


def is_operator(user: Any) -> bool:
    """A staff member allowed to answer appeals (the «Операторы» group, or a superuser)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(OPERATOR_PERMISSION)
    )


def operator_list() -> list[Any]:
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .order_by("last_name", "first_name", "pk")
    )
    return [u for u in users if u.has_perm(OPERATOR_PERMISSION)]


def category_list() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("ordering", "name")


def schedule_for_branch(branch: Branch, *, around: date | None = None) -> hours.Schedule:
    rows = BranchHoliday.objects.filter(branch=branch)
    if around is not None:
        rows = rows.filter(
            date__gte=around - timedelta(days=7), date__lte=around + timedelta(days=60)
        )
    return hours.schedule_for(branch, rows.values_list("date", "is_workday"))


# ---------------------------------------------------------------- the customer's side


def _unread(side: str) -> Any:
    """Messages from the other side after this side's read mark (internal notes never count)."""
    mark = ReadMark.objects.filter(appeal=OuterRef(OuterRef("pk")), side=side).values(
        "last_read_id"
    )[:1]
    from_other = Q(is_operator=True) if side == Side.CUSTOMER else Q(is_operator=False)
    counted = (
        Message.objects.filter(from_other, appeal=OuterRef("pk"), is_internal=False)
        .filter(id__gt=Coalesce(Subquery(mark), Value(0)))
        .order_by()
        .values("appeal")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def appeal_list_for_customer(*, user: Any) -> QuerySet[WithAnnotations[Appeal, _Unread]]:
    """The customer's appeals, latest activity first, each with its unread count: one query."""
    return (
        Appeal.objects.filter(user=user)
        .select_related("category", "account", "branch")
        .annotate(unread=_unread(Side.CUSTOMER))
        .order_by("-last_message_at", "-pk")
    )


def unread_total_for_customer(*, user: Any) -> int:
    return sum(getattr(a, "unread", 0) for a in appeal_list_for_customer(user=user))


def appeal_for_customer(*, user: Any, appeal_id: int) -> Appeal:
    appeal = (
        Appeal.objects.filter(pk=appeal_id, user=user)
        .select_related("category", "account__address", "branch", "assignee")
        .first()
    )
    if appeal is None:
        raise NotFound(_("Обращение не найдено."), code="appeal_not_found")
    return appeal


def appeal_for_operator(*, appeal_id: int) -> Appeal:
    appeal = (
        Appeal.objects.filter(pk=appeal_id)
        .select_related("category", "account__address", "branch", "assignee", "user")
        .first()
    )
    if appeal is None:
        raise NotFound(_("Обращение не найдено."), code="appeal_not_found")
    return appeal


def socket_side(*, user: Any, appeal_id: int) -> str | None:
    """Which side's stream this user may open for the appeal; None when neither."""
    if is_operator(user) and Appeal.objects.filter(pk=appeal_id).exists():
        return Side.OPERATOR
    if Appeal.objects.filter(pk=appeal_id, user=user).exists():
        return Side.CUSTOMER
    return None


def thread_messages(*, appeal: Appeal, include_internal: bool, after_id: int = 0) -> list[Message]:
    rows = Message.objects.filter(appeal=appeal, id__gt=after_id)
    if not include_internal:
        rows = rows.filter(is_internal=False)
    return list(
        rows.select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("pk")
    )


def read_mark(*, appeal: Appeal, side: str) -> int:
    row = ReadMark.objects.filter(appeal=appeal, side=side).values_list("last_read_id", flat=True)
    return next(iter(row), 0)


def attachment_for_user(*, user: Any, attachment_id: int) -> Attachment:
    """An attachment its viewer may download: the appeal's customer (never from an internal
    note) or an operator. Anything else is «not found»."""
    found = Attachment.objects.filter(pk=attachment_id).select_related("message__appeal").first()
    if found is not None:
        if is_operator(user):
            return found
        message = found.message
        if message.appeal.user_id == getattr(user, "pk", None) and not message.is_internal:
            return found
    raise NotFound(_("Файл не найден."), code="attachment_not_found")


def attachment_url(attachment: Attachment) -> str:
    return reverse("api:attachment_download", kwargs={"attachment_id": attachment.pk})


def author_label(message: Message) -> str:
    if message.is_auto:
        return _("Автоответ")
    if message.is_operator:
        name = getattr(message.author, "first_name", "") if message.author else ""
        return _("Специалист %(name)s") % {"name": name} if name else _("Специалист")
    return _("Вы")


def message_payload_fresh(*, message_id: int) -> dict[str, Any]:
    """The payload of a message just written, read back with its author and attachments."""
    fresh = Message.objects.select_related("author").prefetch_related("attachments")
    return message_payload(fresh.get(pk=message_id))


def message_payload(message: Message) -> dict[str, Any]:
    """A message as the thread's sockets and the API show it."""
    return {
        "type": "message",
        "id": message.pk,
        "appeal_id": message.appeal_id,
        "is_operator": message.is_operator,
        "is_internal": message.is_internal,
        "is_auto": message.is_auto,
        "author": author_label(message),
        "author_id": message.author_id,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "attachments": [
            {
                "id": a.pk,
                "name": a.name,
                "size": a.size,
                "content_type": a.content_type,
                "url": attachment_url(a),
            }
            for a in message.attachments.all()
        ],
    }


def status_payload(appeal: Appeal) -> dict[str, Any]:
    return {
        "type": "status",
        "appeal_id": appeal.pk,
        "status": appeal.status,
        "status_label": str(AppealStatus(appeal.status).label),
        "assignee": appeal.assignee.first_name if appeal.assignee else "",
        "can_reopen_until": appeal.reopen_until.isoformat() if appeal.reopen_until else None,
    }


@dataclass(frozen=True)
class ThreadView:
    appeal: Appeal
    messages: list[Message]
    last_id: int
    unread_from: int  # the first unread message id for this viewer (0 = none)
    deadline_text: str
    schedule: hours.Schedule
    is_open_now: bool
    back_at: str
    can_reopen: bool
    can_rate: bool
    callbacks: list[CallbackRequest]


def thread_view(
    *, appeal: Appeal, side: str, now: datetime, include_internal: bool = False
) -> ThreadView:
    messages = thread_messages(appeal=appeal, include_internal=include_internal)
    schedule = schedule_for_branch(appeal.branch, around=now.date())
    mark = read_mark(appeal=appeal, side=side)
    from_other = (
        (lambda m: m.is_operator) if side == Side.CUSTOMER else (lambda m: not m.is_operator)
    )
    unread_from = next(
        (m.pk for m in messages if m.pk > mark and from_other(m) and not m.is_internal), 0
    )
    return ThreadView(
        appeal=appeal,
        messages=messages,
        last_id=messages[-1].pk if messages else 0,
        unread_from=unread_from,
        deadline_text=hours.local_deadline(schedule, appeal.deadline_at, now),
        schedule=schedule,
        is_open_now=hours.is_open(schedule, now),
        back_at=hours.back_at_phrase(schedule, now),
        can_reopen=appeal.is_closed
        and appeal.reopen_until is not None
        and now < appeal.reopen_until,
        can_rate=appeal.first_answered_at is not None
        and appeal.status in (AppealStatus.ANSWERED, AppealStatus.CLOSED),
        callbacks=list(CallbackRequest.objects.filter(appeal=appeal).order_by("slot_from", "pk")),
    )


def callback_slots_for(*, branch: Branch, now: datetime) -> list[tuple[datetime, datetime]]:
    return hours.callback_slots(schedule_for_branch(branch, around=now.date()), now)


def expectations(*, branch: Branch, now: datetime) -> dict[str, Any]:
    """What a customer should expect when writing now: open or when specialists are back."""
    schedule = schedule_for_branch(branch, around=now.date())
    return {
        "is_open": hours.is_open(schedule, now),
        "back_at": hours.back_at_phrase(schedule, now),
    }


# ---------------------------------------------------------------- the operators' side


@dataclass(frozen=True)
class QueueFilters:
    branch_id: int | None = None
    category_id: int | None = None
    status: str | None = None  # a status, "open" (default: all but closed) or "all"
    mine: bool = False


def operator_queue(
    *, filters: QueueFilters, operator: Any
) -> QuerySet[WithAnnotations[Appeal, _Unread]]:
    """Appeals sorted by deadline (the most urgent first), with unread customer messages."""
    rows = Appeal.objects.select_related("category", "branch", "assignee", "user", "account")
    status = filters.status or "open"
    if status == "open":
        rows = rows.exclude(status=AppealStatus.CLOSED)
    elif status != "all":
        rows = rows.filter(status=status)
    if filters.branch_id:
        rows = rows.filter(branch_id=filters.branch_id)
    if filters.category_id:
        rows = rows.filter(category_id=filters.category_id)
    if filters.mine:
        rows = rows.filter(assignee=operator)
    return rows.annotate(unread=_unread(Side.OPERATOR)).order_by("deadline_at", "pk")


def canned_answers_for(*, category: Category | None) -> list[CannedAnswer]:
    rows = CannedAnswer.objects.filter(is_active=True)
    if category is not None:
        rows = rows.filter(Q(category__isnull=True) | Q(category=category))
    return list(rows.order_by("ordering", "title"))


def open_callbacks() -> QuerySet[CallbackRequest]:
    return CallbackRequest.objects.filter(status=CallbackStatus.NEW).select_related(
        "user", "appeal", "branch"
    )


@dataclass(frozen=True)
class AnswerTimeRow:
    label: str
    appeals: int
    answered: int
    median_minutes: int | None
    average_minutes: int | None
    within_deadline: int
    overdue: int

    @property
    def within_share(self) -> int | None:
        done = self.within_deadline + self.overdue
        return round(100 * self.within_deadline / done) if done else None


def _row(label: str, items: list[Appeal], now: datetime) -> AnswerTimeRow:
    waits = [
        (a.first_answered_at - a.created_at).total_seconds() / 60
        for a in items
        if a.first_answered_at is not None
    ]
    within = sum(
        1 for a in items if a.first_answered_at is not None and a.first_answered_at <= a.deadline_at
    )
    overdue = sum(1 for a in items if (a.first_answered_at or now) > a.deadline_at)
    return AnswerTimeRow(
        label=label,
        appeals=len(items),
        answered=len(waits),
        median_minutes=round(statistics.median(waits)) if waits else None,
        average_minutes=round(statistics.fmean(waits)) if waits else None,
        within_deadline=within,
        overdue=overdue,
    )


@dataclass(frozen=True)
class AnswerTimeReport:
    date_from: date
    date_to: date
    total: AnswerTimeRow
    by_category: list[AnswerTimeRow]
    by_operator: list[AnswerTimeRow]


def answer_time_report(
    *, date_from: date, date_to: date, now: datetime, branch_id: int | None = None
) -> AnswerTimeReport:
    """First-answer times of appeals created in [date_from, date_to] (dates in UTC+0 of the
    server's zone): median and average minutes, answered within the deadline or not."""
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    rows = Appeal.objects.filter(created_at__gte=start, created_at__lt=end).select_related(
        "category"
    )
    if branch_id:
        rows = rows.filter(branch_id=branch_id)
    items = list(rows)
    # Who answered first: the author of the first public operator message.
    first_by: dict[int, str] = {}
    answers = (
        Message.objects.filter(
            appeal__in=[a.pk for a in items], is_operator=True, is_internal=False, is_auto=False
        )
        .select_related("author")
        .order_by("appeal_id", "pk")
    )
    for m in answers:
        if m.appeal_id not in first_by:
            first_by[m.appeal_id] = str(m.author) if m.author else _("—")
    by_category: dict[str, list[Appeal]] = {}
    by_operator: dict[str, list[Appeal]] = {}
    for a in items:
        by_category.setdefault(a.category.name, []).append(a)
        if a.pk in first_by:
            by_operator.setdefault(first_by[a.pk], []).append(a)
    return AnswerTimeReport(
        date_from=date_from,
        date_to=date_to,
        total=_row(_("Все обращения"), items, now),
        by_category=[_row(k, v, now) for k, v in sorted(by_category.items())],
        by_operator=[_row(k, v, now) for k, v in sorted(by_operator.items())],
    )


def reopen_days() -> int:
    return int(settings.APPEALS_REOPEN_DAYS)
