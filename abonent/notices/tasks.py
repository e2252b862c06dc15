"""Notice jobs: thin wrappers around services, safe to run twice (keys and claims)."""

from __future__ import annotations

from celery import shared_task

from abonent.core import clock
from abonent.notices import services
from abonent.notices.services import live
from abonent.notices.services.outages import outage_notify_batch, outage_recipient_ranges


@shared_task(name="abonent.notices.tasks.deliveries_send", acks_late=True)
def deliveries_send(delivery_ids: list[int]) -> dict[str, int]:
    """Send a chunk of deliveries. Failures are not Celery retries: a failed channel goes
    back to pending with a later due time (backoff) and the sweeper queues it again."""
    result = services.deliveries_dispatch(delivery_ids=delivery_ids, now=clock.now())
    return {
        "sent": result.sent,
        "deferred": result.deferred,
        "retried": result.retried,
        "failed": result.failed,
        "skipped": result.skipped,
    }


@shared_task(name="abonent.notices.tasks.deliveries_due")
def deliveries_due() -> int:
    """Beat: queue what is due again (retries, mornings, lost jobs)."""
    due = services.deliveries_due(now=clock.now())
    for chunk in due.queued:
        deliveries_send.delay(chunk)
    return sum(len(c) for c in due.queued)


@shared_task(name="abonent.notices.tasks.notifications_announce")
def notifications_announce(user_ids: list[int]) -> int:
    return live.announce(user_ids=user_ids)


@shared_task(name="abonent.notices.tasks.outage_fan_out", acks_late=True)
def outage_fan_out(outage_id: int, event: str) -> int:
    """Split the recipients into ranges, one batch job each."""
    ranges = outage_recipient_ranges(outage_id=outage_id)
    for lo, hi in ranges:
        outage_fan_out_batch.delay(outage_id, event, lo, hi)
    return len(ranges)


@shared_task(
    name="abonent.notices.tasks.outage_fan_out_batch",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def outage_fan_out_batch(outage_id: int, event: str, user_from: int, user_to: int) -> int:
    return outage_notify_batch(
        outage_id=outage_id, event=event, user_from=user_from, user_to=user_to, now=clock.now()
    )


@shared_task(name="abonent.notices.tasks.outage_reminders")
def outage_reminders() -> int:
    """Beat: the day-before notices of planned outages."""
    return len(services.outage_reminders_send(now=clock.now()))
