"""The sandbox acquirer's notification sender (the embedded job runner delivers it)."""

from __future__ import annotations

from celery import shared_task

from abonent.core import clock
from abonent.payments.gateways.sandbox.bank import services


class NotDeliveredError(Exception):
    pass


@shared_task(
    name="abonent.payments.sandbox_bank.notification_deliver",
    autoretry_for=(NotDeliveredError,),
    retry_backoff=2,
    retry_backoff_max=120,
    max_retries=10,
    acks_late=True,
)
def notification_deliver(event_id: str) -> bool:
    try:
        delivered = services.notification_deliver(event_id=event_id, now=clock.now())
    except Exception as exc:
        raise NotDeliveredError(str(exc)) from exc
    if not delivered:
        raise NotDeliveredError(event_id)
    return True
