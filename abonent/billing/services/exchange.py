"""Import and export for branches whose billing lives in an external system.

Files are UTF-8 CSV (header required, `;` or `,` detected) or JSON (a list of objects).
Every import is all-or-nothing per file: each row is validated first; if any row is bad
nothing is written and the report lists every rejected row with its line number (the CSV
line, header = 1; the 1-based position of the object in a JSON list) and a Russian reason.
Otherwise the rows are written in one transaction with bulk operations.

Opening balances carry `source_ref = import:<branch>:<file digest>:<line>`, so importing
the same file again posts nothing twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext

from abonent.accounts.models import AccountService, Address, Branch, PersonalAccount
from abonent.billing.models import (
    BillingPeriod,
    Charge,
    ChargeMethod,
    EntryKind,
    LedgerEntry,
    PeriodStatus,
    Service,
)
from abonent.core.errors import Conflict, DomainError, ValidationFailed
from abonent.core.money import money
from abonent.core.services import audit_record
from abonent.meters.models import Reading, ReadingStatus

ACCOUNT_NUMBER = re.compile(r"^\d{6,20}$")


@dataclass(frozen=True)
class Row:
    line: int
    data: dict[str, str]


@dataclass(frozen=True)
class ParsedFile:
    rows: list[Row]
    digest: str  # first 16 hex digits of the file's SHA-256


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    skipped: int = 0
    total: Decimal = Decimal("0.00")
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def lines(self) -> list[str]:
        if self.rejected:
            out = [
                gettext("Файл отклонён (%(kind)s): ошибок %(count)s, ничего не записано.")
                % {"kind": self.kind, "count": len(self.rejected)}
            ]
            out += [
                gettext("строка %(line)s: %(reason)s") % {"line": r.line, "reason": r.reason}
                for r in self.rejected
            ]
            return out
        return [
            gettext(
                "Импорт (%(kind)s): строк %(rows)s, записано %(created)s, "
                "пропущено %(skipped)s, сумма %(total)s"
            )
            % {
                "kind": self.kind,
                "rows": self.rows,
                "created": self.created,
                "skipped": self.skipped,
                "total": self.total,
            }
        ]


# ---------------------------------------------------------------- parsing


def exchange_parse(*, content: bytes) -> ParsedFile:
    """Rows of a CSV or JSON file; raises ValidationFailed if the file itself is unreadable."""
    digest = hashlib.sha256(content).hexdigest()[:16]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            gettext("Файл должен быть в кодировке UTF-8."), code="import_encoding"
        ) from exc
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return ParsedFile(rows=_json_rows(stripped), digest=digest)
    return ParsedFile(rows=_csv_rows(text), digest=digest)


def _clean(data: dict[Any, Any]) -> dict[str, str]:
    return {
        str(k).strip().lower(): ("" if v is None else str(v).strip())
        for k, v in data.items()
        if k is not None
    }


def _json_rows(text: str) -> list[Row]:
    try:
        items = json.loads(text, parse_float=str)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            gettext("Файл JSON повреждён: %(error)s") % {"error": exc.msg}, code="import_json"
        ) from exc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ValidationFailed(
            gettext("Файл JSON должен содержать список объектов."), code="import_json"
        )
    return [Row(line=n, data=_clean(item)) for n, item in enumerate(items, start=1)]


def _csv_rows(text: str) -> list[Row]:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ValidationFailed(gettext("В файле нет строки заголовка."), code="import_no_header")
    header = lines[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows: list[Row] = []
    for record in reader:
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue
        rows.append(Row(line=reader.line_num, data=_clean(record)))
    return rows


# ---------------------------------------------------------------- field checks


class RowError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _required(row: Row, name: str) -> str:
    value = row.data.get(name, "")
    if not value:
        raise RowError(gettext("не заполнено поле «%(field)s»") % {"field": name})
    return value


def _decimal(row: Row, name: str, *, places: int, default: str | None = None) -> Decimal:
    text = row.data.get(name, "")
    if not text and default is not None:
        text = default
    text = text.replace(",", ".").replace(" ", "").replace("\u00a0", "")
    if not text:
        raise RowError(gettext("не заполнено поле «%(field)s»") % {"field": name})
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise RowError(
            gettext("«%(field)s»: не число (%(value)s)") % {"field": name, "value": text}
        ) from exc
    if not value.is_finite() or value != value.quantize(Decimal(1).scaleb(-places)):
        raise RowError(
            gettext("«%(field)s»: не больше %(places)s знаков после запятой")
            % {"field": name, "places": places}
        )
    return value


def _money(row: Row, name: str) -> Decimal:
    value = _decimal(row, name, places=2)
    try:
        return money(value)
    except DomainError as exc:
        raise RowError(f"«{name}»: {exc.message}") from exc


def _account_number(row: Row, name: str = "account") -> str:
    number = _required(row, name)
    if not ACCOUNT_NUMBER.match(number):
        raise RowError(gettext("номер ЛС «%(number)s»: нужно от 6 до 20 цифр") % {"number": number})
    return number


def _service(row: Row, services: dict[str, Service]) -> Service:
    code = _required(row, "service")
    if code not in services:
        raise RowError(gettext("неизвестная услуга «%(code)s»") % {"code": code})
    return services[code]


def _date(row: Row, name: str) -> date:
    text = row.data.get(name, "")
    if not text:
        raise RowError(gettext("не заполнено поле «%(field)s»") % {"field": name})
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007
        except ValueError:
            continue
    raise RowError(
        gettext("«%(field)s»: дата должна быть ГГГГ-ММ-ДД или ДД.ММ.ГГГГ (%(value)s)")
        % {"field": name, "value": text}
    )


def _short(row: Row, name: str, limit: int, *, required: bool = True) -> str:
    value = _required(row, name) if required else row.data.get(name, "")
    if len(value) > limit:
        raise RowError(
            gettext("«%(field)s»: не длиннее %(limit)s символов") % {"field": name, "limit": limit}
        )
    return value


def _services() -> dict[str, Service]:
    return {s.code: s for s in Service.objects.all()}


def _accounts(branch: Branch, numbers: set[str]) -> dict[str, PersonalAccount]:
    return {a.number: a for a in PersonalAccount.objects.filter(branch=branch, number__in=numbers)}


def _open_period(*, branch: Branch, month: date) -> BillingPeriod:
    period, _created = BillingPeriod.objects.get_or_create(
        branch=branch, month=month.replace(day=1)
    )
    period = BillingPeriod.objects.select_for_update().get(pk=period.pk)
    if period.status == PeriodStatus.CLOSED:
        raise Conflict(
            gettext("Период %(month)s закрыт: импорт в него невозможен.")
            % {"month": f"{period.month:%m.%Y}"},
            code="period_closed",
        )
    return period


# ---------------------------------------------------------------- imports


def import_accounts(*, branch: Branch, rows: Sequence[Row], now: datetime) -> ImportReport:
    """ЛС with their address; `services` lists service codes separated by spaces or `|`.

    Columns: account, owner_name, settlement, street, house, [building], [flat], [area],
    [residents], [services], [since]. An ЛС whose number the branch already has is skipped.
    """
    report = ImportReport(kind="accounts", rows=len(rows))
    services = _services()
    existing = _accounts(branch, {r.data.get("account", "") for r in rows})
    seen: set[str] = set()
    valid: list[tuple[dict[str, Any], list[Service]]] = []
    for row in rows:
        try:
            number = _account_number(row)
            if number in seen:
                raise RowError(gettext("ЛС %(number)s повторяется в файле") % {"number": number})
            seen.add(number)
            item: dict[str, Any] = {
                "number": number,
                "owner_name": _short(row, "owner_name", 200),
                "settlement": _short(row, "settlement", 100),
                "street": _short(row, "street", 150),
                "house": _short(row, "house", 20),
                "building": _short(row, "building", 10, required=False),
                "flat": _short(row, "flat", 10, required=False),
                "area": _decimal(row, "area", places=2, default="0"),
                "residents": _decimal(row, "residents", places=0, default="1"),
                "since": _date(row, "since") if row.data.get("since") else date(now.year, 1, 1),
            }
            if item["area"] < 0 or item["residents"] < 0:
                raise RowError(gettext("площадь и число жильцов не могут быть отрицательными"))
            if item["area"] >= 1_000_000 or item["residents"] > 32767:
                raise RowError(gettext("площадь или число жильцов слишком велики"))
            codes = [c for c in re.split(r"[\s|]+", row.data.get("services", "")) if c]
            unknown = [c for c in codes if c not in services]
            if unknown:
                raise RowError(gettext("неизвестная услуга «%(code)s»") % {"code": unknown[0]})
            valid.append((item, [services[c] for c in codes]))
        except RowError as exc:
            report.rejected.append(RejectedRow(line=row.line, reason=exc.reason))
    if report.rejected:
        return report
    new = [(item, svcs) for item, svcs in valid if item["number"] not in existing]
    report.skipped = len(valid) - len(new)
    with transaction.atomic():
        key_fields = ("settlement", "street", "house", "building", "flat")
        addresses = {
            tuple(getattr(a, f) for f in key_fields): a
            for a in Address.objects.filter(
                branch=branch, settlement__in={item["settlement"] for item, _s in new}
            )
        }
        missing = {tuple(item[f] for f in key_fields) for item, _s in new} - addresses.keys()
        Address.objects.bulk_create(
            [
                Address(branch=branch, **dict(zip(key_fields, key, strict=True)))
                for key in sorted(missing)
            ]
        )
        addresses.update(
            {
                tuple(getattr(a, f) for f in key_fields): a
                for a in Address.objects.filter(
                    branch=branch, settlement__in={k[0] for k in missing}
                )
            }
        )
        PersonalAccount.objects.bulk_create(
            [
                PersonalAccount(
                    branch=branch,
                    number=item["number"],
                    address=addresses[tuple(item[f] for f in key_fields)],
                    owner_name=item["owner_name"],
                    area=item["area"],
                    residents=int(item["residents"]),
                )
                for item, _s in new
            ]
        )
        created = _accounts(branch, {item["number"] for item, _s in new})
        AccountService.objects.bulk_create(
            [
                AccountService(
                    account=created[item["number"]], service=svc, valid_from=item["since"]
                )
                for item, svcs in new
                for svc in svcs
            ]
        )
        report.created = len(new)
        audit_record(
            now=now,
            action="billing.import_accounts",
            target=branch,
            data={"created": report.created, "skipped": report.skipped},
        )
    return report


def import_charges(
    *, branch: Branch, month: date, rows: Sequence[Row], now: datetime
) -> ImportReport:
    """Charges of an open period as method «import». Columns: account, service, amount,
    [volume], [tariff]. A line the period already has for that ЛС and service is an error."""
    month = month.replace(day=1)
    report = ImportReport(kind="charges", rows=len(rows))
    with transaction.atomic():
        period = _open_period(branch=branch, month=month)
        services = _services()
        accounts = _accounts(branch, {r.data.get("account", "") for r in rows})
        taken = set(
            Charge.objects.filter(period=period, for_month=month).values_list(
                "account_id", "service_id"
            )
        )
        charges: list[Charge] = []
        for row in rows:
            try:
                number = _account_number(row)
                service = _service(row, services)
                account = accounts.get(number)
                if account is None:
                    raise RowError(
                        gettext("ЛС %(number)s не найден в филиале") % {"number": number}
                    )
                amount = _money(row, "amount")
                volume = _decimal(row, "volume", places=6, default="0")
                tariff = _decimal(row, "tariff", places=4, default="0")
                if volume < 0 or tariff < 0:
                    raise RowError(gettext("объём и тариф не могут быть отрицательными"))
                key = (account.pk, service.pk)
                if key in taken:
                    raise RowError(
                        gettext("начисление ЛС %(number)s по услуге «%(code)s» уже есть")
                        % {"number": number, "code": service.code}
                    )
                taken.add(key)
                charges.append(
                    Charge(
                        account=account,
                        service=service,
                        period=period,
                        for_month=month,
                        volume=volume,
                        unit=service.unit,
                        tariff=tariff,
                        method=ChargeMethod.IMPORT,
                        amount=amount,
                        reason=gettext("импорт"),
                    )
                )
            except RowError as exc:
                report.rejected.append(RejectedRow(line=row.line, reason=exc.reason))
        if report.rejected:
            transaction.set_rollback(True)
            return report
        Charge.objects.bulk_create(charges)
        report.created = len(charges)
        report.total = sum((c.amount for c in charges), Decimal("0.00"))
        audit_record(
            now=now,
            action="billing.import_charges",
            target=period,
            data={"created": report.created, "total": str(report.total)},
        )
    return report


def import_balances(
    *, branch: Branch, month: date, rows: Sequence[Row], file_digest: str, now: datetime
) -> ImportReport:
    """Opening balances (+ due, − advance) as ledger entries of `month`.

    Columns: account, service, amount. Rows already posted from the same file are skipped;
    a closed period of `month` is refused (its bills are issued).
    """
    month = month.replace(day=1)
    report = ImportReport(kind="balances", rows=len(rows))
    services = _services()
    accounts = _accounts(branch, {r.data.get("account", "") for r in rows})
    entries: list[LedgerEntry] = []
    for row in rows:
        try:
            number = _account_number(row)
            service = _service(row, services)
            account = accounts.get(number)
            if account is None:
                raise RowError(gettext("ЛС %(number)s не найден в филиале") % {"number": number})
            entries.append(
                LedgerEntry(
                    account=account,
                    service=service,
                    kind=EntryKind.OPENING,
                    amount=_money(row, "amount"),
                    month=month,
                    at=now,
                    source_ref=f"import:{branch.code}:{file_digest}:{row.line}",
                    note=gettext("входящий остаток из внешней системы"),
                )
            )
        except RowError as exc:
            report.rejected.append(RejectedRow(line=row.line, reason=exc.reason))
    if report.rejected:
        return report
    with transaction.atomic():
        closed = BillingPeriod.objects.filter(
            branch=branch, month=month, status=PeriodStatus.CLOSED
        ).exists()
        if closed:
            raise Conflict(
                gettext("Период %(month)s закрыт: импорт в него невозможен.")
                % {"month": f"{month:%m.%Y}"},
                code="period_closed",
            )
        posted = set(
            LedgerEntry.objects.filter(source_ref__in=[e.source_ref for e in entries]).values_list(
                "source_ref", flat=True
            )
        )
        new = [e for e in entries if e.source_ref not in posted]
        LedgerEntry.objects.bulk_create(new, ignore_conflicts=True)
        report.created = len(new)
        report.skipped = len(entries) - len(new)
        report.total = sum((e.amount for e in new), Decimal("0.00"))
        audit_record(
            now=now,
            action="billing.import_balances",
            target=branch,
            data={"created": report.created, "skipped": report.skipped, "digest": file_digest},
        )
    return report


# ---------------------------------------------------------------- exports


def export_payments(*, branch: Branch, date_from: date, date_to: date) -> list[dict[str, str]]:
    """Payments posted from `date_from` to `date_to` inclusive (the branch's local dates)."""
    tz = ZoneInfo(branch.timezone)
    start = datetime.combine(date_from, time.min, tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
    entries = (
        LedgerEntry.objects.filter(
            account__branch=branch, kind=EntryKind.PAYMENT, at__gte=start, at__lt=end
        )
        .select_related("account", "service")
        .order_by("at", "pk")
    )
    return [
        {
            "account": e.account.number,
            "service": e.service.code,
            "date": f"{e.at.astimezone(tz):%Y-%m-%d}",
            "amount": f"{-e.amount:.2f}",
            "month": f"{e.month:%Y-%m}",
            "ref": e.source_ref or "",
        }
        for e in entries
    ]


def export_readings(*, branch: Branch, month: date) -> list[dict[str, str]]:
    """Accepted readings of `month` with the ЛС number and the meter serial."""
    readings = (
        Reading.objects.filter(
            meter__account__branch=branch,
            month=month.replace(day=1),
            status=ReadingStatus.ACCEPTED,
        )
        .select_related("meter__account", "meter__service")
        .order_by("meter__account__number", "meter__serial", "scale")
    )
    return [
        {
            "account": r.meter.account.number,
            "service": r.meter.service.code,
            "serial": r.meter.serial,
            "scale": str(r.scale),
            "value": f"{r.value}",
            "month": f"{r.month:%Y-%m}",
            "source": r.source,
        }
        for r in readings
    ]


def exchange_render(*, rows: list[dict[str, str]], fmt: str, fields: Sequence[str]) -> str:
    """Rows as CSV (`;`, header) or as a JSON list."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


PAYMENT_FIELDS: tuple[str, ...] = ("account", "service", "date", "amount", "month", "ref")
READING_FIELDS: tuple[str, ...] = (
    "account",
    "service",
    "serial",
    "scale",
    "value",
    "month",
    "source",
)
