"""Celery wrappers around the meters services: thin, and safe to run twice."""

from __future__ import annotations

from celery import shared_task

from abonent.core import clock
from abonent.meters.services.reminders import (
    reading_reminders_send,
    verification_reminders_send,
)


@shared_task(name="abonent.meters.tasks.reading_reminders")
def reading_reminders() -> int:
    """Hourly: every branch's local date is checked; each reminder goes out once."""
    return reading_reminders_send(now=clock.now())


@shared_task(name="abonent.meters.tasks.verification_reminders")
def verification_reminders() -> int:
    return verification_reminders_send(now=clock.now())
