"""Refunds of card payments (staff, from the back office): the acquirer first, then the
ledger gets correction entries per line, exactly once (`source_ref = refund:<id>:<line>`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from abonent.billing.services.ledger import ledger_post_correction
from abonent.core.errors import Conflict, ValidationFailed
from abonent.core.money import money
from abonent.core.services import audit_record
from abonent.payments.gateways import gateway_get
from abonent.payments.gateways.protocol import GatewayError, GatewayUnavailable
from abonent.payments.models import Payment, PaymentPurpose, PaymentStatus, Refund, RefundStatus
from abonent.payments.services.notify import payment_notify
from abonent.payments.services.payments import _local_today
from abonent.payments.state import PAID


def refund_create(
    *, payment_id: int, amount: Decimal | str, actor: Any, reason: str, now: datetime
) -> Refund:
    value = money(amount)
    payment = Payment.objects.get(pk=payment_id)
    if payment.purpose != PaymentPurpose.DUES or payment.status not in PAID:
        raise Conflict(_("Вернуть можно только прошедший платёж."), code="not_refundable")
    if value <= 0 or value > payment.amount - payment.refunded_amount:
        raise ValidationFailed(
            _("Сумма возврата — от 0,01 ₽ до ещё не возвращённой суммы платежа."),
            code="invalid_refund_amount",
        )
    refund = Refund.objects.create(
        payment=payment, amount=value, reason=reason[:200], created_by=actor, created_at=now
    )
    audit_record(
        now=now,
        action="payments.refund_create",
        actor=actor,
        subject_user_id=payment.user_id,
        target=refund,
        data={"payment": payment.pk, "amount": f"{value:.2f}"},
    )
    return refund_submit(refund=refund, now=now)


def refund_submit(*, refund: Refund, now: datetime) -> Refund:
    """Ask the acquirer (same idempotence key on every retry), then post the corrections."""
    payment = refund.payment
    try:
        result = gateway_get(payment.gateway).refund(
            payment.gateway_payment_id or "",
            amount=refund.amount,
            idempotence_key=f"abonent:refund:{refund.pk}",
        )
    except GatewayUnavailable:
        return refund  # stays «created»; reconciliation repeats the call
    except GatewayError as exc:
        Refund.objects.filter(pk=refund.pk).update(
            status=RefundStatus.FAILED,
            finished_at=now,
            reason=f"{refund.reason} ({exc.code})"[:200],
        )
        refund.refresh_from_db()
        return refund
    return refund_apply(refund_id=refund.pk, gateway_refund_id=result.id, now=now)


def refund_apply(*, refund_id: int, gateway_refund_id: str, now: datetime) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if refund.status != RefundStatus.CREATED:
            return refund
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        left = refund.amount
        for line in payment.lines.select_related("account__branch").order_by("pk"):
            room = line.amount - line.refunded_amount
            part = min(room, left)
            if part <= 0:
                continue
            ledger_post_correction(
                source_ref=f"refund:{refund.pk}:{line.pk}",
                account_id=line.account_id,
                service_id=line.service_id,
                amount=part,
                at=now,
                local_date=_local_today(line.account, now),
                note=_("Возврат по платежу № %(id)s") % {"id": payment.pk},
            )
            line.refunded_amount += part
            line.save(update_fields=["refunded_amount"])
            left -= part
        refund.status = RefundStatus.SUCCEEDED
        refund.gateway_refund_id = gateway_refund_id
        refund.finished_at = now
        refund.save(update_fields=["status", "gateway_refund_id", "finished_at"])
        payment.refunded_amount += refund.amount
        payment.status = (
            PaymentStatus.REFUNDED
            if payment.refunded_amount >= payment.amount
            else PaymentStatus.PARTIALLY_REFUNDED
        )
        payment.updated_at = now
        payment.save(update_fields=["refunded_amount", "status", "updated_at"])
        payment_notify(payment, now=now)
    return refund
