"""Billing reads: balances per ЛС and service, a month's charge breakdown, the history."""

from abonent.billing.selectors.balances import ServiceBalance, balances_for_accounts
from abonent.billing.selectors.charges import (
    Breakdown,
    BreakdownLine,
    Comparison,
    HistoryMonth,
    ServiceMoney,
    charge_months,
    charges_breakdown,
    charges_history,
)

__all__ = [
    "Breakdown",
    "BreakdownLine",
    "Comparison",
    "HistoryMonth",
    "ServiceBalance",
    "ServiceMoney",
    "balances_for_accounts",
    "charge_months",
    "charges_breakdown",
    "charges_history",
]
