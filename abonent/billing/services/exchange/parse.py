"""Reading import files and checking their fields (see the package docstring)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext

from abonent.accounts.models import Branch, PersonalAccount
from abonent.billing.models import (
    BillingPeriod,
    PeriodStatus,
    Service,
)
from abonent.core.errors import Conflict, DomainError, ValidationFailed
from abonent.core.money import money

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
