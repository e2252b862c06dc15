"""The Celery task class of every job: when the broker (Redis) cannot take a job, the job runs
right here, once, instead of failing the request that queued it (a code's SMS, a receipt, a
card check's release). The request is slower for the outage; nothing is lost unless the job
itself fails too, and then it is logged."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger(__name__)


class ResilientTask(Task):
    def apply_async(self, args: Any = None, kwargs: Any = None, *rest: Any, **options: Any) -> Any:
        try:
            return super().apply_async(args, kwargs, *rest, **options)
        except (BrokerError, ConnectionError, OSError) as exc:
            log.error("broker unavailable (%s): running %s in this process", exc, self.name)
            try:
                return self.apply(args=args, kwargs=kwargs, throw=False)
            except Exception:
                log.exception("job %s failed while the broker was down", self.name)
                return None
