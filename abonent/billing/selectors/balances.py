"""Balances: SUM(ledger amount) per ЛС and service. Positive = due, negative = overpaid."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    services_by_account: Mapping[int, Iterable[Service]] | None = None,
) -> dict[int, list[ServiceBalance]]:
    """Per account, its balance per service, in ONE query whatever the number of accounts.

    Services listed in `services_by_account` (those the ЛС receives) appear even without a
    ledger entry, as 0; services with entries appear even when the ЛС no longer receives
    them (a debt outlives the service).
    """
    ids = list(account_ids)
    if not ids:
        return {}
    rows = (
        LedgerEntry.objects.filter(account_id__in=ids)
        .values(
            "account_id",
            "service_id",
            "service__code",
            "service__name",
            "service__unit",
            "service__sort_order",
        )
        .annotate(total=Sum("amount"))
        .order_by()
    )
    found: dict[int, dict[int, tuple[int, ServiceBalance]]] = {account_id: {} for account_id in ids}
    for account_id, services in (services_by_account or {}).items():
        for service in services:
            found.setdefault(account_id, {})[service.pk] = (
                service.sort_order,
                ServiceBalance(
                    service_id=service.pk,
                    code=service.code,
                    name=service.name,
                    unit=service.unit,
                    balance=ZERO,
                ),
            )
    for row in rows:
        found[row["account_id"]][row["service_id"]] = (
            row["service__sort_order"],
            ServiceBalance(
                service_id=row["service_id"],
                code=row["service__code"],
                name=row["service__name"],
                unit=row["service__unit"],
                balance=Decimal(row["total"] or ZERO).quantize(ZERO),
            ),
        )
    return {
        account_id: [balance for _, balance in sorted(found[account_id].values(), key=_order)]
        for account_id in ids
    }


def _order(item: tuple[int, ServiceBalance]) -> tuple[int, str]:
    return item[0], item[1].name
