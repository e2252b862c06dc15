"""The sandbox acquirer's behaviour: create, authorize by card (with 3-D Secure), capture,
cancel, refund, and the asynchronous notifications it owes the merchant.

Test cards (any future expiry, any CVC) decide the outcome, see `TEST_CARDS`; any other
number that passes the Luhn check pays successfully.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction

from abonent.payments.gateways.sandbox.bank.models import (
    BankCard,
    BankNotification,
    BankPayment,
    BankRefund,
    BankStatus,
    Behaviour,
)

logger = logging.getLogger(__name__)

THREE_DS_CODE = "12345"
THREE_DS_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    behaviour: str
    title: str


TEST_CARDS: dict[str, TestCard] = {
    c.number: c
    for c in (
        TestCard("2200000000000004", "Мир", Behaviour.SUCCESS, "успешная оплата"),
        TestCard("4111111111111111", "Visa", Behaviour.SUCCESS, "успешная оплата"),
        TestCard("5555555555554444", "Mastercard", Behaviour.SUCCESS, "успешная оплата"),
        TestCard("4000000000000002", "Visa", Behaviour.DECLINE, "отказ банка"),
        TestCard("4000000000009995", "Visa", Behaviour.INSUFFICIENT, "недостаточно средств"),
        TestCard("4000000000003220", "Visa", Behaviour.THREE_DS, "3-D Secure, затем без него"),
        TestCard("4000000000003063", "Visa", Behaviour.THREE_DS_ALWAYS, "3-D Secure каждый раз"),
    )
}


class BankError(Exception):
    def __init__(self, message: str, *, code: str = "invalid_request", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number in TEST_CARDS:
        return TEST_CARDS[number].brand
    if number.startswith("220"):
        return "Мир"
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or number[:1] == "2":
        return "Mastercard"
    return "Card"


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise BankError("amount is not a number") from exc
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise BankError("amount must be positive with at most two decimals")
    return amount


def payment_json(payment: BankPayment, *, base_url: str) -> dict[str, Any]:
    card = payment.card
    data: dict[str, Any] = {
        "id": payment.public_id,
        "status": payment.status,
        "amount": f"{payment.amount:.2f}",
        "refunded_amount": f"{payment.refunded_amount:.2f}",
        "capture": payment.capture,
        "description": payment.description,
        "cancellation_reason": payment.cancellation_reason,
        "confirmation_url": "",
        "card": None,
        "card_saved": payment.card_saved,
        "fiscal_receipt_url": "",
        "metadata": payment.metadata,
        "created_at": payment.created_at.isoformat(),
    }
    if payment.status == BankStatus.PENDING:
        page = "3ds" if payment.card_id else "pay"
        data["confirmation_url"] = f"{base_url}/{page}/{payment.public_id}/"
    if card is not None:
        data["card"] = {
            "token": card.token if payment.card_saved else "",
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        }
    if payment.receipt and payment.status == BankStatus.SUCCEEDED:
        data["fiscal_receipt_url"] = f"{base_url}/receipt/{payment.public_id}/"
    return data


def _notify(payment: BankPayment, kind: str, *, now: datetime, base_url: str) -> None:
    body = json.dumps(
        {
            "type": "notification",
            "event": kind,
            "id": f"evt_{secrets.token_hex(12)}",
            "object": payment_json(payment, base_url=base_url),
        },
        ensure_ascii=False,
    )
    event_id = json.loads(body)["id"]
    BankNotification.objects.create(
        event_id=event_id, payment=payment, kind=kind, body=body, created_at=now
    )

    def send() -> None:
        from abonent.payments.gateways.sandbox.bank.tasks import notification_deliver

        try:
            notification_deliver.delay(event_id)
        except Exception:  # the bank's page never fails because the merchant did not answer
            logger.warning("sandbox notification %s not delivered now", event_id, exc_info=True)

    transaction.on_commit(send)


def _set_status(
    payment: BankPayment, status: str, *, now: datetime, base_url: str, reason: str = ""
) -> None:
    payment.status = status
    payment.cancellation_reason = reason
    payment.updated_at = now
    payment.save(update_fields=["status", "cancellation_reason", "updated_at"])
    _notify(payment, f"payment.{status}", now=now, base_url=base_url)


def _locked(public_id: str) -> BankPayment:
    payment = (
        BankPayment.objects.select_for_update(of=("self",))
        .select_related("card")
        .filter(public_id=public_id)
        .first()
    )
    if payment is None:
        raise BankError("payment not found", code="not_found", status=404)
    return payment


def bank_payment_get(*, public_id: str) -> BankPayment:
    payment = BankPayment.objects.select_related("card").filter(public_id=public_id).first()
    if payment is None:
        raise BankError("payment not found", code="not_found", status=404)
    return payment


def _authorize(payment: BankPayment, card: BankCard, *, now: datetime, base_url: str) -> None:
    """The issuer's answer for a card that passed (or needs no) 3-D Secure."""
    payment.card = card
    payment.save(update_fields=["card"])
    if card.behaviour == Behaviour.DECLINE:
        _set_status(
            payment, BankStatus.CANCELED, now=now, base_url=base_url, reason="card_declined"
        )
    elif card.behaviour == Behaviour.INSUFFICIENT:
        _set_status(
            payment, BankStatus.CANCELED, now=now, base_url=base_url, reason="insufficient_funds"
        )
    else:
        if payment.save_card:
            payment.card_saved = True
            payment.save(update_fields=["card_saved"])
        status = BankStatus.SUCCEEDED if payment.capture else BankStatus.WAITING_FOR_CAPTURE
        _set_status(payment, status, now=now, base_url=base_url)


def bank_payment_create(
    *, data: dict[str, Any], idempotence_key: str, now: datetime, base_url: str
) -> tuple[BankPayment, bool]:
    """Create a payment; the same idempotence key returns the first one unchanged."""
    if not idempotence_key or len(idempotence_key) > 100:
        raise BankError("Idempotence-Key header is required (up to 100 characters)")
    existing = BankPayment.objects.filter(idempotence_key=idempotence_key).first()
    if existing is not None:
        return existing, False
    amount = _amount(data.get("amount"))
    token = str(data.get("card_token") or "")
    card = None
    if token:
        card = BankCard.objects.filter(token=token).first()
        if card is None:
            raise BankError("unknown card token", code="invalid_card_token")
    with transaction.atomic():
        payment = BankPayment.objects.create(
            public_id=f"sbx_{secrets.token_hex(12)}",
            idempotence_key=idempotence_key,
            amount=amount,
            capture=bool(data.get("capture", True)),
            status=BankStatus.PENDING,
            description=str(data.get("description") or "")[:250],
            return_url=str(data.get("return_url") or "")[:500],
            save_card=bool(data.get("save_card")) or bool(token),
            card_saved=bool(token),
            receipt=data.get("receipt") or None,
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
            created_at=now,
            updated_at=now,
        )
        if card is not None:
            payment.card = card
            payment.save(update_fields=["card"])
            if card.behaviour == Behaviour.THREE_DS_ALWAYS:
                _notify(payment, "payment.pending", now=now, base_url=base_url)
            else:
                _authorize(payment, card, now=now, base_url=base_url)
    return payment, True


def card_submit(
    *, public_id: str, number: str, exp_month: int, exp_year: int, now: datetime, base_url: str
) -> BankPayment:
    """The hosted page's form: the card decides the outcome (or asks for 3-D Secure)."""
    number = "".join(ch for ch in number if ch.isdigit())
    if not 13 <= len(number) <= 19 or not luhn_ok(number):
        raise BankError("Проверьте номер карты.", code="invalid_number")
    if not 1 <= exp_month <= 12 or (exp_year, exp_month) < (now.year, now.month):
        raise BankError("Срок действия карты истёк или указан неверно.", code="invalid_expiry")
    with transaction.atomic():
        payment = _locked(public_id)
        if payment.status != BankStatus.PENDING or payment.card_id:
            raise BankError("Этот платёж уже обработан.", code="already_processed")
        test = TEST_CARDS.get(number)
        card = BankCard.objects.create(
            token=f"tok_{secrets.token_hex(12)}",
            brand=brand_of(number),
            last4=number[-4:],
            exp_month=exp_month,
            exp_year=exp_year,
            behaviour=test.behaviour if test else Behaviour.SUCCESS,
            created_at=now,
        )
        if card.behaviour in (Behaviour.THREE_DS, Behaviour.THREE_DS_ALWAYS):
            payment.card = card
            payment.updated_at = now
            payment.save(update_fields=["card", "updated_at"])
        else:
            _authorize(payment, card, now=now, base_url=base_url)
    return payment


def three_ds_submit(
    *, public_id: str, code: str, cancel: bool, now: datetime, base_url: str
) -> tuple[BankPayment, bool]:
    """The issuer's 3-D Secure step. Returns (payment, finished)."""
    with transaction.atomic():
        payment = _locked(public_id)
        if payment.status != BankStatus.PENDING or payment.card is None:
            raise BankError("Этот платёж уже обработан.", code="already_processed")
        if cancel:
            _set_status(
                payment, BankStatus.CANCELED, now=now, base_url=base_url, reason="3d_secure_failed"
            )
            return payment, True
        if code.strip() != THREE_DS_CODE:
            payment.three_ds_attempts += 1
            payment.save(update_fields=["three_ds_attempts"])
            if payment.three_ds_attempts >= THREE_DS_MAX_ATTEMPTS:
                _set_status(
                    payment,
                    BankStatus.CANCELED,
                    now=now,
                    base_url=base_url,
                    reason="3d_secure_failed",
                )
                return payment, True
            return payment, False
        _authorize(payment, payment.card, now=now, base_url=base_url)
    return payment, True


def bank_payment_capture(
    *, public_id: str, amount: Any, now: datetime, base_url: str
) -> BankPayment:
    with transaction.atomic():
        payment = _locked(public_id)
        if payment.status == BankStatus.SUCCEEDED:
            return payment
        if payment.status != BankStatus.WAITING_FOR_CAPTURE:
            raise BankError("payment is not waiting for capture", code="invalid_status")
        if amount is not None:
            value = _amount(amount)
            if value > payment.amount:
                raise BankError("capture amount exceeds the hold", code="invalid_amount")
            payment.amount = value
            payment.save(update_fields=["amount"])
        _set_status(payment, BankStatus.SUCCEEDED, now=now, base_url=base_url)
    return payment


def bank_payment_cancel(*, public_id: str, now: datetime, base_url: str) -> BankPayment:
    with transaction.atomic():
        payment = _locked(public_id)
        if payment.status == BankStatus.CANCELED:
            return payment
        if payment.status == BankStatus.SUCCEEDED:
            raise BankError("a succeeded payment is refunded, not canceled", code="invalid_status")
        _set_status(
            payment, BankStatus.CANCELED, now=now, base_url=base_url, reason="canceled_by_merchant"
        )
    return payment


def bank_refund_create(
    *, data: dict[str, Any], idempotence_key: str, now: datetime, base_url: str
) -> BankRefund:
    if not idempotence_key:
        raise BankError("Idempotence-Key header is required")
    existing = BankRefund.objects.filter(idempotence_key=idempotence_key).first()
    if existing is not None:
        return existing
    amount = _amount(data.get("amount"))
    with transaction.atomic():
        payment = _locked(str(data.get("payment_id") or ""))
        if payment.status != BankStatus.SUCCEEDED:
            raise BankError("only a succeeded payment can be refunded", code="invalid_status")
        if payment.refunded_amount + amount > payment.amount:
            raise BankError("refund exceeds the payment", code="invalid_amount")
        payment.refunded_amount += amount
        payment.updated_at = now
        payment.save(update_fields=["refunded_amount", "updated_at"])
        refund = BankRefund.objects.create(
            public_id=f"rfd_{secrets.token_hex(12)}",
            idempotence_key=idempotence_key,
            payment=payment,
            amount=amount,
            status="succeeded",
            created_at=now,
        )
        _notify(payment, "refund.succeeded", now=now, base_url=base_url)
    return refund


def refund_json(refund: BankRefund) -> dict[str, Any]:
    return {
        "id": refund.public_id,
        "payment_id": refund.payment.public_id,
        "status": refund.status,
        "amount": f"{refund.amount:.2f}",
    }


def signature(body: bytes) -> str:
    secret = settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET.encode()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def notification_deliver(*, event_id: str, now: datetime) -> bool:
    """POST the notification to the merchant, signed; True once the merchant took it (2xx)."""
    from abonent.payments.gateways.sandbox.http import http_client

    notification = BankNotification.objects.filter(event_id=event_id).first()
    if notification is None or notification.delivered_at is not None:
        return True
    body = notification.body.encode()
    BankNotification.objects.filter(pk=notification.pk).update(attempts=notification.attempts + 1)
    try:
        with http_client() as client:
            response = client.post(
                settings.PAYMENTS_SANDBOX_NOTIFY_URL,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Sandbox-Signature": signature(body),
                },
            )
    except Exception as exc:  # any transport failure: keep it for a retry
        BankNotification.objects.filter(pk=notification.pk).update(last_error=str(exc)[:300])
        raise
    if 200 <= response.status_code < 300:
        BankNotification.objects.filter(pk=notification.pk).update(delivered_at=now, last_error="")
        return True
    BankNotification.objects.filter(pk=notification.pk).update(
        last_error=f"HTTP {response.status_code}"
    )
    return False
