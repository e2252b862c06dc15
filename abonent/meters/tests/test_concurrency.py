"""Two devices, a double click or a retry at the same moment: one accepted reading per meter,
scale and period, and none lost (PostgreSQL: real row locks and real parallel sessions)."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from abonent.core.errors import DomainError
from abonent.meters.models import Reading, ReadingSource, ReadingStatus
from abonent.meters.services import ReadingInput, reading_submit
from abonent.meters.tests.factories import IN_WINDOW, NOVEMBER, customer_with_meter

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(user: Any, meter_id: int, values: list[str]) -> list[object]:
    barrier = threading.Barrier(len(values))
    outcomes: list[object] = [None] * len(values)

    def one(index: int, value: str) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = reading_submit(
                user=user,
                items=[ReadingInput(meter_id=meter_id, values={1: value})],
                source=ReadingSource.APP,
                now=IN_WINDOW,
            )
        except (DomainError, Exception) as exc:  # recorded and asserted below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, v)) for i, v in enumerate(values)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_a_double_click_makes_one_reading(customer):
    assert connection.vendor == "postgresql"
    _account, m = customer_with_meter(customer)
    outcomes = _race(customer, m.pk, ["136"] * 8)
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    rows = list(Reading.objects.filter(meter=m, month=NOVEMBER).values_list("value", "status"))
    assert rows == [(Decimal("136.0000"), ReadingStatus.ACCEPTED)]
    assert sum(1 for o in outcomes if getattr(o, "created", False)) == 1


def test_two_devices_with_different_values_keep_both_versions(customer):
    _account, m = customer_with_meter(customer)
    outcomes = _race(customer, m.pk, ["136", "137", "138", "139"])
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    rows = Reading.objects.filter(meter=m, month=NOVEMBER)
    assert rows.count() == 4  # none lost: every value is a version in the history
    assert rows.filter(status=ReadingStatus.ACCEPTED).count() == 1
    assert rows.filter(status=ReadingStatus.SUPERSEDED).count() == 3
    # the versions form one chain ending in the accepted one
    accepted = rows.get(status=ReadingStatus.ACCEPTED)
    chain = [accepted]
    while chain[-1].supersedes_id:
        chain.append(Reading.objects.get(pk=chain[-1].supersedes_id))
    assert len(chain) == 4


def test_the_database_refuses_a_second_accepted_reading(customer):
    """The partial unique index is the last line: a write that skips the service fails."""
    from django.db import IntegrityError, transaction

    _account, m = customer_with_meter(customer)
    first = Reading.objects.filter(meter=m).order_by("-month").first()
    assert first is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        Reading.objects.create(
            meter=m,
            scale=1,
            value=Decimal("1"),
            month=first.month,
            taken_at=IN_WINDOW,
            source=ReadingSource.IMPORT,
        )
