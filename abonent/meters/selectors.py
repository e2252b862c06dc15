"""Meters reads: the reading window in the branch's time, a customer's meters with their last
readings and verification warnings, a meter's history with consumption.

Access: a meter is visible to a customer who linked its ЛС; anything else is NotFound (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink, Branch, PersonalAccount
from abonent.accounts.selectors import account_link_for_user
from abonent.billing.models import BillingPeriod, PeriodStatus
from abonent.core.errors import NotFound
from abonent.meters.models import Meter, MeterStatus, Reading, ReadingStatus

VERIFICATION_WARN_DAYS = 60


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + (month.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_index(month: date) -> int:
    return month.year * 12 + month.month


def month_title(month: date) -> str:
    """date(2026, 11, 1) → «ноябрь 2026»."""
    return date_format(month, "F Y").lower()


def days_text(n: int) -> str:
    """3 → «3 дня», 5 → «5 дней», 21 → «21 день» (Russian plural forms)."""
    if n % 10 == 1 and n % 100 != 11:
        word = _("день")
    elif n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        word = _("дня")
    else:
        word = _("дней")
    return f"{n}\u00a0{word}"


def local_today(*, branch: Branch, now: datetime) -> date:
    return now.astimezone(ZoneInfo(branch.timezone)).date()


# ---------------------------------------------------------------- the reading window


@dataclass(frozen=True)
class ReadingWindow:
    """When readings are taken, seen from `today` in the branch's time zone.

    A reading sent on or before the window's last day counts for this month; after it, for
    the next month. `is_open` is False outside days `day_from`–`day_to`: the reading is
    still kept, counted for `period`, and the customer is told so."""

    today: date
    day_from: int
    day_to: int
    period: date
    is_open: bool
    opens_on: date
    closes_on: date
    closes_at: datetime
    days_left: int

    @property
    def text(self) -> str:
        base = _("Приём показаний с %(from)s по %(to)s число") % {
            "from": self.day_from,
            "to": self.day_to,
        }
        if self.is_open:
            if self.days_left == 0:
                return base + _(", сегодня последний день")
            if self.days_left % 10 == 1 and self.days_left % 100 != 11:
                return base + _(", остался %(days)s") % {"days": days_text(self.days_left)}
            return base + _(", осталось %(days)s") % {"days": days_text(self.days_left)}
        days = (self.opens_on - self.today).days
        return base + _(", откроется через %(days)s") % {"days": days_text(days)}

    @property
    def outside_text(self) -> str:
        return _(
            "Сейчас показания не принимаются: приём с %(from)s по %(to)s число. Переданные "
            "показания сохранятся и будут учтены в расчёте за %(month)s."
        ) % {"from": self.day_from, "to": self.day_to, "month": month_title(self.period)}


def reading_window(*, branch: Branch, now: datetime) -> ReadingWindow:
    tz = ZoneInfo(branch.timezone)
    today = now.astimezone(tz).date()
    current = today.replace(day=1)
    period = current if today.day <= branch.reading_day_to else add_months(current, 1)
    opens_on = period.replace(day=branch.reading_day_from)
    closes_on = period.replace(day=branch.reading_day_to)
    is_open = opens_on <= today <= closes_on
    closes_at = datetime.combine(closes_on + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return ReadingWindow(
        today=today,
        day_from=branch.reading_day_from,
        day_to=branch.reading_day_to,
        period=period,
        is_open=is_open,
        opens_on=opens_on,
        closes_on=closes_on,
        closes_at=closes_at,
        days_left=(closes_on - today).days if is_open else 0,
    )


# ---------------------------------------------------------------- meter state


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def meter_refusal(*, meter: Meter, today: date) -> Refusal | None:
    """Why this meter takes no manual reading today, or None when it does."""
    if meter.status == MeterStatus.REMOVED:
        return Refusal(
            "meter_removed",
            _("Счётчик № %(serial)s снят: показания по нему не принимаются.")
            % {"serial": meter.serial},
        )
    due = meter.next_verification_date
    if meter.status == MeterStatus.EXPIRED or (due is not None and due <= today):
        when = f" {due:%d.%m.%Y}" if due else ""
        return Refusal(
            "meter_expired",
            _(
                "Срок поверки счётчика № %(serial)s истёк%(when)s: показания по нему не "
                "принимаются, расход считается по нормативу. Поверьте или замените счётчик и "
                "пришлите акт через «Обращения»."
            )
            % {"serial": meter.serial, "when": when},
        )
    if meter.remote:
        return Refusal(
            "meter_remote",
            _("Счётчик № %(serial)s передаёт показания автоматически: вводить их вручную не нужно.")
            % {"serial": meter.serial},
        )
    return None


@dataclass(frozen=True)
class Verification:
    due: date | None
    days_left: int | None
    state: str  # ok / soon / expired / unknown

    @property
    def text(self) -> str:
        if self.due is None:
            return _("Дата поверки не указана")
        when = f"{self.due:%d.%m.%Y}"
        if self.state == "expired":
            return _("Срок поверки истёк %(date)s") % {"date": when}
        if self.state == "soon":
            return _("Поверка до %(date)s — осталось %(days)s") % {
                "date": when,
                "days": days_text(self.days_left or 0),
            }
        return _("Поверка до %(date)s") % {"date": when}


def meter_verification(*, meter: Meter, today: date) -> Verification:
    due = meter.next_verification_date
    if due is None:
        state = "expired" if meter.status == MeterStatus.EXPIRED else "unknown"
        return Verification(due=None, days_left=None, state=state)
    days = (due - today).days
    if days <= 0 or meter.status == MeterStatus.EXPIRED:
        state = "expired"
    elif days <= VERIFICATION_WARN_DAYS:
        state = "soon"
    else:
        state = "ok"
    return Verification(due=due, days_left=days, state=state)


# ---------------------------------------------------------------- a customer's meters


@dataclass(frozen=True)
class ScaleReading:
    scale: int
    name: str
    value: Decimal | None
    month: date | None
    taken_at: datetime | None
    this_period: bool


@dataclass(frozen=True)
class MeterRow:
    meter: Meter
    service: str
    unit: str
    scales: list[ScaleReading]
    verification: Verification
    refusal: Refusal | None

    @property
    def id(self) -> int:
        return self.meter.pk

    @property
    def submitted(self) -> bool:
        """Every scale has an accepted reading for the window's period."""
        return all(s.this_period for s in self.scales)

    @property
    def last_taken_at(self) -> datetime | None:
        times = [s.taken_at for s in self.scales if s.taken_at]
        return max(times) if times else None


@dataclass(frozen=True)
class AccountMeters:
    account: PersonalAccount
    label: str
    window: ReadingWindow
    period_closed: bool
    meters: list[MeterRow]

    @property
    def title(self) -> str:
        return self.label or _("Лицевой счёт")


def _latest_readings(meter_ids: list[int]) -> QuerySet[Reading]:
    """The latest accepted reading per meter and scale (one query, by the partial index)."""
    latest = (
        Reading.objects.filter(
            meter_id=OuterRef("meter_id"), scale=OuterRef("scale"), status=ReadingStatus.ACCEPTED
        )
        .order_by("-month")
        .values("month")[:1]
    )
    return Reading.objects.filter(
        meter_id__in=meter_ids, status=ReadingStatus.ACCEPTED, month=Subquery(latest)
    ).only("meter_id", "scale", "value", "month", "taken_at")


def _meter_rows(meters: list[Meter], *, window: ReadingWindow) -> list[MeterRow]:
    latest: dict[tuple[int, int], Reading] = {
        (r.meter_id, r.scale): r for r in _latest_readings([m.pk for m in meters])
    }
    rows = []
    for meter in meters:
        scales = []
        for scale in range(1, meter.scales + 1):
            reading = latest.get((meter.pk, scale))
            scales.append(
                ScaleReading(
                    scale=scale,
                    name=meter.scale_name(scale),
                    value=reading.value if reading else None,
                    month=reading.month if reading else None,
                    taken_at=reading.taken_at if reading else None,
                    this_period=reading is not None and reading.month == window.period,
                )
            )
        rows.append(
            MeterRow(
                meter=meter,
                service=meter.service.name,
                unit=meter.service.unit,
                scales=scales,
                verification=meter_verification(meter=meter, today=window.today),
                refusal=meter_refusal(meter=meter, today=window.today),
            )
        )
    return rows


def _visible_meters(account_ids: list[int]) -> list[Meter]:
    return list(
        Meter.objects.filter(account_id__in=account_ids)
        .exclude(status=MeterStatus.REMOVED)
        .select_related("service")
        .order_by("account_id", "service__sort_order", "serial")
    )


def account_meters(*, user: Any, account_id: int, now: datetime) -> AccountMeters:
    """One linked ЛС with its meters (removed ones hidden), last reading per scale, the
    window in the branch's time and verification warnings. Four queries: the link (with
    ЛС and branch), the meters (with service), the latest readings, the period's state."""
    link = account_link_for_user(user=user, account_id=account_id)
    account = link.account
    window = reading_window(branch=account.branch, now=now)
    meters = _visible_meters([account.pk])
    closed = BillingPeriod.objects.filter(
        branch_id=account.branch_id, month=window.period, status=PeriodStatus.CLOSED
    ).exists()
    return AccountMeters(
        account=account,
        label=link.label,
        window=window,
        period_closed=closed,
        meters=_meter_rows(meters, window=window),
    )


def meters_overview(*, user: Any, now: datetime) -> list[AccountMeters]:
    """Every linked ЛС with its meters, for the «Счётчики» page (a fixed number of
    queries whatever the number of ЛС and meters)."""
    links = list(
        AccountLink.objects.filter(user=user)
        .select_related("account__address", "account__branch")
        .order_by("created_at", "pk")
    )
    if not links:
        return []
    meters = _visible_meters([link.account_id for link in links])
    windows = {}
    for link in links:
        branch = link.account.branch
        if branch.pk not in windows:
            windows[branch.pk] = reading_window(branch=branch, now=now)
    closed = set(
        BillingPeriod.objects.filter(status=PeriodStatus.CLOSED)
        .filter(
            branch_id__in=list(windows),
            month__in={w.period for w in windows.values()},
        )
        .values_list("branch_id", "month")
    )
    result = []
    rows_all = {}
    by_account: dict[int, list[Meter]] = {}
    for meter in meters:
        by_account.setdefault(meter.account_id, []).append(meter)
    for link in links:
        window = windows[link.account.branch_id]
        rows_all[link.account_id] = _meter_rows(by_account.get(link.account_id, []), window=window)
        result.append(
            AccountMeters(
                account=link.account,
                label=link.label,
                window=window,
                period_closed=(link.account.branch_id, window.period) in closed,
                meters=rows_all[link.account_id],
            )
        )
    return result


def meter_for_customer(*, user: Any, meter_id: int) -> Meter:
    meter = (
        Meter.objects.select_related("account__branch", "account__address", "service")
        .filter(pk=meter_id, account__links__user=user)
        .first()
    )
    if meter is None:
        raise NotFound(_("Счётчик не найден."), code="meter_not_found")
    return meter


# ---------------------------------------------------------------- history


def meter_readings(*, meter: Meter) -> QuerySet[Reading]:
    """Every version of every reading of the meter, newest period first."""
    return (
        Reading.objects.filter(meter=meter)
        .select_related("entered_by")
        .order_by("-month", "scale", "-taken_at", "-pk")
    )


@dataclass(frozen=True)
class HistoryMonth:
    month: date
    values: dict[int, Decimal]
    consumption: Decimal | None
    taken_at: datetime
    versions: int
    out_of_window: bool


def meter_history(*, meter: Meter, months: int | None = None) -> list[HistoryMonth]:
    """Accepted readings per period, oldest first: the value per scale and the consumption
    (summed over scales; None when a scale has no earlier reading)."""
    rows = Reading.objects.filter(meter=meter).order_by("month", "scale")
    if months:
        latest = rows.filter(status=ReadingStatus.ACCEPTED).order_by("-month").first()
        if latest is not None:
            rows = rows.filter(month__gt=add_months(latest.month, -months))
    accepted: dict[date, list[Reading]] = {}
    versions: dict[date, int] = {}
    for reading in rows:
        versions[reading.month] = versions.get(reading.month, 0) + 1
        if reading.status == ReadingStatus.ACCEPTED:
            accepted.setdefault(reading.month, []).append(reading)
    result = []
    for month, readings in sorted(accepted.items()):
        parts = [r.consumption for r in readings if r.consumption is not None]
        consumption = sum(parts, Decimal(0)) if len(parts) == len(readings) else None
        result.append(
            HistoryMonth(
                month=month,
                values={r.scale: r.value for r in readings},
                consumption=consumption,
                taken_at=max(r.taken_at for r in readings),
                versions=versions[month],
                out_of_window=any(r.out_of_window for r in readings),
            )
        )
    return result


@dataclass(frozen=True)
class MeterPage:
    meter: Meter
    account_label: str
    history: list[HistoryMonth]
    versions: list[Reading]


def meter_page(*, user: Any, meter_id: int, months: int = 24) -> MeterPage:
    """A meter of a linked ЛС with its monthly history (chart) and every version (table)."""
    meter = meter_for_customer(user=user, meter_id=meter_id)
    label = (
        AccountLink.objects.filter(user=user, account_id=meter.account_id)
        .values_list("label", flat=True)
        .first()
    )
    versions = list(meter_readings(meter=meter)[:200])
    for reading in versions:
        reading.meter = meter  # the scale names come from the meter: no query per row
    return MeterPage(
        meter=meter,
        account_label=label or "",
        history=meter_history(meter=meter, months=months),
        versions=versions,
    )
