"""seed_demo's billing history: 24 closed months, the current one open, one ЛС owing and
one paid ahead, a recalculation; `--accounts N` makes ЛС the run can bill."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum

from abonent.accounts.models import Branch, PersonalAccount
from abonent.billing.models import BillingPeriod, Charge, LedgerEntry, PeriodStatus
from abonent.billing.services import billing_run

pytestmark = pytest.mark.django_db


def balance(number: str) -> Decimal:
    return LedgerEntry.objects.filter(account__number=number).aggregate(s=Sum("amount"))["s"]


@time_machine.travel(datetime(2026, 11, 23, 3, 0, tzinfo=UTC), tick=False)
def test_seed_demo_history_and_idempotence():
    # when seeded twice
    call_command("seed_demo", stdout=StringIO())
    counts = (Charge.objects.count(), LedgerEntry.objects.count())
    call_command("seed_demo", stdout=StringIO())

    # then 24 closed months and November open, nothing written twice
    periods = BillingPeriod.objects.filter(branch__code="krasnoyarsk")
    assert periods.filter(status=PeriodStatus.CLOSED).count() == 24
    assert list(periods.filter(status=PeriodStatus.OPEN).values_list("month", flat=True)) == [
        date(2026, 11, 1)
    ]
    assert (Charge.objects.count(), LedgerEntry.objects.count()) == counts
    # one ЛС owes, the other is 1000 ₽ ahead per service
    assert balance("240100123456") > 0
    assert balance("240100654321") == Decimal("-2000.00")
    # the gap on the second ЛС was billed on the average and recalculated in October
    recalcs = Charge.objects.filter(account__number="240100654321", is_recalculation=True)
    assert sorted(recalcs.values_list("for_month", "period__month")) == [
        (date(2026, 8, 1), date(2026, 10, 1)),
        (date(2026, 9, 1), date(2026, 10, 1)),
    ]


@time_machine.travel(datetime(2026, 11, 23, 3, 0, tzinfo=UTC), tick=False)
def test_seed_demo_synthetic_accounts_are_billed():
    # given the demo data and 60 synthetic ЛС with all three services
    call_command("seed_demo", "--accounts", "60", "--all-services", stdout=StringIO())
    call_command("seed_demo", "--accounts", "60", "--all-services", stdout=StringIO())
    synthetic = PersonalAccount.objects.filter(number__startswith="77")
    assert synthetic.count() == 60

    # when Novosibirsk (synthetic ЛС only) is run
    branch = Branch.objects.get(code="novosibirsk")
    result = billing_run(
        branch=branch, month=date(2026, 11, 1), now=datetime(2026, 11, 23, tzinfo=UTC)
    )

    # then every ЛС of the branch has three lines, with meter, average and norm/area methods
    assert result.lines == 3 * synthetic.filter(branch=branch).count() == 60
    methods = set(Charge.objects.filter(period=result.period).values_list("method", flat=True))
    assert methods == {"meter", "average", "area", "norm"}
