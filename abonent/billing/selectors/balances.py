"""Balances: SUM(ledger amount) per ЛС and service. Positive = due, negative = overpaid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from abonent.billing.models import LedgerEntry, Service

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ServiceBalance:
    service_id: int
    code: str
    name: str
    unit: str
    balance: Decimal

    @property
    def is_due(self) -> bool:
        return self.balance > 0

    @property
    def is_overpaid(self) -> bool:
        return self.balance < 0


def balances_for_accounts(
    *,
    account_ids: Iterable[int],
    service_ids_by_account: dict[int, set[int]] | None = None,
    before_month: date | None = None,
) -> dict[int, list[ServiceBalance]]:
    """Per account, its balance per service, in two queries whatever the number of accounts.

    Services listed in `service_ids_by_account` appear even without a ledger entry (as 0);
    services with entries appear even when the account no longer receives them (a debt
    outlives the service). `before_month` limits the sum to entries of earlier months.
    """
    ids = list(account_ids)
    if not ids:
        return {}
    entries = LedgerEntry.objects.filter(account_id__in=ids)
    if before_month is not None:
        entries = entries.filter(month__lt=before_month)
    sums: dict[tuple[int, int], Decimal] = {
        (row["account_id"], row["service_id"]): row["total"] or ZERO
        for row in entries.values("account_id", "service_id").annotate(total=Sum("amount"))
    }
    wanted: dict[int, set[int]] = {account_id: set() for account_id in ids}
    for account_id, service_ids in (service_ids_by_account or {}).items():
        wanted.setdefault(account_id, set()).update(service_ids)
    for account_id, service_id in sums:
        wanted[account_id].add(service_id)
    all_service_ids = {sid for sids in wanted.values() for sid in sids}
    services = (
        {s.pk: s for s in Service.objects.filter(pk__in=all_service_ids)} if all_service_ids else {}
    )
    result: dict[int, list[ServiceBalance]] = {}
    for account_id in ids:
        rows = [
            ServiceBalance(
                service_id=sid,
                code=services[sid].code,
                name=services[sid].name,
                unit=services[sid].unit,
                balance=Decimal(sums.get((account_id, sid), ZERO)).quantize(Decimal("0.01")),
            )
            for sid in wanted[account_id]
            if sid in services
        ]
        rows.sort(key=lambda b: (services[b.service_id].sort_order, b.name))
        result[account_id] = rows
    return result
