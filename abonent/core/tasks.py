"""Outbound delivery jobs shared by every app, and the outbox relay. Safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail

from abonent.core import clock
from abonent.core.jobs import UrgentTask
from abonent.core.outbox import outbox_relay as relay
from abonent.core.sms import SmsError, get_sms_backend

# The code SMS and e-mails: someone is waiting for the code right now, so while the broker
# is down they go out from the request itself (a code delivered after the outage is useless).


@shared_task(
    autoretry_for=(SmsError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
    acks_late=True,
    base=UrgentTask,
)
def sms_send(phone: str, text: str) -> str:
    return get_sms_backend().send(phone=phone, text=text)


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
    acks_late=True,
    base=UrgentTask,
)
def email_send(to: str, subject: str, body: str) -> int:
    return send_mail(subject, body, None, [to])


@shared_task(name="abonent.core.tasks.outbox_relay")
def outbox_relay() -> dict[str, int]:
    """Beat: hand the jobs kept while the broker was down over to it (see core/outbox.py)."""
    result = relay(now=clock.now())
    return {"relayed": result.relayed, "pending": result.pending}
