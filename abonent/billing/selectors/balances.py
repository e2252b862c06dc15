"""Balances: SUM(ledger amount) per ЛС and service. Positive = due, negative = overpaid."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from abonent.billing.models import LedgerEntry, Service

ZERO = Decimal("0.00")
# Every page with balances runs this: one statement written once (see core/sql.py for why).
_SUMS = (
    "SELECT e.account_id, e.service_id, s.code, s.name, s.unit, s.sort_order, SUM(e.amount) "  # noqa: S608 — table names from model metadata; values bound  # nosec B608
    f'FROM "{LedgerEntry._meta.db_table}" e JOIN "{Service._meta.db_table}" s '
    "ON s.id = e.service_id WHERE e.account_id IN ({ids}) "
    "GROUP BY e.account_id, e.service_id, s.code, s.name, s.unit, s.sort_order"
)


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
    with connection.cursor() as cursor:
        cursor.execute(_SUMS.format(ids=", ".join(["%s"] * len(ids))), ids)
        rows = cursor.fetchall()
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
    for account_id, service_id, code, name, unit, sort_order, total in rows:
        found[account_id][service_id] = (
            sort_order,
            ServiceBalance(
                service_id=service_id,
                code=code,
                name=name,
                unit=unit,
                # PostgreSQL sums to a Decimal; SQLite to a float or an int.
                balance=(
                    total if isinstance(total, Decimal) else Decimal(str(total or 0))
                ).quantize(ZERO),
            ),
        )
    return {
        account_id: [balance for _, balance in sorted(found[account_id].values(), key=_order)]
        for account_id in ids
    }


def _order(item: tuple[int, ServiceBalance]) -> tuple[int, str]:
    return item[0], item[1].name
