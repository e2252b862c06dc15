from __future__ import annotations

from celery import shared_task

from abonent.core import clock
from abonent.identity import services


@shared_task
def codes_purge() -> int:
    """Daily: drop verification codes past their use; the pending sign-up data goes with them."""
    return services.codes_purge(now=clock.now())
