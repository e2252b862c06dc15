"""The job outbox in the admin (read-only) and the relay's bookkeeping. The broker-down
behaviour end to end is in abonent/security/tests/test_faults.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from abonent.core.models import JobOutbox
from abonent.core.outbox import KEEP_RELAYED, outbox_relay, outbox_state, outbox_store

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _store(task: str = "abonent.notices.tasks.deliveries_send", **kw: Any) -> JobOutbox:
    return outbox_store(
        task=task,
        args=kw.get("args", [[1, 2]]),
        kwargs={},
        eta=kw.get("eta"),
        error="OperationalError: Error 111 connecting to 127.0.0.1:6379. Connection refused.",
        now=kw.get("now", NOW),
    )


@pytest.fixture
def staff_client(make_customer: Any) -> Client:
    user = make_customer(phone="+79000000999")
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_lists_waiting_jobs_read_only(staff_client: Client) -> None:
    job = _store()

    listing = staff_client.get("/admin/core/joboutbox/?relayed_at__isnull=True")
    detail = staff_client.get(f"/admin/core/joboutbox/{job.pk}/change/")
    add = staff_client.get("/admin/core/joboutbox/add/")
    delete = staff_client.post(f"/admin/core/joboutbox/{job.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    text = listing.content.decode()
    assert "abonent.notices.tasks.deliveries_send" in text
    assert "Отложенные задачи (брокер был недоступен)" in text
    assert detail.status_code == 200
    assert (add.status_code, delete.status_code) == (403, 403)
    assert JobOutbox.objects.count() == 1


def test_a_customer_cannot_see_the_outbox(make_customer: Any) -> None:
    client = Client()
    client.force_login(make_customer(phone="+79000000998"))

    response = client.get("/admin/core/joboutbox/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_relay_keeps_the_eta_in_the_future_and_purges_old_relayed_rows() -> None:
    later = _store(eta=NOW + timedelta(minutes=5))
    past = _store(eta=NOW - timedelta(minutes=5))
    old = _store(now=NOW - KEEP_RELAYED - timedelta(days=1))
    JobOutbox.objects.filter(pk=old.pk).update(relayed_at=NOW - KEEP_RELAYED - timedelta(hours=1))
    published: list[tuple[int, datetime | None]] = []

    def publish(row: JobOutbox, now: datetime) -> None:
        published.append((row.pk, row.eta if row.eta and row.eta > now else None))

    result = outbox_relay(now=NOW, publish=publish)

    assert published == [(later.pk, NOW + timedelta(minutes=5)), (past.pk, None)]
    assert (result.relayed, result.pending, result.broker_down) == (2, 0, False)
    assert not JobOutbox.objects.filter(pk=old.pk).exists()
    assert outbox_state().pending == 0


def test_dates_and_decimals_in_a_job_survive_the_outbox() -> None:
    from decimal import Decimal

    from kombu.utils import json as kombu_json

    from abonent.core.jobs import as_stored_json

    args = [Decimal("1500.00"), NOW, "ЛС 240100123456"]
    job = _store(args=as_stored_json(args))
    job.refresh_from_db()

    # what the worker decodes from the relayed message equals what the caller passed
    assert kombu_json.loads(kombu_json.dumps(job.args)) == args


def test_the_relay_stops_at_the_first_failed_publish_and_keeps_the_rest() -> None:
    first, second, third = _store(), _store(), _store()

    def publish(row: JobOutbox, now: datetime) -> None:
        if row.pk == second.pk:
            raise ConnectionRefusedError("Connection refused")

    result = outbox_relay(now=NOW, publish=publish)

    assert (result.relayed, result.pending, result.broker_down) == (1, 2, True)
    rows = {r.pk: r for r in JobOutbox.objects.all()}
    assert rows[first.pk].relayed_at == NOW
    assert (rows[second.pk].relayed_at, rows[second.pk].attempts) == (None, 1)
    assert rows[second.pk].last_error == "ConnectionRefusedError: Connection refused"
    assert (rows[third.pk].relayed_at, rows[third.pk].attempts) == (None, 0)
    state = outbox_state()
    assert (state.pending, state.oldest_at) == (2, NOW)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_never_take_the_same_row() -> None:
    from django.db import connection

    from abonent.security.tests.test_faults import _other_connection

    jobs = [_store() for _ in range(4)]
    published: list[int] = []
    # given another relay holding the first two rows (its transaction still open)
    with _other_connection() as other:
        other.autocommit = False
        other.execute(
            "SELECT id FROM core_joboutbox WHERE id IN (%s, %s) FOR UPDATE",
            [jobs[0].pk, jobs[1].pk],
        )

        # when this relay runs meanwhile
        result = outbox_relay(now=NOW, publish=lambda row, now: published.append(row.pk))
        other.rollback()

    # then it skipped the locked rows instead of waiting for them or publishing them too
    assert published == [jobs[2].pk, jobs[3].pk]
    assert (result.relayed, result.pending) == (2, 2)
    connection.close()
