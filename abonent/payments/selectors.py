"""Payment reads: the «Оплата» form's lines, my payments, my cards, my autopay settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from abonent.accounts.selectors import AccountSummary, accounts_summary
from abonent.core.errors import NotFound
from abonent.payments.models import (
    AutopaySetting,
    Payment,
    PaymentLine,
    PaymentPurpose,
    SavedCard,
)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PayLine:
    account_id: int
    service_id: int
    service: str
    balance: Decimal
    due: Decimal  # what is pre-filled: the debt, or 0 when overpaid

    @property
    def field(self) -> str:
        return f"amount_{self.account_id}_{self.service_id}"


@dataclass(frozen=True)
class PayAccount:
    summary: AccountSummary
    lines: list[PayLine]


def pay_form_accounts(*, user: Any, today: date | None = None) -> list[PayAccount]:
    """Every linked ЛС with each service as a line pre-filled with what is due."""
    result = []
    for summary in accounts_summary(user=user, today=today):
        lines = [
            PayLine(
                account_id=summary.account_id,
                service_id=s.service_id,
                service=s.name,
                balance=s.balance,
                due=s.balance if s.balance > 0 else ZERO,
            )
            for s in summary.services
        ]
        result.append(PayAccount(summary=summary, lines=lines))
    return result


def _lines() -> Prefetch[Any]:
    return Prefetch(
        "lines",
        queryset=PaymentLine.objects.select_related("account__address", "service").order_by("pk"),
    )


def payment_list_for_user(*, user: Any) -> QuerySet[Payment]:
    """The customer's payments of dues, newest first, lines prefetched (two queries)."""
    return (
        Payment.objects.filter(user=user, purpose=PaymentPurpose.DUES)
        .prefetch_related(_lines())
        .order_by("-created_at", "-pk")
    )


def payment_for_user(*, user: Any, payment_id: int, purpose: str | None = None) -> Payment:
    """One of the customer's payments; another customer's is simply not found (404)."""
    qs = Payment.objects.filter(pk=payment_id, user=user).prefetch_related(_lines())
    if purpose:
        qs = qs.filter(purpose=purpose)
    payment = qs.select_related("card", "user").first()
    if payment is None:
        raise NotFound(_("Платёж не найден."), code="payment_not_found")
    return payment


def card_list_for_user(*, user: Any) -> QuerySet[SavedCard]:
    return SavedCard.objects.filter(user=user, deleted_at__isnull=True).order_by("created_at", "pk")


def autopay_list_for_user(*, user: Any) -> QuerySet[AutopaySetting]:
    return AutopaySetting.objects.filter(user=user).select_related("account", "card")
