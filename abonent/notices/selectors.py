"""Reads of the notices app: the customer's notifications, preferences, news, the outages at
their addresses and the receipts archive (payments and bills, through their apps)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonent.accounts.models import AccountLink
from abonent.accounts.selectors import branch_for_user
from abonent.core.errors import NotFound
from abonent.notices import push
from abonent.notices.models import (
    DEFAULT_CHANNELS,
    QUIET_FROM,
    QUIET_TO,
    Channel,
    ChannelPreference,
    News,
    Notification,
    NotificationKind,
    NotificationSettings,
    Outage,
    OutageAddress,
    PushSubscription,
)

# ---------------------------------------------------------------- notifications


def notification_list_for_user(
    *, user: Any, kind: str | None = None, unread_only: bool = False
) -> QuerySet[Notification]:
    """The customer's notifications, unread first, then newest first."""
    qs = Notification.objects.filter(user_id=user.pk)
    if kind:
        qs = qs.filter(kind=kind)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.annotate(
        unread_first=Case(
            When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    ).order_by("unread_first", "-created_at", "-pk")


def notification_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()


def notification_kinds() -> list[tuple[str, str]]:
    return [(k, str(label)) for k, label in NotificationKind.choices]


KIND_TITLES: dict[str, Any] = {
    NotificationKind.BILL: gettext_lazy("Новые квитанции"),
    NotificationKind.PAYMENT: gettext_lazy("Оплата"),
    NotificationKind.OUTAGE: gettext_lazy("Отключения"),
    NotificationKind.READING: gettext_lazy("Показания счётчиков"),
    NotificationKind.VERIFICATION: gettext_lazy("Поверка счётчиков"),
    NotificationKind.APPEAL: gettext_lazy("Ответы на обращения"),
}


# ---------------------------------------------------------------- preferences


def user_timezones(*, user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's branch time zone (their first linked ЛС's; else the default branch's)."""
    ids = set(user_ids)
    zones: dict[int, str] = {}
    links = (
        AccountLink.objects.filter(user_id__in=ids)
        .order_by("user_id", "created_at", "pk")
        .values_list("user_id", "account__branch__timezone")
    )
    for user_id, tz in links:
        zones.setdefault(user_id, tz)
    missing = ids - zones.keys()
    if missing:
        branch = branch_for_user(user_id=None)
        default = branch.timezone if branch else settings.TIME_ZONE
        zones.update(dict.fromkeys(missing, default))
    return zones


@dataclass(frozen=True)
class ChannelInfo:
    channel: str
    title: str
    available: bool
    hint: str


@dataclass(frozen=True)
class KindChoice:
    kind: str
    title: str
    channels: frozenset[str]


@dataclass(frozen=True)
class NotificationPreferences:
    kinds: list[KindChoice]
    channels: list[ChannelInfo]
    quiet_enabled: bool
    quiet_from: time
    quiet_to: time
    time_zone: str
    push_key: str
    push_devices: int

    def as_map(self) -> dict[str, list[str]]:
        order = Channel.values
        return {k.kind: [c for c in order if c in k.channels] for k in self.kinds}


def notification_preferences(*, user: Any) -> NotificationPreferences:
    """What the settings page and GET /me/notification-settings show (four queries)."""
    chosen: dict[str, set[str]] = {k: set(v) for k, v in DEFAULT_CHANNELS.items()}
    for kind, channel, enabled in ChannelPreference.objects.filter(user_id=user.pk).values_list(
        "kind", "channel", "enabled"
    ):
        (chosen[kind].add if enabled else chosen[kind].discard)(channel)
    row = NotificationSettings.objects.filter(user_id=user.pk).first()
    devices = PushSubscription.objects.filter(user_id=user.pk).count()
    key = push.public_key()
    channels = [
        ChannelInfo(
            Channel.PUSH,
            _("Push на телефон и в браузер"),
            bool(key) and devices > 0,
            _("Подключено устройств: %(n)d") % {"n": devices}
            if devices
            else _("Включите уведомления на этом устройстве"),
        ),
        ChannelInfo(
            Channel.SMS,
            _("SMS"),
            bool(user.phone),
            user.phone_display if user.phone else _("Телефон не указан в профиле"),
        ),
        ChannelInfo(
            Channel.EMAIL,
            _("E-mail"),
            bool(user.email),
            user.email or _("E-mail не указан в профиле"),
        ),
    ]
    return NotificationPreferences(
        kinds=[
            KindChoice(kind, str(KIND_TITLES[kind]), frozenset(chosen[kind]))
            for kind in NotificationKind.values
        ],
        channels=channels,
        quiet_enabled=row.quiet_enabled if row else True,
        quiet_from=row.quiet_from if row else QUIET_FROM,
        quiet_to=row.quiet_to if row else QUIET_TO,
        time_zone=user_timezones(user_ids=[user.pk])[user.pk],
        push_key=key,
        push_devices=devices,
    )


def push_subscription_list_for_user(*, user: Any) -> QuerySet[PushSubscription]:
    return PushSubscription.objects.filter(user_id=user.pk).order_by("created_at", "pk")


# ---------------------------------------------------------------- news


def _user_branch_ids(user: Any) -> list[int]:
    return list(
        AccountLink.objects.filter(user_id=user.pk)
        .values_list("account__branch_id", flat=True)
        .distinct()
    )


def news_list_for_user(*, user: Any, now: datetime) -> QuerySet[News]:
    """Published items (publication time reached) for all branches or one of the
    customer's; a customer without an ЛС sees the default branch's."""
    branches = _user_branch_ids(user)
    if not branches:
        default = branch_for_user(user_id=None)
        branches = [default.pk] if default else []
    return (
        News.objects.filter(published_at__isnull=False, published_at__lte=now)
        .filter(Q(all_branches=True) | Q(branches__in=branches))
        .distinct()
        .order_by("-published_at", "-pk")
    )


def news_for_user(*, user: Any, news_id: int, now: datetime) -> News:
    item = news_list_for_user(user=user, now=now).filter(pk=news_id).first()
    if item is None:
        raise NotFound(_("Новость не найдена."), code="news_not_found")
    return item


# ---------------------------------------------------------------- outages


@dataclass
class OutageView:
    outage: Outage
    places: list[str] = field(default_factory=list)  # the customer's affected addresses
    status: str = "upcoming"  # upcoming | current | finished | cancelled

    @property
    def restore_at(self) -> datetime:
        return self.outage.ended_at or self.outage.expected_end_at


def _covers(target: OutageAddress, address: Any) -> bool:
    if target.settlement != address.settlement or target.street != address.street:
        return False
    if not target.house:
        return True
    return target.house == address.house and (
        not target.building or target.building == address.building
    )


def _status(outage: Outage, now: datetime) -> str:
    if outage.cancelled_at:
        return "cancelled"
    if outage.ended_at and outage.ended_at <= now:
        return "finished"
    if outage.starts_at > now:
        return "upcoming"
    return "current"


def outage_list_for_user(
    *, user: Any, now: datetime, recent_hours: int = 24, outage_id: int | None = None
) -> list[OutageView]:
    """Published outages at the customer's addresses: current and upcoming, and those
    finished or cancelled in the last `recent_hours` (three queries). Current first, then
    by start."""
    links = list(
        AccountLink.objects.filter(user_id=user.pk)
        .select_related("account__address")
        .order_by("created_at", "pk")
    )
    if not links:
        return []
    addresses = {link.account.address_id: link.account.address for link in links}
    branches = {a.branch_id for a in addresses.values()}
    streets = {(a.settlement, a.street) for a in addresses.values()}
    recent = now - timedelta(hours=recent_hours)
    qs = (
        Outage.objects.filter(branch_id__in=branches, published_at__isnull=False)
        .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=recent))
        .filter(Q(ended_at__isnull=True, expected_end_at__gte=recent) | Q(ended_at__gte=recent))
        .select_related("service")
        .prefetch_related("addresses", "updates")
        .order_by("starts_at", "pk")
    )
    if outage_id is not None:
        qs = (
            Outage.objects.filter(pk=outage_id, branch_id__in=branches, published_at__isnull=False)
            .select_related("service")
            .prefetch_related("addresses", "updates")
        )
    views = []
    for outage in qs:
        places = []
        for target in outage.addresses.all():
            if (target.settlement, target.street) not in streets:
                continue
            for address in addresses.values():
                if address.branch_id == outage.branch_id and _covers(target, address):
                    text = str(address)
                    if text not in places:
                        places.append(text)
        if places:
            views.append(OutageView(outage=outage, places=places, status=_status(outage, now)))
    order = {"current": 0, "upcoming": 1, "finished": 2, "cancelled": 3}
    views.sort(key=lambda v: (order[v.status], v.outage.starts_at))
    return views


def outage_for_user(*, user: Any, outage_id: int, now: datetime) -> OutageView:
    views = outage_list_for_user(user=user, now=now, outage_id=outage_id)
    if not views:
        raise NotFound(_("Отключение не найдено."), code="outage_not_found")
    return views[0]


# ---------------------------------------------------------------- receipts archive


@dataclass(frozen=True)
class ArchiveItem:
    kind: str  # "payment" | "bill"
    at: datetime
    title: str
    subtitle: str
    amount: Decimal
    pdf_url: str
    detail_url: str
    fiscal_url: str = ""
    month: date | None = None


def receipts_archive_for_user(*, user: Any, kind: str | None = None) -> list[ArchiveItem]:
    """Every paid payment's receipt and every monthly bill of the customer's ЛС, newest
    first (three queries: payments, their lines, bills)."""
    from django.utils import dateformat

    from abonent.documents.selectors import bill_list_for_customer_all
    from abonent.payments.selectors import payment_list_for_user
    from abonent.payments.state import PAID

    items: list[ArchiveItem] = []
    if kind in (None, "", "payment"):
        for payment in payment_list_for_user(user=user).filter(status__in=PAID):
            numbers: list[str] = []
            for line in payment.lines.all():
                if line.account.number not in numbers:
                    numbers.append(line.account.number)
            items.append(
                ArchiveItem(
                    kind="payment",
                    at=payment.paid_at or payment.created_at,
                    title=_("Оплата № %(id)s") % {"id": payment.pk},
                    subtitle=_("ЛС %(numbers)s") % {"numbers": ", ".join(numbers)},
                    amount=payment.amount,
                    pdf_url=reverse("payments:receipt", args=[payment.pk]),
                    detail_url=reverse("payments:detail", args=[payment.pk]),
                    fiscal_url=payment.fiscal_receipt_url,
                )
            )
    if kind in (None, "", "bill"):
        for bill in bill_list_for_customer_all(user=user):
            month = bill.period.month
            items.append(
                ArchiveItem(
                    kind="bill",
                    at=bill.issued_at,
                    title=_("Квитанция за %(month)s")
                    % {"month": dateformat.format(month, "F Y").lower()},
                    subtitle=_("ЛС %(number)s · № %(bill)s")
                    % {"number": bill.account.number, "bill": bill.number},
                    amount=bill.total_due,
                    pdf_url=reverse("documents:bill_pdf", args=[bill.pk]),
                    detail_url=reverse("documents:bill_list", args=[bill.account_id]),
                    month=month,
                )
            )
    items.sort(key=lambda i: (i.at, i.kind), reverse=True)
    return items
