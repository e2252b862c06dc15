"""A Celery worker killed (SIGKILL) in the middle of a billing run, a notification fan-out and
a payment settlement: on restart each job finishes, exactly once.

Everything is real except the kill's timing: a `celery worker` subprocess
(`fault_worker.py`, solo pool) on the CI Redis broker and the test's PostgreSQL database; the
job stops at a known point (a marker file tells the test it is there), the test SIGKILLs the
worker, starts a new one, and the broker hands the unacknowledged job out again (acks_late;
the Redis visibility timeout is 2 s here, hours in production). Only the acquirer is a
stand-in, inside the worker. Waits are polls with a deadline, never sleeps as
synchronisation; no assertion is about time.

They need PostgreSQL and Redis (the worker shares the database: the local SQLite test
database lives in memory), so they run in CI (`.ci/run`) and skip locally.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from abonent.billing.models import BillingPeriod, Charge, LedgerEntry
from abonent.billing.services import billing_run
from abonent.billing.tests.factories import NOW
from abonent.core.models import AuditEntry
from abonent.security.tests import stats
from abonent.security.tests.test_faults import _billing_world, _checksum

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[3]
DEADLINE = 45.0  # seconds a poll waits before failing the test (a hang, not a speed bound)
BROKER_DB = 15  # the Redis database these tests use as the broker (flushed around each)


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "abonent.security.tests.fault_worker"],
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the worker only
        self.proc.wait(timeout=15)
        self._out.close()


class Faults:
    def __init__(self, tmp: Path) -> None:
        import redis
        from celery import Celery

        self.tmp = tmp
        self.reached = tmp / "reached"
        self.sms_log = tmp / "sms.log"
        db = connection.settings_dict
        database_url = (
            f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'])}"
            f"@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"
        )
        parts = urlsplit(settings.REDIS_URL)
        self.broker_url = urlunsplit(parts._replace(path=f"/{BROKER_DB}"))
        self.redis = redis.Redis.from_url(self.broker_url)
        self.redis.flushdb()
        # not the current app: the project's shared tasks must keep resolving to config.celery
        self.client = Celery("fault-client", broker=self.broker_url, set_as_current=False)
        self.client.conf.broker_transport_options = {"visibility_timeout": 2}
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"ABONENT_TESTING", "DJANGO_SETTINGS_MODULE"}
        }
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DJANGO_DEBUG": "false",
                "DATABASE_URL": database_url,
                "DB_CONN_MAX_AGE": "0",
                "REDIS_URL": settings.REDIS_URL,
                "CELERY_BROKER_URL": self.broker_url,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "CELERY_VISIBILITY_TIMEOUT": "2",
                "CELERY_RESTORE_INTERVAL": "1",
                "CELERY_RESTORE_THROTTLE": "1",
                "NOTICES_SENDING_LEASE_SECONDS": "2",
                "SMS_BACKEND": "outbox",
                "SMS_OUTBOX_PATH": str(self.sms_log),
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "PAYMENTS_GATEWAY": "sandbox",
                "ABONENT_FAULT_REACHED": str(self.reached),
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.workers: list[Worker] = []

    def worker(self, point: str = "", **extra: str) -> Worker:
        env = {**self.env, "ABONENT_FAULT_POINT": point, **extra}
        worker = Worker(env, self.tmp / f"worker-{len(self.workers) + 1}.log")
        self.workers.append(worker)
        return worker

    def send(self, task: str, *args: Any) -> None:
        self.client.send_task(task, args=list(args))

    def logs(self) -> str:
        return "\n".join(
            f"--- {w.log.name}\n{w.log.read_text(errors='replace')[-3000:]}" for w in self.workers
        )

    def wait_for(
        self, what: str, check: Callable[[], Any], every: Callable[[], Any] | None = None
    ) -> Any:
        """Poll `check` until it is true; `every` runs between polls (a beat stand-in)."""
        deadline = time.monotonic() + DEADLINE
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}\n{self.logs()}")
            for worker in self.workers[-1:]:
                if worker.proc.poll() is not None:
                    raise AssertionError(
                        f"the worker exited while waiting for {what}\n{self.logs()}"
                    )
            if every is not None:
                every()
            time.sleep(0.2)

    def kill_at_the_point(self, worker: Worker) -> None:
        self.wait_for("the job to reach the fault point", self.reached.exists)
        worker.kill()
        self.reached.unlink()

    def broker_idle(self) -> bool:
        """Nothing queued and nothing handed out unacknowledged."""
        return self.redis.llen("celery") == 0 and self.redis.hlen("unacked") == 0

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.client.close()
        self.redis.flushdb()
        self.redis.close()


@pytest.fixture
def faults(tmp_path: Path) -> Iterator[Faults]:
    harness = Faults(tmp_path)
    try:
        yield harness
    finally:
        harness.close()
        connection.close()


def test_a_worker_killed_in_a_billing_run_finishes_it_exactly_once_on_restart(
    faults: Faults,
) -> None:
    branch = _billing_world()
    month = date(2026, 11, 1)
    # given the checksum of an uninterrupted run (4 chunks of 2 accounts)
    clean = billing_run(branch=branch, month=month, now=NOW, chunk_size=2)
    expected = (_checksum(clean.period), clean.lines)
    Charge.objects.filter(period=clean.period).delete()
    BillingPeriod.objects.filter(pk=clean.period.pk).delete()

    # when the run job's worker is SIGKILLed at the run's third chunk
    first = faults.worker(point="billing", ABONENT_FAULT_CHUNK_SIZE="2")
    faults.send("abonent.billing.tasks.run_billing", branch.pk, month.isoformat())
    faults.kill_at_the_point(first)

    # then the run is left half-done: some chunks written, the run not finished
    period = BillingPeriod.objects.get(branch=branch, month=month)
    assert period.run_id is not None
    assert period.run_finished_at is None
    assert 0 < Charge.objects.filter(period=period).count() < expected[1]

    # when a new worker starts, the broker hands the job out again and it takes the run over
    faults.worker(ABONENT_FAULT_CHUNK_SIZE="2")

    def finished() -> bool:
        period.refresh_from_db()
        return period.run_finished_at is not None and period.run_id is None

    faults.wait_for("the run to finish", finished)
    faults.wait_for("the job to be acknowledged", faults.broker_idle)

    # then the charges are those of the uninterrupted run, and the dead run was released once
    assert (_checksum(period), Charge.objects.filter(period=period).count()) == expected
    assert AuditEntry.objects.filter(action="billing.run_released").count() == 1
    stats.COUNTS["faults"] += 1


def test_a_worker_killed_in_a_notification_fan_out_delivers_each_exactly_once(
    faults: Faults, make_customer: Any
) -> None:
    from abonent.accounts.tests.factories import link, make_account, make_branch, make_service
    from abonent.notices.models import Delivery, DeliveryState, Notification, OutageKind
    from abonent.notices.tests.factories import make_outage

    # given five customers at the address of an emergency outage (SMS is their channel)
    branch = make_branch()
    phones = [f"+791355510{i:02d}" for i in range(5)]
    for i, phone in enumerate(phones):
        account = make_account(number=f"1000000001{i:02d}", flat=str(i + 1))
        link(make_customer(phone=phone), account)
    outage = make_outage(
        branch=branch, service=make_service("hot_water"), kind=OutageKind.EMERGENCY
    )

    # when the worker sending the SMS is SIGKILLed after two of five left (the five claimed
    # as one group; each SMS is marked sent as it leaves: SMS.ru takes no idempotency key)
    first = faults.worker(point="fanout")
    faults.send("abonent.notices.tasks.outage_fan_out", outage.pk, "published")
    faults.kill_at_the_point(first)
    sent_before = [m["phone"] for m in map(json.loads, faults.sms_log.read_text().splitlines())]
    assert len(sent_before) == 2
    assert Counter(Delivery.objects.values_list("state", flat=True)) == {
        DeliveryState.SENT: 2,
        DeliveryState.SENDING: 3,
    }

    # and a new worker runs, with beat's sweeper (every 30 s in production) sent meanwhile
    faults.worker()

    def all_sent() -> bool:
        states = list(Delivery.objects.values_list("state", flat=True))
        return len(states) == 5 and set(states) == {DeliveryState.SENT}

    faults.wait_for(
        "every delivery to be sent",
        all_sent,
        every=lambda: faults.send("abonent.notices.tasks.deliveries_due"),
    )
    faults.wait_for("the jobs to be acknowledged", faults.broker_idle)

    # then every customer got the SMS exactly once: none lost, none twice
    messages = [json.loads(line) for line in faults.sms_log.read_text().splitlines()]
    assert Counter(m["phone"] for m in messages) == Counter(phones)
    assert Notification.objects.filter(dedupe_key=f"outage:{outage.pk}:published").count() == 5
    keys = sorted(f"delivery:{pk}" for pk in Delivery.objects.values_list("pk", flat=True))
    assert sorted(m["key"] for m in messages) == keys
    # only the three still claimed were sent again after the lease; the two that had left
    # were marked and never sent twice
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [1, 1, 2, 2, 2]
    stats.COUNTS["faults"] += 1


def test_a_worker_killed_while_settling_a_payment_credits_it_exactly_once(
    faults: Faults, customer: Any, fake_gateway: Any
) -> None:
    from abonent.core import clock
    from abonent.payments import services
    from abonent.payments.models import Payment, PaymentStatus
    from abonent.payments.tests.factories import heating, owing_accounts

    # given a payment the acquirer took but whose answer never reached us (still pending)
    first_account, _ = owing_accounts(customer)
    fake_gateway.outcome = "pending"
    started = services.payment_start(
        user=customer,
        lines=[services.LineInput(first_account.pk, heating().pk, "1500.00")],
        idempotency_key="kill-settle-0001",
        site_url="http://testserver",
        now=clock.now() - timedelta(hours=1),
        consent=True,
        card_id=None,
        save_card=False,
    )
    payment = Payment.objects.get(pk=started.payment.pk)
    assert payment.status == PaymentStatus.PENDING
    Payment.objects.filter(pk=payment.pk).update(updated_at=clock.now() - timedelta(hours=1))
    acquirer = json.dumps({"id": payment.gateway_payment_id, "amount": "1500.00"})
    refs = LedgerEntry.objects.filter(source_ref__startswith=f"payment:{payment.pk}:")

    # when reconciliation settles it and its worker is SIGKILLed inside the settling
    # transaction, after the ledger postings were written
    first = faults.worker(point="settlement", ABONENT_FAULT_ACQUIRER=acquirer)
    faults.send("abonent.payments.tasks.reconcile")
    faults.kill_at_the_point(first)

    # then nothing of it is committed
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert refs.count() == 0

    # when a new worker takes the job again, and reconciliation runs once more after it
    faults.worker(ABONENT_FAULT_ACQUIRER=acquirer)

    def settled() -> bool:
        payment.refresh_from_db()
        return payment.status == PaymentStatus.SUCCEEDED

    faults.wait_for("the payment to be settled", settled)
    faults.wait_for("the job to be acknowledged", faults.broker_idle)
    faults.send("abonent.payments.tasks.reconcile")
    faults.wait_for("the second reconciliation", faults.broker_idle)

    # then the payment is credited to the ledger exactly once (a payment lowers the debt)
    assert list(refs.values_list("amount", flat=True)) == [-Decimal("1500.00")]
    moves = AuditEntry.objects.filter(action="payments.payment_state", object_id=str(payment.pk))
    assert [e.data["to"] for e in moves.order_by("at")] == ["pending", "succeeded"]
    stats.COUNTS["faults"] += 1
