"""Closing a period: ledger = charges, one bill per ЛС, immutability; the command."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from abonent.billing.models import (
    Bill,
    BillingPeriod,
    Charge,
    EntryKind,
    LedgerEntry,
    PeriodStatus,
)
from abonent.billing.services import billing_run, period_close
from abonent.billing.tests.factories import (
    NOW,
    heating,
    hot_water,
    make_account,
    make_meter,
    read,
    read_monthly,
)
from abonent.core.errors import Conflict, ValidationFailed
from abonent.core.models import AuditEntry

pytestmark = pytest.mark.django_db

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)


def test_close_posts_one_ledger_entry_per_charge_and_issues_bills(branch):
    # given October closed (6221.25 due), a November payment of 5000 and November run
    owing = make_account(branch, heating(), hot_water(), area="54.30", residents=3,
                         number="240100123456")  # fmt: skip
    other = make_account(branch, heating(), area="40.00", number="240100654321")
    period_close(period=billing_run(branch=branch, month=OCT, now=NOW).period, now=NOW, actor=None)
    LedgerEntry.objects.create(
        account=owing,
        service=heating(),
        kind=EntryKind.PAYMENT,
        amount=Decimal("-5000.00"),
        month=NOV,
        at=NOW,
        source_ref="payment:1:1",
    )
    LedgerEntry.objects.create(
        account=other,
        service=heating(),
        kind=EntryKind.PAYMENT,
        amount=Decimal("-10000.00"),
        month=NOV,
        at=NOW,
        source_ref="payment:2:1",
    )
    period = billing_run(branch=branch, month=NOV, now=NOW).period

    # when November is closed
    result = period_close(period=period, now=NOW, actor=None)

    # then the period is closed, the ledger has one entry per charge with the same sums
    period.refresh_from_db()
    assert (period.status, period.closed_at) == (PeriodStatus.CLOSED, NOW)
    assert (result.entries, result.bills) == (3, 2)
    posted = LedgerEntry.objects.filter(kind=EntryKind.CHARGE, month=NOV)
    assert posted.count() == Charge.objects.filter(period=period).count() == 3
    assert posted.aggregate(s=Sum("amount"))["s"] == Decimal("9021.25")
    assert set(posted.values_list("charge_id", flat=True)) == set(
        Charge.objects.filter(period=period).values_list("id", flat=True)
    )
    assert all(e.at == NOW for e in posted)
    # and the bills add up: opening + charged + recalculated − paid = closing
    bills = {
        b.account_id: (
            b.number,
            b.opening_balance,
            b.charged,
            b.recalculated,
            b.paid,
            b.total_due,
            b.issued_at,
        )
        for b in Bill.objects.filter(period=period)
    }
    assert bills == {
        owing.pk: (
            "krasnoyarsk-202611-240100123456",
            Decimal("6221.25"),
            Decimal("6221.25"),
            Decimal("0.00"),
            Decimal("5000.00"),
            Decimal("7442.50"),
            NOW,
        ),
        other.pk: (
            "krasnoyarsk-202611-240100654321",
            Decimal("2800.00"),
            Decimal("2800.00"),
            Decimal("0.00"),
            Decimal("10000.00"),
            Decimal("0.00"),  # overpaid by 4400: nothing due
            NOW,
        ),
    }
    assert AuditEntry.objects.filter(action="billing.period_close").count() == 2


def test_bill_shows_recalculations_apart(branch):
    # given September and October billed on the average, the reading back in November
    account = make_account(branch, hot_water(), residents=2)
    meter = make_meter(account, hot_water())
    read_monthly(meter, date(2026, 1, 1), 8, "100", "4")
    for month in (date(2026, 9, 1), OCT):
        period_close(
            period=billing_run(branch=branch, month=month, now=NOW).period, now=NOW, actor=None
        )
    read(meter, NOV, "146")
    period = billing_run(branch=branch, month=NOV, now=NOW).period

    # when
    period_close(period=period, now=NOW, actor=None)

    # then
    bill = Bill.objects.get(period=period)
    assert (bill.opening_balance, bill.charged, bill.recalculated, bill.paid, bill.total_due) == (
        Decimal("1844.00"),
        Decimal("1383.00"),
        Decimal("922.00"),
        Decimal("0.00"),
        Decimal("4149.00"),
    )


def test_closing_twice_is_refused_and_changes_nothing(branch):
    # given a closed period
    make_account(branch, heating(), area="40.00")
    period = billing_run(branch=branch, month=NOV, now=NOW).period
    period_close(period=period, now=NOW, actor=None)

    # when closed again
    with pytest.raises(Conflict) as error:
        period_close(period=period, now=NOW, actor=None)

    # then
    assert error.value.message == "Период 11.2026 уже закрыт."
    assert (LedgerEntry.objects.count(), Bill.objects.count()) == (1, 1)


def test_closing_an_empty_period_is_refused(branch):
    # given a period that was never run
    period = BillingPeriod.objects.create(branch=branch, month=NOV)

    # when
    with pytest.raises(ValidationFailed) as error:
        period_close(period=period, now=NOW, actor=None)

    # then
    assert error.value.message == "В периоде 11.2026 нет начислений: сначала выполните расчёт."
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    assert LedgerEntry.objects.count() == 0


def test_command_runs_and_closes(branch):
    # given an account
    make_account(branch, heating(), area="40.00")
    out = StringIO()

    # when
    call_command("billing_run", "--branch", "krasnoyarsk", "--period", "2026-11", "--close",
                 stdout=out)  # fmt: skip

    # then
    period = BillingPeriod.objects.get(branch=branch, month=NOV)
    assert period.status == PeriodStatus.CLOSED
    assert out.getvalue().splitlines() == [
        "  chunk 1/1 (100%)",
        "krasnoyarsk 2026-11: 1 lines, 0 recalculations, total 2800.00 ₽",
        "closed: 1 ledger entries, 1 bills",
    ]


def test_task_is_safe_to_run_twice(branch):
    # given
    from abonent.billing.tasks import run_billing

    make_account(branch, heating(), area="40.00")

    # when run and closed twice
    first = run_billing.delay(branch.pk, "2026-11-01", close=True).get()
    second = run_billing.delay(branch.pk, "2026-11-01", close=True).get()

    # then one closed period, one bill
    assert first["status"] == second["status"] == "closed"
    assert (Charge.objects.count(), LedgerEntry.objects.count(), Bill.objects.count()) == (1, 1, 1)
