"""Celery wrappers around the payment services: thin, and safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from abonent.core import clock
from abonent.payments import services


@shared_task(name="abonent.payments.tasks.card_check_release")
def card_check_release(payment_id: int) -> str:
    """Give the 10 ₽ of a card check back (cancel the hold or refund the charge)."""
    return services.card_check_release(payment_id=payment_id, now=clock.now()).status


@shared_task(name="abonent.payments.tasks.reconcile")
def reconcile() -> dict[str, int]:
    """Settle payments left open by asking the acquirer (beat: every few minutes)."""
    return services.payments_reconcile(now=clock.now(), site_url=settings.SITE_URL)


@shared_task(name="abonent.payments.tasks.daily_report")
def daily_report() -> int:
    """Yesterday's mismatches between our ledger and the acquirer (beat: daily)."""
    now = clock.now()
    reports = services.reconciliation_report_build(day=(now - timedelta(days=1)).date(), now=now)
    return sum(len(r.mismatches) for r in reports)


@shared_task(name="abonent.payments.tasks.autopay")
def autopay() -> dict[str, int]:
    """The day-before notices and today's autopays (beat: hourly; a repeat does nothing)."""
    now = clock.now()
    notified = services.autopay_notify(now=now)
    return {"notified": notified, **services.autopay_charge(now=now, site_url=settings.SITE_URL)}
