"""Faults: a real deadlock between a customer's request and another transaction (PostgreSQL).

The request is the one PostgreSQL aborts (its wait began first, so its deadlock check runs
first): it must be answered with the documented «try again» and leave nothing half-written.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from abonent.core.models import AuditEntry
from abonent.meters.models import Reading, ReadingStatus
from abonent.security.tests import stats
from abonent.security.tests.test_faults import _other_connection
from abonent.security.tests.world import World


def _wait_until_blocked(admin: Any, pid: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError("the request never waited for the lock")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deadlock_is_a_clean_try_again_and_the_retry_goes_through(world: World) -> None:
    meter_id = world.owner.ids["meter_id"]
    last = (
        Reading.objects.filter(meter_id=meter_id, status=ReadingStatus.ACCEPTED)
        .order_by("-month")
        .first()
    )
    value = f"{(last.value if last else Decimal(0)) + Decimal('1.500'):.3f}"
    readings_before = Reading.objects.filter(meter_id=meter_id).count()
    audit_before = AuditEntry.objects.filter(action="reading.submit").count()
    client = Client(headers=world.owner.auth, raise_request_exception=False)
    answers: dict[str, Any] = {}
    backend: dict[str, int] = {}

    def submit() -> None:
        connection.ensure_connection()
        backend["pid"] = connection.connection.info.backend_pid
        answers["first"] = client.post(
            f"/api/v1/meters/{meter_id}/readings",
            {"values": [{"scale": 1, "value": value}]},
            content_type="application/json",
        )
        connection.close()

    # given another transaction holding the audit log against writers
    with _other_connection() as holder, _other_connection() as admin:
        holder.autocommit = False
        holder.execute("LOCK TABLE core_auditentry IN SHARE ROW EXCLUSIVE MODE")
        # when the customer submits a reading: the request locks the meter, writes the
        # reading and waits to write its audit row ...
        thread = threading.Thread(target=submit)
        thread.start()
        deadline = time.monotonic() + 20
        while "pid" not in backend and time.monotonic() < deadline:
            time.sleep(0.01)
        _wait_until_blocked(admin, backend["pid"], deadline)
        # ... and the other transaction then asks for the meter the request holds
        holder.execute("SELECT 1 FROM meters_meter WHERE id = %s FOR UPDATE", [meter_id])
        thread.join(timeout=30)
        holder.rollback()

    # then PostgreSQL broke the deadlock by aborting the request: a documented «try again»
    first = answers["first"]
    assert first.status_code == 503, first.content
    assert first.json()["code"] == "database_unavailable"
    assert first["Retry-After"] == "5"
    # and nothing of it is left: no reading, no audit row
    assert Reading.objects.filter(meter_id=meter_id).count() == readings_before
    assert AuditEntry.objects.filter(action="reading.submit").count() == audit_before
    # and the customer's retry goes through
    again = client.post(
        f"/api/v1/meters/{meter_id}/readings",
        {"values": [{"scale": 1, "value": value}]},
        content_type="application/json",
    )
    assert again.status_code in (200, 201), again.content
    assert Reading.objects.filter(meter_id=meter_id, value=Decimal(value)).count() == 1
    stats.COUNTS["faults"] += 1
