"""Payment writes: starting and applying payments, cards, notifications, refunds,
reconciliation and autopay (one module per concern)."""

from abonent.payments.services.autopay import (
    autopay_charge,
    autopay_delete,
    autopay_notify,
    autopay_save,
)
from abonent.payments.services.cards import (
    card_check_release,
    card_check_start,
    card_delete,
    card_rename,
)
from abonent.payments.services.payments import (
    StartResult,
    payment_apply,
    payment_refresh,
    payment_start,
    payment_submit,
)
from abonent.payments.services.reconcile import payments_reconcile, reconciliation_report_build
from abonent.payments.services.refunds import refund_create
from abonent.payments.services.validation import LineInput
from abonent.payments.services.webhooks import webhook_receive

__all__ = [
    "LineInput",
    "StartResult",
    "autopay_charge",
    "autopay_delete",
    "autopay_notify",
    "autopay_save",
    "card_check_release",
    "card_check_start",
    "card_delete",
    "card_rename",
    "payment_apply",
    "payment_refresh",
    "payment_start",
    "payment_submit",
    "payments_reconcile",
    "reconciliation_report_build",
    "refund_create",
    "webhook_receive",
]
