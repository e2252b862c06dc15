"""Celery wrappers around the billing services: thin, and safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import Task, shared_task
from django.contrib.auth import get_user_model

from abonent.accounts.models import Branch
from abonent.billing.models import BillingPeriod, PeriodStatus
from abonent.billing.services import billing_run, period_close
from abonent.billing.services.periods import period_bill_notices
from abonent.billing.services.recovery import billing_run_release_dead
from abonent.core import clock


@shared_task(name="abonent.billing.tasks.run_billing", bind=True)
def run_billing(
    self: Task, branch_id: int, month: str, close: bool = False, actor_id: int | None = None
) -> dict[str, int | str]:
    """Run (re-run replaces drafts) and optionally close; a closed period is left alone.
    Handed out again after its worker died, the job takes its dead run over at once."""
    branch = Branch.objects.get(pk=branch_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    first = date.fromisoformat(month).replace(day=1)
    if (self.request.delivery_info or {}).get("redelivered"):
        billing_run_release_dead(branch_id=branch_id, month=first, now=clock.now())
    period = BillingPeriod.objects.filter(branch=branch, month=first).first()
    if period is not None and period.status == PeriodStatus.CLOSED:
        return {"status": "closed", "period": period.pk}
    result = billing_run(branch=branch, month=first, now=clock.now(), actor=actor, clock=clock.now)
    if close:
        period_close(period=result.period, now=clock.now(), actor=actor)
    return {"status": "closed" if close else "done", "period": result.period.pk}


@shared_task(name="abonent.billing.tasks.bill_notices")
def bill_notices(period_id: int) -> int:
    """«Новая квитанция» to the customers of a closed period; a retry notifies nobody twice."""
    return period_bill_notices(period_id=period_id, now=clock.now())
