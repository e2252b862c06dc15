"""The printable list of submitted meter readings of an ЛС for a range of months (PDF).

Data building lives here (not in documents/selectors.py) so the meters feature stays in
files of its own; rendering goes through the same reused Typst compiler as the bills.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from abonent.accounts.models import PersonalAccount
from abonent.documents import format as fmt
from abonent.documents import render
from abonent.documents.selectors import (
    _account_data,
    _branch_data,
    account_for_customer,
    statement_range,
)
from abonent.meters.models import Meter, Reading, ReadingSource, ReadingStatus


@dataclass(frozen=True)
class ReadingsDocument:
    data: dict[str, Any]
    filename: str
    ascii_filename: str


def reading_value(value: Decimal, *, decimals: int) -> str:
    """Decimal('1234.5') with 3 decimals → '1234,500' (as the meter shows it)."""
    return f"{value:.{decimals}f}".replace(".", ",")


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def readings_document(
    *, account: PersonalAccount, month_from: date, month_to: date, now: datetime
) -> ReadingsDocument:
    """Every version of every reading of the ЛС's meters counted for the months in range,
    per meter, oldest first; corrected versions are marked, not hidden."""
    tz = ZoneInfo(account.branch.timezone)
    meters = list(
        Meter.objects.filter(account=account)
        .select_related("service")
        .order_by("service__sort_order", "serial")
    )
    readings = (
        Reading.objects.filter(
            meter__account=account, month__gte=month_from, month__lt=_next_month(month_to)
        )
        .exclude(status=ReadingStatus.NEEDS_CONFIRMATION)
        .order_by("month", "scale", "taken_at", "pk")
    )
    by_meter: dict[int, list[Reading]] = {}
    for reading in readings:
        by_meter.setdefault(reading.meter_id, []).append(reading)
    sources = dict(ReadingSource.choices)
    statuses = dict(ReadingStatus.choices)
    blocks = []
    for meter in meters:
        rows = []
        for r in by_meter.get(meter.pk, []):
            scale = meter.scale_name(r.scale)
            rows.append(
                {
                    "month": fmt.month_short(r.month),
                    "scale": scale or "—",
                    "value": reading_value(r.value, decimals=meter.decimals),
                    "consumption": fmt.number(r.consumption) if r.consumption is not None else "—",
                    "taken": f"{r.taken_at.astimezone(tz):%d.%m.%Y %H:%M}",
                    "source": str(sources.get(r.source, r.source)),
                    "status": str(statuses.get(r.status, r.status)),
                    "accepted": r.status == ReadingStatus.ACCEPTED,
                }
            )
        if not rows and meter.status == "removed":
            continue
        blocks.append(
            {
                "service": meter.service.name,
                "unit": meter.service.unit,
                "serial": meter.serial,
                "model": meter.model or "—",
                "verification": f"{meter.next_verification_date:%d.%m.%Y}"
                if meter.next_verification_date
                else "—",
                "rows": rows,
            }
        )
    generated = now.astimezone(tz)
    data = {
        "range": f"{fmt.month_name(month_from)} — {fmt.month_name(month_to)}",
        "generated": f"{generated:%d.%m.%Y %H:%M}",
        "account": _account_data(account),
        "branch": _branch_data(account.branch),
        "meters": blocks,
    }
    return ReadingsDocument(
        data=data,
        filename=f"Показания {account.number} {month_from:%Y-%m} — {month_to:%Y-%m}.pdf",
        ascii_filename=f"readings-{account.number}-{month_from:%Y-%m}-{month_to:%Y-%m}.pdf",
    )


def readings_pdf(*, data: dict[str, Any], timestamp: datetime | None = None) -> bytes:
    source = (
        '#import "readings.typ": readings\n'
        f"#readings(json(bytes({render.typst_string(render.to_json(data))})))\n"
    )
    return render.compile_pdf(source, timestamp=timestamp)


def readings_pdf_for_customer(
    *, user: Any, account_id: int, raw_from: str | None, raw_to: str | None, now: datetime
) -> tuple[ReadingsDocument, bytes]:
    """The PDF of a linked ЛС (404 otherwise); `from`/`to` as YYYY-MM, by default the last
    12 months up to this one."""
    account = account_for_customer(user=user, account_id=account_id)
    first, last = statement_range(
        raw_from=raw_from,
        raw_to=raw_to,
        today=now.astimezone(ZoneInfo(account.branch.timezone)).date(),
    )
    document = readings_document(account=account, month_from=first, month_to=last, now=now)
    return document, readings_pdf(data=document.data, timestamp=now)
