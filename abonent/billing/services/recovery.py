"""A billing run whose worker died: its job, handed out again, takes the run over at once.

The run job is acknowledged late (acks_late), so its message goes back to the queue only
when the worker running it is lost: a pool process killed (reject_on_worker_lost) or the
whole worker gone, after the broker's visibility timeout (longer than a run may take, see
CELERY_VISIBILITY_TIMEOUT). A redelivered job therefore knows its earlier run is dead, and
need not wait for `STALE_RUN` (2 hours) to pass before the period can be run again."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext

from abonent.billing.models import BillingPeriod
from abonent.core.services import audit_record


def billing_run_release_dead(*, branch_id: int, month: date, now: datetime) -> bool:
    """Mark the period's unfinished run as dead (its chunks already written are replaced by
    the next run; a chunk of the dead run still going would stop: `run_superseded`)."""
    with transaction.atomic():
        period = (
            BillingPeriod.objects.select_for_update()
            .filter(branch_id=branch_id, month=month.replace(day=1), run_id__isnull=False)
            .filter(run_finished_at__isnull=True)
            .first()
        )
        if period is None:
            return False
        dead = period.run_id
        period.run_id = None
        period.run_error = gettext("Расчёт прерван: обработчик остановлен; запущен заново.")
        period.save(update_fields=["run_id", "run_error"])
        audit_record(
            now=now,
            action="billing.run_released",
            target=period,
            data={"run_id": str(dead), "progress": period.run_progress},
        )
    return True
