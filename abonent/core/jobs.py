"""The Celery task class of every job, and what happens to a job when the broker (Redis)
cannot take it (docs/decisions/0014):

* most jobs go to the transactional outbox — a `JobOutbox` row in the database — and the
  relay (`core.tasks.outbox_relay` on beat, or `manage.py relay_outbox`) hands them to the
  broker once it is back. The request that queued the job is answered as usual;
* a job someone is waiting for right now (the SMS or e-mail with a sign-in or registration
  code: delivered after the outage it is useless) declares `run_inline_when_broker_down =
  True` and runs right here, in the caller, once.

Jobs are queued after commit (`transaction.on_commit`), so a job never sees a missing row;
the outbox row is written then, in its own transaction."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.utils.dateparse import parse_datetime
from kombu.exceptions import OperationalError
from kombu.utils import json as kombu_json

from abonent.core import clock

log = logging.getLogger(__name__)

# What a publish raises when the broker is unreachable (refused, timed out, reset).
BROKER_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, OSError)


def as_stored_json(value: Any) -> Any:
    """Arguments as the broker would carry them: kombu's JSON, whose markers for dates and
    decimals (`{"__type__": "decimal", …}`) the worker decodes after the relay."""
    return json.loads(kombu_json.dumps(value))


def _eta(options: dict[str, Any], now: datetime) -> datetime | None:
    eta = options.get("eta")
    if isinstance(eta, str):
        eta = parse_datetime(eta)
    if isinstance(eta, datetime):
        return eta
    countdown = options.get("countdown")
    if countdown:
        return now + timedelta(seconds=float(countdown))
    return None


class ResilientTask(Task):
    #: Run in the caller when the broker is down, instead of waiting in the outbox.
    run_inline_when_broker_down = False

    def apply_async(self, args: Any = None, kwargs: Any = None, *rest: Any, **options: Any) -> Any:
        if self.app.conf.task_always_eager:
            return super().apply_async(args, kwargs, *rest, **options)
        try:
            return super().apply_async(args, kwargs, *rest, **options)
        except BROKER_ERRORS as exc:
            if self.run_inline_when_broker_down:
                log.error("broker unavailable (%s): running %s in this process", exc, self.name)
                try:
                    return self.apply(args=args, kwargs=kwargs, throw=False)
                except Exception:
                    log.exception("job %s failed while the broker was down", self.name)
                    return None
            from abonent.core.outbox import outbox_store

            now = clock.now()
            row = outbox_store(
                task=self.name,
                args=as_stored_json(list(args or ())),
                kwargs=as_stored_json(dict(kwargs or {})),
                eta=_eta(options, now),
                error=f"{exc.__class__.__name__}: {exc}",
                now=now,
            )
            log.error(
                "broker unavailable (%s): %s kept in the outbox (#%s)", exc, self.name, row.pk
            )
            return None


class UrgentTask(ResilientTask):
    """A job someone is waiting for right now (a sign-in or registration code): while the
    broker is down it runs in the caller rather than wait in the outbox."""

    run_inline_when_broker_down = True
