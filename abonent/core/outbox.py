"""The job outbox: jobs the broker could not take, kept in the database and relayed once it
is back (docs/decisions/0014).

Guarantees: a job whose publish failed is in the outbox once its row committed; the relay
hands each row to the broker at least once and, in practice, once: rows are taken with
`SELECT … FOR UPDATE SKIP LOCKED` (two relays never take the same row) and marked relayed
in the same transaction as their publish. Only a crash between the publish and that commit
publishes a row twice — every job is safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Min

from abonent.core.models import JobOutbox

log = logging.getLogger(__name__)

RELAY_BATCH = 100
KEEP_RELAYED = timedelta(days=7)


@dataclass(frozen=True)
class RelayResult:
    relayed: int
    pending: int
    broker_down: bool


def outbox_store(
    *,
    task: str,
    args: list[Any],
    kwargs: dict[str, Any],
    eta: datetime | None,
    error: str,
    now: datetime,
) -> JobOutbox:
    return JobOutbox.objects.create(
        task=task, args=args, kwargs=kwargs, eta=eta, created_at=now, last_error=error[:500]
    )


def _publish(row: JobOutbox, now: datetime) -> None:
    from celery import current_app

    eta = row.eta if row.eta is not None and row.eta > now else None
    current_app.send_task(row.task, args=row.args, kwargs=row.kwargs, eta=eta)


def outbox_relay(
    *,
    now: datetime,
    publish: Callable[[JobOutbox, datetime], None] = _publish,
    batch: int = RELAY_BATCH,
    limit: int = 100_000,
) -> RelayResult:
    """Hand the pending rows to the broker, oldest first, `batch` rows per transaction;
    stops at the first publish that fails (the broker is still down) and counts an attempt
    on that row. Relayed rows older than a week are purged."""
    from abonent.core.jobs import BROKER_ERRORS

    relayed = 0
    broker_down = False
    while relayed < limit and not broker_down:
        with transaction.atomic():
            rows = list(
                JobOutbox.objects.select_for_update(skip_locked=True)
                .filter(relayed_at__isnull=True)
                .order_by("pk")[:batch]
            )
            if not rows:
                break
            sent: list[int] = []
            for row in rows:
                try:
                    publish(row, now)
                except BROKER_ERRORS as exc:
                    broker_down = True
                    JobOutbox.objects.filter(pk=row.pk).update(
                        attempts=F("attempts") + 1,
                        last_error=f"{exc.__class__.__name__}: {exc}"[:500],
                    )
                    log.warning("outbox: broker still unavailable (%s)", exc)
                    break
                sent.append(row.pk)
            if sent:
                JobOutbox.objects.filter(pk__in=sent).update(
                    relayed_at=now, attempts=F("attempts") + 1
                )
            relayed += len(sent)
    JobOutbox.objects.filter(relayed_at__lt=now - KEEP_RELAYED).delete()
    pending = JobOutbox.objects.filter(relayed_at__isnull=True).count()
    if relayed:
        log.info("outbox: %s jobs relayed, %s pending", relayed, pending)
    return RelayResult(relayed=relayed, pending=pending, broker_down=broker_down)


@dataclass(frozen=True)
class OutboxState:
    pending: int
    oldest_at: datetime | None


def outbox_state() -> OutboxState:
    """What waits in the outbox (the readiness endpoint, the admin)."""
    row = JobOutbox.objects.filter(relayed_at__isnull=True).aggregate(
        pending=Count("pk"), oldest_at=Min("created_at")
    )
    return OutboxState(pending=row["pending"], oldest_at=row["oldest_at"])
