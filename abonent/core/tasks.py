"""Outbound delivery jobs shared by every app. Safe to run twice; retried with backoff."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail

from abonent.core.sms import SmsError, get_sms_backend


@shared_task(
    autoretry_for=(SmsError,), retry_backoff=5, retry_backoff_max=300, max_retries=8, acks_late=True
)
def sms_send(phone: str, text: str) -> str:
    return get_sms_backend().send(phone=phone, text=text)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=5, retry_backoff_max=300, max_retries=8, acks_late=True
)
def email_send(to: str, subject: str, body: str) -> int:
    return send_mail(subject, body, None, [to])
