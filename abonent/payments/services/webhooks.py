"""Acquirer notifications: verified by the gateway (signature or source address), stored
once per event id, and applied through `payment_apply` (which never moves backwards)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from abonent.core.errors import DomainError, NotFound
from abonent.payments.gateways import gateway_get, gateway_names
from abonent.payments.gateways.protocol import GatewayError, WebhookRejected
from abonent.payments.models import GatewayEvent, Payment
from abonent.payments.services.payments import payment_apply

logger = logging.getLogger(__name__)


def webhook_receive(
    *,
    gateway_name: str,
    body: bytes,
    headers: Mapping[str, str],
    client_ip: str | None,
    now: datetime,
) -> str:
    """Returns what happened: applied / duplicate / unknown_payment."""
    if gateway_name not in gateway_names():
        raise NotFound(_("Неизвестный эквайер."), code="unknown_gateway")
    gateway = gateway_get(gateway_name)
    try:
        event = gateway.parse_webhook(body=body, headers=headers, client_ip=client_ip)
    except WebhookRejected as exc:
        logger.warning("webhook %s rejected from %s: %s", gateway_name, client_ip, exc)
        raise DomainError(_("Уведомление отклонено."), code=exc.code, status=exc.status) from exc
    state = event.payment
    event_id = event.event_id
    if state is None:  # not signed: believe only what the acquirer's API says
        try:
            state = gateway.get_payment(event.payment_id)
        except GatewayError as exc:
            raise DomainError(
                _("Эквайер не подтвердил платёж, повторите позже."),
                code="gateway_unavailable",
                status=409,
            ) from exc
        # The claim proves nothing: the event is what the API confirmed.
        event_id = f"{event.kind}:{state.id}:{state.status}:{state.refunded_amount}"
    if GatewayEvent.objects.filter(gateway=gateway_name, event_id=event_id).exists():
        return "duplicate"
    payment = Payment.objects.filter(gateway=gateway_name, gateway_payment_id=state.id).first()
    if payment is None:
        # The acquirer may notify before our own call returned and committed (or after a
        # crash in between): our id travels in the metadata.
        local_id = state.metadata.get("abonent_payment_id", "")
        if local_id.isdigit():
            payment = Payment.objects.filter(
                pk=int(local_id), gateway=gateway_name, gateway_payment_id__isnull=True
            ).first()
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = GatewayEvent.objects.create(
                    gateway=gateway_name,
                    event_id=event_id[:100],
                    kind=event.kind[:40],
                    gateway_payment_id=state.id,
                    payment=payment,
                    payload={"status": state.status, "amount": f"{state.amount:.2f}"},
                    received_at=now,
                )
        except IntegrityError:
            return "duplicate"
        if payment is None:
            stored.outcome = "unknown_payment"
            stored.save(update_fields=["outcome"])
            return "unknown_payment"
        before = payment.status
        payment = payment_apply(payment_id=payment.pk, state=state, now=now)
        stored.outcome = (
            f"{before}->{payment.status}" if before != payment.status else f"kept {before}"
        )
        stored.save(update_fields=["outcome"])
    return "applied"
