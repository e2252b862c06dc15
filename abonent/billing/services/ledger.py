"""Posting money that arrived from outside the billing run: card payments and their refunds.

Each entry carries a unique `source_ref`, so posting the same payment line (or refund line)
again is a no-op: exactly-once even when a notification and the reconciliation job race.
Call these inside the transaction that records the payment's state change.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from abonent.billing.models import EntryKind, LedgerEntry


def _month_of(day: date) -> date:
    return day.replace(day=1)


def ledger_post_payment(
    *,
    source_ref: str,
    account_id: int,
    service_id: int,
    amount: Decimal,
    at: datetime,
    local_date: date,
    note: str = "",
) -> bool:
    """A payment of `amount` (> 0) lowers the debt: stored as −amount. True if posted now."""
    if amount <= 0:
        raise ValueError("a payment posts a positive amount")
    _, created = LedgerEntry.objects.get_or_create(
        source_ref=source_ref,
        defaults={
            "account_id": account_id,
            "service_id": service_id,
            "kind": EntryKind.PAYMENT,
            "amount": -amount,
            "month": _month_of(local_date),
            "at": at,
            "note": note[:300],
        },
    )
    return created


def ledger_post_correction(
    *,
    source_ref: str,
    account_id: int,
    service_id: int,
    amount: Decimal,
    at: datetime,
    local_date: date,
    note: str = "",
) -> bool:
    """A correction (e.g. a refund of a card payment: + raises the debt back)."""
    _, created = LedgerEntry.objects.get_or_create(
        source_ref=source_ref,
        defaults={
            "account_id": account_id,
            "service_id": service_id,
            "kind": EntryKind.CORRECTION,
            "amount": amount,
            "month": _month_of(local_date),
            "at": at,
            "note": note[:300],
        },
    )
    return created
