"""A month's charges of an ЛС and why they are what they are; the charge history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import formats
from django.utils.translation import gettext as _

from abonent.billing.models import (
    Charge,
    ChargeMethod,
    EntryKind,
    LedgerEntry,
    PeriodStatus,
    Service,
)
from abonent.core.errors import NotFound

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def add_months(month: date, delta: int) -> date:
    index = month.year * 12 + month.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


def _num(value: Decimal) -> str:
    """A volume or price for a sentence: no trailing zeros, Russian decimal comma."""
    return f"{value.normalize():f}".replace(".", ",")


@dataclass(frozen=True)
class BreakdownLine:
    service_id: int
    service: str
    for_month: date
    volume: Decimal
    unit: str
    tariff: Decimal
    method: str
    method_label: str
    amount: Decimal
    is_recalculation: bool
    reason: str


@dataclass(frozen=True)
class ServiceMoney:
    service_id: int
    service: str
    opening: Decimal
    charged: Decimal
    recalculated: Decimal
    paid: Decimal
    corrections: Decimal
    closing: Decimal


@dataclass(frozen=True)
class Comparison:
    service_id: int
    service: str
    amount: Decimal
    previous: Decimal | None
    year_ago: Decimal | None
    change_previous: Decimal | None
    change_year_ago: Decimal | None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Breakdown:
    account_id: int
    month: date
    previous_month: date
    year_ago_month: date
    lines: list[BreakdownLine]
    recalculations: list[BreakdownLine]
    services: list[ServiceMoney]
    opening: Decimal
    charged: Decimal
    recalculated: Decimal
    paid: Decimal
    corrections: Decimal
    closing: Decimal
    comparisons: list[Comparison]


def _published(account: Any) -> QuerySet[Charge]:
    """Charges customers see: those of closed periods. An open period's charges are drafts
    that a re-run may replace, and reach the ledger (and the balance) only at closing."""
    return Charge.objects.filter(account=account, period__status=PeriodStatus.CLOSED)


def _line(charge: Charge) -> BreakdownLine:
    return BreakdownLine(
        service_id=charge.service_id,
        service=charge.service.name,
        for_month=charge.for_month,
        volume=charge.volume,
        unit=charge.unit,
        tariff=charge.tariff,
        method=charge.method,
        method_label=str(ChargeMethod(charge.method).label),
        amount=charge.amount,
        is_recalculation=charge.is_recalculation,
        reason=charge.reason,
    )


def _regular(lines: list[Charge], service_id: int) -> list[Charge]:
    return [c for c in lines if c.service_id == service_id and not c.is_recalculation]


def _notes(current: list[Charge], previous: list[Charge], unit: str) -> list[str]:
    """Plain reasons for a change against last month: tariff, volume, method."""
    notes: list[str] = []
    if not current or not previous:
        return notes
    cur_tariff, prev_tariff = current[0].tariff, previous[0].tariff
    if cur_tariff != prev_tariff:
        pct = (
            ((cur_tariff - prev_tariff) / prev_tariff * 100).quantize(Decimal("0.1"))
            if prev_tariff
            else None
        )
        text = _("Тариф: был %(old)s ₽, стал %(new)s ₽ за %(unit)s") % {
            "old": _num(prev_tariff),
            "new": _num(cur_tariff),
            "unit": unit,
        }
        if pct is not None:
            text += f" ({'+' if pct > 0 else ''}{_num(pct)} %)"
        notes.append(text)
    cur_volume = sum((c.volume for c in current), Decimal(0))
    prev_volume = sum((c.volume for c in previous), Decimal(0))
    if cur_volume != prev_volume:
        notes.append(
            _("Объём: был %(old)s %(unit)s, стал %(new)s %(unit)s")
            % {"old": _num(prev_volume), "new": _num(cur_volume), "unit": unit}
        )
    if current[0].method != previous[0].method:
        notes.append(
            _("Способ расчёта: был «%(old)s», стал «%(new)s»")
            % {
                "old": ChargeMethod(previous[0].method).label,
                "new": ChargeMethod(current[0].method).label,
            }
        )
    return notes


def charges_breakdown(*, account: Any, month: date) -> Breakdown:
    """The month's charge lines, recalculations, balances and the comparison, in 2 queries."""
    month = month.replace(day=1)
    previous_month, year_ago_month = add_months(month, -1), add_months(month, -12)
    charges = list(
        _published(account)
        .filter(period__month__in=[month, previous_month, year_ago_month])
        .select_related("service", "period")
        .order_by("service__sort_order", "service__name", "is_recalculation", "for_month", "pk")
    )
    by_month: dict[date, list[Charge]] = defaultdict(list)
    for charge in charges:
        by_month[charge.period.month].append(charge)
    current = by_month.get(month, [])
    if not current:
        raise NotFound(
            _("За %(month)s начислений нет.")
            % {"month": formats.date_format(month, "F Y").lower()},
            code="period_no_charges",
        )
    ledger = {
        row["service_id"]: row
        for row in LedgerEntry.objects.filter(account=account, month__lte=month)
        .values("service_id")
        .annotate(
            opening=Sum("amount", filter=Q(month__lt=month)),
            paid=Sum("amount", filter=Q(month=month, kind=EntryKind.PAYMENT)),
            corrections=Sum(
                "amount",
                filter=Q(month=month, kind__in=[EntryKind.CORRECTION, EntryKind.OPENING]),
            ),
            closing=Sum("amount"),
        )
    }
    names: dict[int, str] = {}
    order: list[int] = []
    for charge in current:
        if charge.service_id not in names:
            names[charge.service_id] = charge.service.name
            order.append(charge.service_id)
    services: list[ServiceMoney] = []
    for service_id in [*order, *sorted(set(ledger) - set(order))]:
        row = ledger.get(service_id, {})
        lines = [c for c in current if c.service_id == service_id]
        services.append(
            ServiceMoney(
                service_id=service_id,
                service=names.get(service_id, ""),
                opening=(row.get("opening") or ZERO).quantize(CENT),
                charged=sum((c.amount for c in lines if not c.is_recalculation), ZERO),
                recalculated=sum((c.amount for c in lines if c.is_recalculation), ZERO),
                paid=(-(row.get("paid") or ZERO)).quantize(CENT),
                corrections=(row.get("corrections") or ZERO).quantize(CENT),
                closing=(row.get("closing") or ZERO).quantize(CENT),
            )
        )
    # A service paid for but not charged this month has no name from the charges.
    if any(not s.service for s in services):
        ids = [s.service_id for s in services]
        known = dict(Service.objects.filter(pk__in=ids).values_list("pk", "name"))
        services = [
            s if s.service else replace(s, service=known.get(s.service_id, "")) for s in services
        ]
    comparisons = []
    for service_id in order:
        now_lines = _regular(current, service_id)
        prev_lines = _regular(by_month.get(previous_month, []), service_id)
        year_lines = _regular(by_month.get(year_ago_month, []), service_id)
        amount = sum((c.amount for c in now_lines), ZERO)
        previous = sum((c.amount for c in prev_lines), ZERO) if prev_lines else None
        year_ago = sum((c.amount for c in year_lines), ZERO) if year_lines else None
        unit = now_lines[0].unit if now_lines else ""
        comparisons.append(
            Comparison(
                service_id=service_id,
                service=names[service_id],
                amount=amount,
                previous=previous,
                year_ago=year_ago,
                change_previous=None if previous is None else amount - previous,
                change_year_ago=None if year_ago is None else amount - year_ago,
                notes=_notes(now_lines, prev_lines, unit),
            )
        )
    all_lines = [_line(c) for c in current]
    return Breakdown(
        account_id=account.pk,
        month=month,
        previous_month=previous_month,
        year_ago_month=year_ago_month,
        lines=[line for line in all_lines if not line.is_recalculation],
        recalculations=[line for line in all_lines if line.is_recalculation],
        services=services,
        opening=sum((s.opening for s in services), ZERO),
        charged=sum((s.charged for s in services), ZERO),
        recalculated=sum((s.recalculated for s in services), ZERO),
        paid=sum((s.paid for s in services), ZERO),
        corrections=sum((s.corrections for s in services), ZERO),
        closing=sum((s.closing for s in services), ZERO),
        comparisons=comparisons,
    )


def charge_months(*, account: Any) -> list[date]:
    """Months that have charges for the ЛС, newest first."""
    return list(
        _published(account)
        .order_by("-period__month")
        .values_list("period__month", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class HistoryMonth:
    month: date
    total: Decimal
    by_service: dict[str, Decimal]


def charges_history(
    *, account: Any, months: int = 24, until: date | None = None
) -> list[HistoryMonth]:
    """Charges per month (all lines booked in the month, recalculations included), oldest
    first, for up to `months` months ending at `until` (default: the latest charged month);
    months without charges inside the range show as 0. One query."""
    rows = list(
        _published(account)
        .values("period__month", "service__name")
        .annotate(total=Sum("amount"))
        .order_by("period__month")
    )
    if not rows:
        return []
    last = (until or max(r["period__month"] for r in rows)).replace(day=1)
    first_charged = min(r["period__month"] for r in rows)
    start = max(first_charged, add_months(last, -(months - 1)))
    by_month: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        by_month[row["period__month"]][row["service__name"]] = row["total"]
    history = []
    month = start
    while month <= last:
        services = by_month.get(month, {})
        history.append(
            HistoryMonth(
                month=month,
                total=sum(services.values(), ZERO).quantize(CENT),
                by_service=services,
            )
        )
        month = add_months(month, 1)
    return history
