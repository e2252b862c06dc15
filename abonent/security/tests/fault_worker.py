"""A real Celery worker for the worker-kill tests (`test_worker_kill.py`), started as
`python -m abonent.security.tests.fault_worker` with the test's database and broker in its
environment. Nothing here is imported by the project.

ABONENT_FAULT_POINT names where the job stops and waits to be killed (SIGKILL):
  billing     — at the run's third chunk (two chunks committed);
  fanout      — before the third SMS of a delivery job (two sent and marked, three claimed);
  settlement  — inside the settling transaction, after the ledger postings were written.
On reaching it, the worker creates the file ABONENT_FAULT_REACHED and waits forever.
Without ABONENT_FAULT_POINT it is a plain worker.

ABONENT_FAULT_CHUNK_SIZE makes billing runs use small chunks; ABONENT_FAULT_ACQUIRER
(JSON {"id", "amount"}) stands in the acquirer, whose answer is «succeeded» for that payment.
"""

from __future__ import annotations

import json
import os
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from config.celery import app  # noqa: E402

POINT = os.environ.get("ABONENT_FAULT_POINT", "")
_lock = threading.Lock()
_calls = [0]


def _stop_here() -> None:
    """Tell the test we are at the point, then wait for the SIGKILL."""
    Path(os.environ["ABONENT_FAULT_REACHED"]).touch()
    while True:
        time.sleep(60)


def _nth_call_stops(n: int) -> bool:
    with _lock:
        _calls[0] += 1
        return _calls[0] >= n


def _install() -> None:
    from abonent.billing import tasks as billing_tasks
    from abonent.billing.services import run as run_module

    size = os.environ.get("ABONENT_FAULT_CHUNK_SIZE")
    if size:
        real_run = billing_tasks.billing_run

        def small_chunks(**kwargs: Any) -> Any:
            return real_run(chunk_size=int(size), **kwargs)

        billing_tasks.billing_run = small_chunks

    if POINT == "billing":
        real_chunk = run_module._run_chunk

        def chunk(**kwargs: Any) -> Any:
            if _nth_call_stops(3):
                _stop_here()
            return real_chunk(**kwargs)

        run_module._run_chunk = chunk

    if POINT == "fanout":
        from abonent.core import sms

        real_send = sms.OutboxSmsBackend.send

        def send(self: Any, *, phone: str, text: str, key: str = "") -> str:
            if _nth_call_stops(3):
                _stop_here()
            return real_send(self, phone=phone, text=text, key=key)

        sms.OutboxSmsBackend.send = send  # type: ignore[method-assign]

    acquirer = os.environ.get("ABONENT_FAULT_ACQUIRER")
    if acquirer:
        from abonent.payments.gateways import OVERRIDES
        from abonent.payments.gateways.protocol import CardInfo, GatewayPayment
        from abonent.payments.tests.conftest import FakeGateway

        paid = json.loads(acquirer)
        fake = FakeGateway()
        fake.payments[paid["id"]] = GatewayPayment(
            id=paid["id"],
            status="succeeded",
            amount=Decimal(paid["amount"]),
            card=CardInfo("tok-fake", "Мир", "0004", 12, 2030),
        )
        OVERRIDES["sandbox"] = fake

    if POINT == "settlement":
        from abonent.payments.services import payments

        real_notify = payments.payment_notify

        def notify(payment: Any, *, now: Any) -> None:
            _stop_here()  # the ledger rows are written, the transaction still open
            real_notify(payment, now=now)

        payments.payment_notify = notify


if __name__ == "__main__":
    _install()
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=fault-{os.getpid()}@localhost",
        ]
    )
