"""Saved cards: adding one (the 10 ₽ check), naming, deleting; releasing the check."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from abonent.core.errors import Conflict, ValidationFailed
from abonent.core.services import audit_record
from abonent.payments.gateways import gateway_get
from abonent.payments.gateways.protocol import GatewayError
from abonent.payments.models import (
    AutopaySetting,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    Refund,
    RefundStatus,
    SavedCard,
)
from abonent.payments.services.payments import (
    _payment_get_or_create,
    payment_apply,
    payment_submit,
)
from abonent.payments.services.validation import card_for_user, request_hash

logger = logging.getLogger(__name__)

MAX_CARDS = 10


def card_check_start(
    *, user: Any, site_url: str, now: datetime, ip: str | None = None, idempotency_key: str = ""
) -> Payment:
    """Start adding a card: a 10 ₽ check (a hold released at once, or a charge refunded at
    once in the charge-and-refund mode). Returns the check payment with its confirmation URL."""
    if SavedCard.objects.filter(user=user, deleted_at__isnull=True).count() >= MAX_CARDS:
        raise Conflict(
            _("Можно сохранить не больше %(n)s карт. Удалите ненужную.") % {"n": MAX_CARDS},
            code="too_many_cards",
        )
    key = idempotency_key.strip() or f"card-check-{secrets.token_hex(12)}"
    if not 8 <= len(key) <= 64:
        raise ValidationFailed(
            _("Ключ идемпотентности: 8–64 символа."), code="invalid_idempotency_key"
        )
    amount = Decimal(settings.PAYMENTS_CARD_CHECK_AMOUNT)
    payment, _created = _payment_get_or_create(
        user=user,
        key=key,
        body_hash=request_hash({"purpose": PaymentPurpose.CARD_CHECK}),
        now=now,
        fields={
            "purpose": PaymentPurpose.CARD_CHECK,
            "amount": amount,
            "gateway": settings.PAYMENTS_GATEWAY,
            "save_card": True,
            "consent_at": now,
        },
        lines=[],
        ip=ip,
    )
    if payment.status == PaymentStatus.CREATED and not payment.gateway_payment_id:
        payment = payment_submit(payment=payment, site_url=site_url, now=now)
    return payment


def card_check_release(*, payment_id: int, now: datetime) -> Payment:
    """Give the 10 ₽ back: cancel the hold, or refund the charge. Safe to repeat."""
    payment = Payment.objects.get(pk=payment_id, purpose=PaymentPurpose.CARD_CHECK)
    gateway = gateway_get(payment.gateway)
    if not payment.gateway_payment_id:
        return payment
    if payment.status == PaymentStatus.WAITING_FOR_CAPTURE:
        state = gateway.cancel(
            payment.gateway_payment_id, idempotence_key=f"abonent:payment:{payment.pk}:cancel"
        )
        return payment_apply(payment_id=payment.pk, state=state, now=now)
    if payment.status == PaymentStatus.SUCCEEDED:
        refund, _ = Refund.objects.get_or_create(
            payment=payment,
            reason="card_check",
            defaults={"amount": payment.amount, "created_at": now},
        )
        result = gateway.refund(
            payment.gateway_payment_id,
            amount=refund.amount,
            idempotence_key=f"abonent:refund:{refund.pk}",
        )
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            Refund.objects.filter(pk=refund.pk).update(
                status=RefundStatus.SUCCEEDED, gateway_refund_id=result.id, finished_at=now
            )
            if locked.status == PaymentStatus.SUCCEEDED:
                locked.status = PaymentStatus.REFUNDED
                locked.refunded_amount = locked.amount
                locked.updated_at = now
                locked.save(update_fields=["status", "refunded_amount", "updated_at"])
        return locked
    return payment


def card_check_release_safe(*, payment_id: int, now: datetime) -> None:
    try:
        card_check_release(payment_id=payment_id, now=now)
    except GatewayError:
        logger.warning("card check %s: release failed, reconciliation retries", payment_id)


def card_rename(
    *, user: Any, card_id: int, title: str, now: datetime, ip: str | None = None
) -> SavedCard:
    card = card_for_user(user=user, card_id=card_id)
    title = title.strip()
    if len(title) > 40:
        message = _("Не длиннее 40 символов.")
        raise ValidationFailed(message, code="title_too_long", fields={"title": [message]})
    card.title = title
    card.save(update_fields=["title"])
    audit_record(now=now, action="payments.card_rename", actor=user, target=card, ip=ip)
    return card


def card_delete(*, user: Any, card_id: int, now: datetime, ip: str | None = None) -> None:
    """Forget a card (its token is kept only as history); autopay with it is switched off."""
    with transaction.atomic():
        card = card_for_user(user=user, card_id=card_id)
        card.deleted_at = now
        card.save(update_fields=["deleted_at"])
        AutopaySetting.objects.filter(card=card, enabled=True).update(enabled=False, updated_at=now)
        audit_record(
            now=now,
            action="payments.card_delete",
            actor=user,
            target=card,
            ip=ip,
            data={"last4": card.last4},
        )
