"""Billing writes: the monthly run and closing a period (see run.py and periods.py)."""

from abonent.billing.services import exchange as exchange  # import_*/export_* (exchange.py)
from abonent.billing.services.periods import period_close
from abonent.billing.services.run import (
    RunResult,
    billing_run,
    billing_run_check,
    billing_run_enqueue,
    period_get_or_create,
)

__all__ = [
    "RunResult",
    "billing_run",
    "billing_run_check",
    "billing_run_enqueue",
    "period_close",
    "period_get_or_create",
]
