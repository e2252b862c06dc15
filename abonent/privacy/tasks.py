from celery import shared_task

from abonent.core import clock
from abonent.privacy import services


@shared_task
def audit_purge() -> int:
    return services.audit_purge(now=clock.now())
