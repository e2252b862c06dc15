"""Submitting readings: several meters in one go, by the customer (web, app), an operator
on the phone or an import.

Checks, in order, for every meter of the batch, and nothing is written unless all pass:
* the meter belongs to an ЛС the customer linked (else 404 for the whole batch);
* it takes manual readings: not removed, verification not past, not on remote reading (409);
* the period the reading counts for is not closed (409);
* one value per scale, a non-negative number within the meter's digits and decimals (422);
* warnings that the customer must confirm (409 `confirmation_required`, listing them):
  a value below the previous one (the counter rolled over: consumption = value + 10^digits −
  previous) and a consumption over 3× the monthly average of the last year.

The period: the month of the branch's local date when sent on or before the window's last
day, else the next month (the customer is told when the window is not open). A second
submission for a period that is not closed corrects the first: the new version is accepted,
the old one becomes `superseded` and stays in the history. Sending the same values again
(a double click, a retry) changes nothing.

Concurrency: the meters are locked (`SELECT … FOR UPDATE`, in id order) for the whole check
and write, so two devices at once are serialised — the second sees the first's reading and
corrects it or repeats it — and the partial unique index (one accepted reading per meter,
scale and period) stops anything that slips past. A unique violation is retried once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink, Branch, PersonalAccount
from abonent.billing.models import BillingPeriod, PeriodStatus
from abonent.core import sql
from abonent.core.errors import Conflict, NotFound, ValidationFailed
from abonent.core.services import audit_record
from abonent.meters.models import Meter, Reading, ReadingSource, ReadingStatus
from abonent.meters.selectors import (
    add_months,
    local_today,
    meter_refusal,
    month_index,
    month_title,
    reading_window,
)

Q4 = Decimal("0.0001")  # as stored: DecimalField(16, 4)
HIGH_FACTOR = Decimal(3)
AVERAGE_MONTHS = 12
HISTORY_MONTHS = 36
ROLLOVER = "rollover"
HIGH = "high"
WARNINGS = (ROLLOVER, HIGH)
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


class ConfirmationRequired(Conflict):
    """Warnings the customer has to confirm; nothing is written until they do."""

    code = "confirmation_required"

    def __init__(self, warnings: list[dict[str, Any]]) -> None:
        self.warnings = warnings
        super().__init__(
            _("Проверьте показания и подтвердите их."),
            fields={f"{w['meter_id']}.{w['scale']}": [w["message"]] for w in warnings},
        )

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "warnings": self.warnings}


@dataclass(frozen=True)
class ReadingInput:
    """Values of one meter as typed: {scale: text}; `confirm` names the warnings the
    customer has confirmed (`rollover`, `high`)."""

    meter_id: int
    values: Mapping[int, str]
    confirm: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MeterResult:
    meter: Meter
    readings: list[Reading]
    created: bool
    corrected: bool


@dataclass(frozen=True)
class SubmitResult:
    period: date
    out_of_window: bool
    message: str
    meters: list[MeterResult] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return any(m.created for m in self.meters)


# ---------------------------------------------------------------- parsing


def parse_value(*, meter: Meter, text: str) -> Decimal:
    """The typed value as a Decimal within the meter's digits; ValueError with a Russian
    message otherwise."""
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not raw:
        raise ValueError(_("Введите показание."))
    if raw.startswith("-") or raw.startswith("−"):
        raise ValueError(_("Показание не может быть отрицательным."))
    if not _NUMBER.match(raw):
        raise ValueError(_("Введите число: только цифры и запятая, например 12345,678."))
    whole, _sep, frac = raw.replace(",", ".").partition(".")
    whole = whole.lstrip("0") or "0"
    if len(whole) > meter.digits:
        raise ValueError(
            _("Слишком много цифр: у счётчика %(n)s знаков до запятой.") % {"n": meter.digits}
        )
    if len(frac.rstrip("0")) > meter.decimals:
        if meter.decimals == 0:
            raise ValueError(_("Этот счётчик показывает только целые числа."))
        raise ValueError(_("Не больше %(n)s знаков после запятой.") % {"n": meter.decimals})
    try:
        return Decimal(f"{whole}.{frac or '0'}").quantize(Q4)
    except InvalidOperation:  # pragma: no cover — the pattern above rules it out
        raise ValueError(_("Введите число.")) from None


def _scale_label(meter: Meter, scale: int) -> str:
    name = meter.scale_name(scale)
    return _("зона «%(name)s»") % {"name": name} if name else _("показание")


# ---------------------------------------------------------------- the service


def reading_submit(
    *,
    user: Any,
    items: Sequence[ReadingInput],
    source: str,
    now: datetime,
    ip: str | None = None,
) -> SubmitResult:
    """A customer's readings for one or several of their meters (see the module docs)."""
    if source not in (ReadingSource.WEB, ReadingSource.APP):
        raise ValueError(source)
    return _submit_with_retry(
        items=items, now=now, source=source, owner=user, actor=user, month=None, ip=ip
    )


def reading_enter(
    *,
    operator: Any,
    item: ReadingInput,
    now: datetime,
    month: date | None = None,
    source: str = ReadingSource.OPERATOR,
) -> SubmitResult:
    """A reading taken by an operator on the phone (or a line of an import): any meter, the
    same checks; `month` may name the period explicitly (it must not be closed)."""
    return _submit_with_retry(
        items=[item],
        now=now,
        source=source,
        owner=None,
        actor=operator,
        month=month.replace(day=1) if month else None,
        ip=None,
    )


def _submit_with_retry(**kwargs: Any) -> SubmitResult:
    try:
        return _submit(**kwargs)
    except IntegrityError:
        # Another transaction accepted a reading for the same slot between our read and
        # write (possible only where row locks are not taken); the retry sees it.
        try:
            return _submit(**kwargs)
        except IntegrityError:
            raise Conflict(
                _(
                    "Показания по этому счётчику только что переданы с другого устройства. "
                    "Обновите страницу и проверьте их."
                ),
                code="reading_conflict",
            ) from None


# The two reads of every submission, as statements written once (see core/sql.py).
_LOCKED_METERS = (
    f"SELECT {sql.columns(Meter, 'm')}, {sql.columns(PersonalAccount, 'a')}, "  # noqa: S608 — column lists from model metadata; values bound  # nosec B608
    f"{sql.columns(Branch, 'b')} FROM {sql.table(Meter)} m "
    f"JOIN {sql.table(PersonalAccount)} a ON a.id = m.account_id "
    f"JOIN {sql.table(Branch)} b ON b.id = a.branch_id WHERE m.id IN ({{ids}}){{owner}} "
    "ORDER BY m.id{lock}"
)
_OWNED = (
    f" AND EXISTS (SELECT 1 FROM {sql.table(AccountLink)} l "  # noqa: S608 — column lists from model metadata; values bound  # nosec B608
    "WHERE l.account_id = m.account_id AND l.user_id = %s)"
)
_HISTORY = (
    f"SELECT {sql.columns(Reading, 'r')} FROM {sql.table(Reading)} r "  # noqa: S608 — column lists from model metadata; values bound  # nosec B608
    "WHERE r.meter_id IN ({ids}) AND r.status = %s AND r.month <= %s AND r.month >= %s "
    "ORDER BY r.month DESC"
)


def _locked_meters(*, ids: list[int], owner: Any | None) -> dict[int, Meter]:
    """The meters locked in id order (no deadlock between two submissions of the same
    meters), each with its ЛС and branch; a meter of somebody else's ЛС is not found."""
    wanted = sorted(set(ids))
    lock = " FOR UPDATE OF m" if connection.features.has_select_for_update_of else ""
    statement = _LOCKED_METERS.format(
        ids=", ".join(["%s"] * len(wanted)), owner=_OWNED if owner is not None else "", lock=lock
    )
    params: list[Any] = [*wanted]
    if owner is not None:
        params.append(getattr(owner, "pk", None))
    meters = {}
    for meter, account, branch in sql.fetch(statement, params, Meter, PersonalAccount, Branch):
        PersonalAccount.branch.field.set_cached_value(account, branch)
        Meter.account.field.set_cached_value(meter, account)
        meters[meter.pk] = meter
    if len(meters) != len(wanted):
        raise NotFound(_("Счётчик не найден."), code="meter_not_found")
    return meters


def _history(meter_ids: list[int], *, period: date) -> dict[tuple[int, int], list[Reading]]:
    """Accepted readings up to `period` (36 months back), newest first, per meter and scale."""
    found: dict[tuple[int, int], list[Reading]] = {}
    statement = _HISTORY.format(ids=", ".join(["%s"] * len(meter_ids)))
    params = [*meter_ids, ReadingStatus.ACCEPTED, period, add_months(period, -HISTORY_MONTHS)]
    for (reading,) in sql.fetch(statement, params, Reading):
        found.setdefault((reading.meter_id, reading.scale), []).append(reading)
    return found


def _average(previous: list[Reading]) -> Decimal | None:
    """Monthly consumption over the year before the last reading (None when unknown)."""
    if len(previous) < 2:
        return None
    last = previous[0]
    since = add_months(last.month, -AVERAGE_MONTHS)
    base = [r for r in previous[1:] if r.month >= since]
    if not base:
        return None
    first = base[-1]
    months = month_index(last.month) - month_index(first.month)
    if months <= 0 or last.value < first.value:
        return None
    return (last.value - first.value) / months


@dataclass
class _Plan:
    meter: Meter
    writes: list[tuple[int, Decimal, Decimal | None, bool, bool, Reading | None]]
    readings: list[Reading]
    corrected: bool


def _submit(
    *,
    items: Sequence[ReadingInput],
    now: datetime,
    source: str,
    owner: Any | None,
    actor: Any | None,
    month: date | None,
    ip: str | None,
) -> SubmitResult:
    if not items:
        raise ValidationFailed(_("Введите показания хотя бы одного счётчика."), code="empty")
    with transaction.atomic():
        meters = _locked_meters(ids=[i.meter_id for i in items], owner=owner)
        branch = next(iter(meters.values())).account.branch
        window = reading_window(branch=branch, now=now)
        period = month or window.period
        out_of_window = month is None and not window.is_open
        refusals: dict[str, list[str]] = {}
        errors: dict[str, list[str]] = {}
        for item in items:
            meter = meters[item.meter_id]
            if meter.account.branch_id != branch.pk:
                raise ValidationFailed(
                    _("Показания разных городов передаются отдельно."), code="mixed_branches"
                )
            today = local_today(branch=branch, now=now)
            refusal = meter_refusal(meter=meter, today=today)
            if refusal is not None and source != ReadingSource.IMPORT:
                refusals[str(meter.pk)] = [refusal.message]
                continue
            _check_values(meter=meter, item=item, errors=errors)
        if refusals:
            first = next(iter(refusals.values()))[0]
            code = "meter_refused"
            if len(refusals) == 1:
                code = meter_refusal(
                    meter=meters[int(next(iter(refusals)))],
                    today=local_today(branch=branch, now=now),
                ).code  # type: ignore[union-attr]
            raise Conflict(first, code=code, fields=refusals)
        if errors:
            raise ValidationFailed(
                next(iter(errors.values()))[0], code="invalid_reading", fields=errors
            )
        if BillingPeriod.objects.filter(
            branch=branch, month=period, status=PeriodStatus.CLOSED
        ).exists():
            raise Conflict(
                _("Расчётный период за %(month)s закрыт: показания за него не принимаются.")
                % {"month": month_title(period)},
                code="period_closed",
            )
        history = _history(list(meters), period=period)
        plans, warnings = _plan(items=items, meters=meters, history=history, period=period)
        if warnings:
            raise ConfirmationRequired(warnings)
        results = [
            _write(
                plan,
                period=period,
                now=now,
                source=source,
                actor=actor,
                out_of_window=out_of_window,
            )
            for plan in plans
        ]
        created = [r for r in results if r.created]
        if created:
            audit_record(
                now=now,
                action="reading.submit",
                actor=actor,
                subject_user_id=getattr(owner, "pk", None),
                target=created[0].meter if len(created) == 1 else None,
                ip=ip,
                data={
                    "source": source,
                    "period": f"{period:%Y-%m}",
                    "readings": [r.pk for m in created for r in m.readings],
                    "corrected": [m.meter.pk for m in created if m.corrected],
                },
            )
    return SubmitResult(
        period=period,
        out_of_window=out_of_window,
        message=_message(
            window_text=window.outside_text,
            period=period,
            out_of_window=out_of_window,
            results=results,
        ),
        meters=results,
    )


def _check_values(*, meter: Meter, item: ReadingInput, errors: dict[str, list[str]]) -> None:
    expected = set(range(1, meter.scales + 1))
    for scale in sorted(set(item.values) - expected):
        errors[f"{meter.pk}.{scale}"] = [
            _("У счётчика № %(serial)s нет зоны %(scale)s.")
            % {"serial": meter.serial, "scale": scale}
        ]
    for scale in sorted(expected):
        key = f"{meter.pk}.{scale}"
        if scale not in item.values or not str(item.values[scale]).strip():
            if meter.scales > 1:
                errors[key] = [
                    _("Введите показания всех зон счётчика: не хватает зоны «%(name)s».")
                    % {"name": meter.scale_name(scale)}
                ]
            else:
                errors[key] = [_("Введите показание.")]
            continue
        try:
            parse_value(meter=meter, text=str(item.values[scale]))
        except ValueError as exc:
            errors[key] = [str(exc)]


def _plan(
    *,
    items: Iterable[ReadingInput],
    meters: dict[int, Meter],
    history: dict[tuple[int, int], list[Reading]],
    period: date,
) -> tuple[list[_Plan], list[dict[str, Any]]]:
    plans = []
    warnings: list[dict[str, Any]] = []
    for item in items:
        meter = meters[item.meter_id]
        plan = _Plan(meter=meter, writes=[], readings=[], corrected=False)
        for scale in range(1, meter.scales + 1):
            value = parse_value(meter=meter, text=str(item.values[scale]))
            readings = history.get((meter.pk, scale), [])
            current = next((r for r in readings if r.month == period), None)
            previous = [r for r in readings if r.month < period]
            if current is not None and current.value == value:
                plan.readings.append(current)  # the same value again: nothing to do
                continue
            consumption: Decimal | None = None
            rollover = high = False
            if previous:
                prev = previous[0]
                consumption = value - prev.value
                if consumption < 0:
                    if ROLLOVER not in item.confirm:
                        warnings.append(_warning(meter, scale, ROLLOVER, value, prev))
                        continue
                    consumption = value + Decimal(10) ** meter.digits - prev.value
                    rollover = True
                average = _average(previous)
                months = month_index(period) - month_index(prev.month)
                if average and average > 0 and consumption / months > HIGH_FACTOR * average:
                    if HIGH not in item.confirm:
                        warnings.append(_warning(meter, scale, HIGH, value, prev, average=average))
                        continue
                    high = True
            plan.writes.append((scale, value, consumption, rollover, high, current))
        plans.append(plan)
    return plans, warnings


def _warning(
    meter: Meter,
    scale: int,
    code: str,
    value: Decimal,
    previous: Reading,
    *,
    average: Decimal | None = None,
) -> dict[str, Any]:
    what = _scale_label(meter, scale)
    prev = f"{previous.value.normalize():f}".replace(".", ",")
    if code == ROLLOVER:
        message = _(
            "Счётчик № %(serial)s, %(what)s: значение меньше прошлого (%(prev)s). Если счётчик "
            "перешёл через ноль, подтвердите; иначе проверьте цифры."
        ) % {"serial": meter.serial, "what": what, "prev": prev}
    else:
        avg = f"{average.quantize(Decimal('0.01')):f}".replace(".", ",") if average else ""
        message = _(
            "Счётчик № %(serial)s, %(what)s: расход намного больше обычного (в среднем "
            "%(avg)s в месяц). Проверьте цифры и подтвердите, если всё верно."
        ) % {"serial": meter.serial, "what": what, "avg": avg}
    return {
        "meter_id": meter.pk,
        "scale": scale,
        "code": code,
        "message": message,
        "value": str(value),
        "previous": str(previous.value),
    }


def _write(
    plan: _Plan,
    *,
    period: date,
    now: datetime,
    source: str,
    actor: Any | None,
    out_of_window: bool,
) -> MeterResult:
    readings = list(plan.readings)
    corrected = False
    for scale, value, consumption, rollover, high, current in plan.writes:
        if current is not None:
            corrected = True
            Reading.objects.filter(pk=current.pk).update(status=ReadingStatus.SUPERSEDED)
        readings.append(
            Reading.objects.create(
                meter=plan.meter,
                scale=scale,
                value=value,
                month=period,
                taken_at=now,
                source=source,
                entered_by=actor if getattr(actor, "pk", None) else None,
                status=ReadingStatus.ACCEPTED,
                consumption=consumption,
                supersedes=current,
                rollover=rollover,
                confirmed_high=high,
                out_of_window=out_of_window,
            )
        )
    readings.sort(key=lambda r: r.scale)
    return MeterResult(
        meter=plan.meter, readings=readings, created=bool(plan.writes), corrected=corrected
    )


def _message(
    *, window_text: str, period: date, out_of_window: bool, results: list[MeterResult]
) -> str:
    if not any(r.created for r in results):
        return _("Эти показания уже переданы за %(month)s.") % {"month": month_title(period)}
    if out_of_window:
        return window_text
    if any(r.corrected for r in results):
        return _("Показания за %(month)s исправлены. Прежние значения остались в истории.") % {
            "month": month_title(period)
        }
    return _("Показания за %(month)s приняты. Спасибо!") % {"month": month_title(period)}


def consumption_backfill(*, meter_ids: Sequence[int]) -> int:
    """Fill in the consumption of accepted readings that have none (loaded by an import or
    by SQL) from the previous accepted reading of the same scale; a value below the previous
    one is left empty (it needs a person to look at it). Returns how many were filled."""
    filled = 0
    rows = Reading.objects.filter(meter_id__in=meter_ids, status=ReadingStatus.ACCEPTED).order_by(
        "meter_id", "scale", "month"
    )
    previous: dict[tuple[int, int], Decimal] = {}
    for reading in rows:
        key = (reading.meter_id, reading.scale)
        before = previous.get(key)
        previous[key] = reading.value
        if reading.consumption is not None or before is None or reading.value < before:
            continue
        Reading.objects.filter(pk=reading.pk).update(consumption=reading.value - before)
        filled += 1
    return filled
