"""Readings from an external system (CSV `;` or JSON, the columns `billing_export
--kind readings` writes: account; service; serial; scale; value; month), all or nothing.

Each ЛС + serial + month becomes one entry through `reading_enter` (source = import), so
the same checks and versioning apply; the external system is taken at its word about a
rollover or a large consumption. A line that fails rejects the whole file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from abonent.accounts.models import Branch
from abonent.billing.services.exchange import Row
from abonent.core.errors import DomainError, ValidationFailed
from abonent.meters.models import Meter, ReadingSource
from abonent.meters.services.readings import HIGH, ROLLOVER, ReadingInput, reading_enter

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class ReadingsImport:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


class _Rejected(Exception):
    pass


def readings_import(
    *, branch: Branch, rows: list[Row], now: datetime, actor: Any | None = None
) -> ReadingsImport:
    report = ReadingsImport(rows=len(rows))
    groups: dict[tuple[str, str, date], dict[int, tuple[int, str]]] = {}
    for row in rows:
        data = row.data
        try:
            match = _MONTH.match(data.get("month", ""))
            if not match or not 1 <= int(match.group(2)) <= 12:
                raise _Rejected(_("месяц — в виде ГГГГ-ММ"))
            month = date(int(match.group(1)), int(match.group(2)), 1)
            scale_text = data.get("scale") or "1"
            if not scale_text.isdigit():
                raise _Rejected(_("зона — число"))
            if not data.get("account") or not data.get("serial"):
                raise _Rejected(_("нужны account и serial"))
            key = (data["account"], data["serial"], month)
            groups.setdefault(key, {})[int(scale_text)] = (row.line, data.get("value", ""))
        except _Rejected as exc:
            report.errors.append(
                _("строка %(line)s: %(reason)s") % {"line": row.line, "reason": exc}
            )
    meters = {
        (m.account.number, m.serial): m
        for m in Meter.objects.filter(account__branch=branch).select_related("account")
    }
    try:
        with transaction.atomic():
            for (number, serial, month), values in groups.items():
                line = min(v[0] for v in values.values())
                meter = meters.get((number, serial))
                if meter is None:
                    report.errors.append(
                        _("строка %(line)s: нет счётчика %(serial)s на ЛС %(number)s")
                        % {"line": line, "serial": serial, "number": number}
                    )
                    continue
                try:
                    result = reading_enter(
                        operator=actor,
                        item=ReadingInput(
                            meter_id=meter.pk,
                            values={scale: text for scale, (_line, text) in values.items()},
                            confirm=frozenset({ROLLOVER, HIGH}),
                        ),
                        now=now,
                        month=month,
                        source=ReadingSource.IMPORT,
                    )
                except DomainError as exc:
                    reason = "; ".join(m for msgs in exc.fields.values() for m in msgs)
                    report.errors.append(
                        _("строка %(line)s: %(reason)s")
                        % {"line": line, "reason": reason or exc.message}
                    )
                    continue
                if result.created:
                    report.created += 1
                else:
                    report.unchanged += 1
            if report.errors:
                raise ValidationFailed(_("Файл отклонён: ничего не записано."), code="import")
    except ValidationFailed:
        report.created = report.unchanged = 0
    return report
