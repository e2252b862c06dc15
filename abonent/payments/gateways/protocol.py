"""What the payments app needs from an acquirer, and nothing more.

Only `payments/gateways/` talks to an acquirer; the rest of the code sees this protocol and
its plain data classes. Every call that changes something carries a deterministic
idempotence key, so a retry after a timeout never charges twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol


class GatewayStatus:
    """The acquirer's view of a payment (YooKassa's vocabulary; the sandbox speaks it too)."""

    PENDING = "pending"
    WAITING_FOR_CAPTURE = "waiting_for_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


# Cancellation reasons that mean «the customer's card or bank said no», not «we canceled».
DECLINE_REASONS = frozenset(
    {
        "card_declined",
        "insufficient_funds",
        "3d_secure_failed",
        "card_expired",
        "fraud_suspected",
        "payment_method_restricted",
        "call_issuer",
        "issuer_unavailable",
        "general_decline",
    }
)


@dataclass(frozen=True)
class CardInfo:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class GatewayPayment:
    id: str
    status: str
    amount: Decimal
    refunded_amount: Decimal = Decimal("0.00")
    confirmation_url: str = ""
    card: CardInfo | None = None
    card_saved: bool = False
    fiscal_receipt_url: str = ""
    cancellation_reason: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceiptItem:
    """One 54-ФЗ receipt line: an ЛС × service."""

    description: str
    amount: Decimal
    vat_code: int
    quantity: Decimal = Decimal("1")
    payment_subject: str = "service"
    payment_mode: str = "full_payment"


@dataclass(frozen=True)
class Receipt:
    items: tuple[ReceiptItem, ...]
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class PayeeOrder:
    """Utility-payment details (YooKassa's `payment_order`) for a payment of one ЛС."""

    payee_name: str
    payee_inn: str
    payee_kpp: str
    bank_name: str
    bank_bic: str
    bank_account: str
    bank_corr_account: str
    account_number: str
    purpose: str
    month: int
    year: int
    amount: Decimal


@dataclass(frozen=True)
class CreatePayment:
    idempotence_key: str
    amount: Decimal
    description: str
    return_url: str
    capture: bool = True
    save_card: bool = False
    card_token: str = ""
    receipt: Receipt | None = None
    payee_order: PayeeOrder | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    client_ip: str = ""


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    status: str  # pending / succeeded / canceled
    amount: Decimal


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    kind: str
    payment_id: str
    # The payment as the notification states it, when the notification can be trusted
    # (signed). None means: fetch the payment from the acquirer before acting.
    payment: GatewayPayment | None = None


class GatewayError(Exception):
    """The acquirer refused the request (a definite answer)."""

    def __init__(self, message: str, *, code: str = "gateway_error") -> None:
        super().__init__(message)
        self.code = code


class GatewayUnavailable(GatewayError):
    """No definite answer (timeout, connection error, 5xx): the outcome is unknown, the same
    call with the same idempotence key may be repeated."""


class WebhookRejected(Exception):
    """A notification we do not accept (bad signature, unknown address, malformed)."""

    def __init__(self, message: str, *, status: int = 400, code: str = "webhook_rejected") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class PaymentGateway(Protocol):
    name: str
    supports_holds: bool

    def create_payment(self, request: CreatePayment) -> GatewayPayment: ...

    def get_payment(self, payment_id: str) -> GatewayPayment: ...

    def capture(
        self, payment_id: str, *, amount: Decimal, idempotence_key: str
    ) -> GatewayPayment: ...

    def cancel(self, payment_id: str, *, idempotence_key: str) -> GatewayPayment: ...

    def refund(
        self,
        payment_id: str,
        *,
        amount: Decimal,
        idempotence_key: str,
        receipt: Receipt | None = None,
    ) -> GatewayRefund: ...

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], client_ip: str | None
    ) -> WebhookEvent: ...


def receipt_json(receipt: Receipt | None) -> dict[str, Any] | None:
    """The 54-ФЗ receipt in the shape YooKassa uses (the sandbox accepts the same)."""
    if receipt is None:
        return None
    customer = {"email": receipt.email} if receipt.email else {"phone": receipt.phone.lstrip("+")}
    return {
        "customer": customer,
        "items": [
            {
                "description": item.description[:128],
                "quantity": f"{item.quantity:.2f}",
                "amount": {"value": f"{item.amount:.2f}", "currency": "RUB"},
                "vat_code": item.vat_code,
                "payment_subject": item.payment_subject,
                "payment_mode": item.payment_mode,
            }
            for item in receipt.items
        ],
    }
