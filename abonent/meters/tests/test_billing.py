"""The billing run picks up readings submitted through the meters service."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from abonent.billing.models import Charge
from abonent.billing.services import billing_run
from abonent.meters.models import ReadingSource
from abonent.meters.services import ReadingInput, reading_submit
from abonent.meters.tests.factories import IN_WINDOW, NOVEMBER, customer_with_meter

pytestmark = pytest.mark.django_db


def test_the_billing_run_bills_the_submitted_reading_by_meter(customer):
    # given a meter read at 133.000 in October, and 137,25 submitted in November's window
    account, m = customer_with_meter(customer)
    reading_submit(
        user=customer,
        items=[ReadingInput(meter_id=m.pk, values={1: "137,25"})],
        source=ReadingSource.WEB,
        now=IN_WINDOW,
    )
    # when November is billed
    billing_run(branch=account.branch, month=NOVEMBER, now=datetime(2026, 12, 1, tzinfo=UTC))
    # then the hot water line is by meter: 4.25 m³ × 230.50 ₽
    charge = Charge.objects.get(account=account, for_month=NOVEMBER)
    assert (charge.method, charge.volume, charge.amount) == (
        "meter",
        Decimal("4.250000"),
        Decimal("979.63"),
    )


def test_a_corrected_reading_is_billed_not_the_superseded_one(customer):
    account, m = customer_with_meter(customer)
    for value, day in (("140", 20), ("136", 21)):
        reading_submit(
            user=customer,
            items=[ReadingInput(meter_id=m.pk, values={1: value})],
            source=ReadingSource.WEB,
            now=datetime(2026, 11, day, 5, 0, tzinfo=UTC),
        )
    billing_run(branch=account.branch, month=NOVEMBER, now=datetime(2026, 12, 1, tzinfo=UTC))
    charge = Charge.objects.get(account=account, for_month=NOVEMBER)
    assert (charge.method, charge.volume) == ("meter", Decimal("3.000000"))
