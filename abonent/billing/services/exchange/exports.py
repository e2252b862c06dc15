"""Payments and readings out, as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from abonent.accounts.models import Branch
from abonent.billing.models import (
    EntryKind,
    LedgerEntry,
)
from abonent.meters.models import Reading, ReadingStatus

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
