"""A billing run as a job: chunks committed one by one, progress, a run under way, a failed
run, closing an unfinished run, and connections side by side on PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from abonent.billing.models import BillingPeriod, Charge, PeriodStatus
from abonent.billing.services import billing_run, period_close
from abonent.billing.services import run as run_module
from abonent.billing.tests.factories import (
    NOW,
    heating,
    hot_water,
    make_account,
    make_meter,
    read_monthly,
)
from abonent.core.errors import Conflict

NOV = date(2026, 11, 1)


def totals(period: BillingPeriod) -> tuple[int, Decimal]:
    rows = Charge.objects.filter(period=period)
    return rows.count(), rows.aggregate(s=Sum("amount"))["s"]


@pytest.mark.django_db
def test_progress_is_stored_as_each_chunk_commits(branch):
    # given three accounts, run one account a chunk
    accounts = [make_account(branch, heating(), area="40.00") for _ in range(3)]
    seen: list[tuple[int, int, int]] = []

    def progress(done: int, total: int) -> None:
        period = BillingPeriod.objects.get(branch=branch, month=NOV)
        seen.append((done, total, period.run_progress))
        # while the run goes, the period is marked as running and cannot be closed
        assert period.run_finished_at is None
        with pytest.raises(Conflict) as error:
            period_close(period=period, now=NOW, actor=None)
        assert error.value.code == "run_unfinished"

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW, chunk_size=1, progress=progress)

    # then the period showed 33, 66 and 100 % as the chunks committed
    span = accounts[-1].pk - accounts[0].pk + 1
    assert len(seen) == span
    assert [pct for _done, _total, pct in seen][-1] == 100
    assert seen[0] == (1, span, 100 // span)
    result.period.refresh_from_db()
    assert (result.period.run_progress, result.period.run_id) == (100, None)
    assert result.period.run_finished_at == NOW


@pytest.mark.django_db
def test_a_run_under_way_refuses_a_second_one_until_it_is_stale(branch):
    # given a run started 10 minutes ago and still going
    make_account(branch, heating(), area="40.00")
    period = BillingPeriod.objects.create(
        branch=branch,
        month=NOV,
        run_id="5b0f0b7e-2a0c-4c5e-8d8f-3f1f0c1e9a11",
        run_started_at=NOW - timedelta(minutes=10),
        run_progress=40,
    )

    # when a second run starts
    with pytest.raises(Conflict) as error:
        billing_run(branch=branch, month=NOV, now=NOW)

    # then it is refused and nothing was written
    assert error.value.code == "run_in_progress"
    assert error.value.message == (
        "Расчёт периода 11.2026 уже идёт (готово 40 %). Дождитесь его окончания."
    )
    assert Charge.objects.count() == 0
    # and a run whose process died (no news for over two hours) is taken over
    BillingPeriod.objects.filter(pk=period.pk).update(run_started_at=NOW - timedelta(hours=3))
    assert billing_run(branch=branch, month=NOV, now=NOW).lines == 1


@pytest.mark.django_db
def test_a_failed_run_is_marked_and_the_period_cannot_close_until_a_rerun(branch, monkeypatch):
    # given two accounts run in two chunks, and the second chunk fails
    make_account(branch, heating(), area="40.00")
    make_account(branch, heating(), area="80.00")
    real = run_module._run_chunk
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["low"])
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return real(**kwargs)

    monkeypatch.setattr(run_module, "_run_chunk", flaky)

    # when the run fails
    with pytest.raises(RuntimeError):
        billing_run(branch=branch, month=NOV, now=NOW, chunk_size=1)

    # then the period says so, and closing it is refused
    period = BillingPeriod.objects.get(branch=branch, month=NOV)
    assert (period.run_id, period.run_error, period.run_finished_at) == (
        None,
        "внутренняя ошибка",
        None,
    )
    with pytest.raises(Conflict) as error:
        period_close(period=period, now=NOW, actor=None)
    assert error.value.message == (
        "Расчёт периода 11.2026 не завершён: дождитесь его окончания или запустите расчёт снова."
    )
    assert period.status == PeriodStatus.OPEN
    # and a re-run completes it, writing every line once
    monkeypatch.setattr(run_module, "_run_chunk", real)
    result = billing_run(branch=branch, month=NOV, now=NOW, chunk_size=1)
    assert totals(result.period) == (2, Decimal("8400.00"))
    assert period_close(period=result.period, now=NOW, actor=None).bills == 2


@pytest.mark.django_db
def test_a_chunk_of_a_superseded_run_stops(branch, monkeypatch):
    # given a run whose period is taken over by another run after its first chunk
    make_account(branch, heating(), area="40.00")
    make_account(branch, heating(), area="80.00")

    def taken_over(done: int, total: int) -> None:
        BillingPeriod.objects.filter(branch=branch).update(
            run_id="00000000-0000-4000-8000-000000000001"
        )

    # when the next chunk starts
    with pytest.raises(Conflict) as error:
        billing_run(branch=branch, month=NOV, now=NOW, chunk_size=1, progress=taken_over)

    # then it stops without writing
    assert error.value.code == "run_superseded"
    assert Charge.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_connections_side_by_side_give_the_same_charges_as_one(branch):
    # given 40 accounts with heating and hot water, half with a meter and readings
    for n in range(40):
        account = make_account(branch, heating(), hot_water(), area="50.00", residents=2)
        if n % 2:
            meter = make_meter(account, hot_water(), serial=f"M-{n}")
            read_monthly(meter, date(2026, 4, 1), 8, "100", "3.5")  # April–November

    # when run by one connection, then by four in chunks of 3 accounts
    one = billing_run(branch=branch, month=NOV, now=NOW, workers=1)
    expected = sorted(
        Charge.objects.filter(period=one.period).values_list(
            "account_id", "service_id", "for_month", "volume", "amount", "method"
        )
    )
    four = billing_run(branch=branch, month=NOV, now=NOW, workers=4, chunk_size=3)

    # then the same 80 lines, written once
    assert (four.lines, four.total) == (one.lines, one.total) == (80, four.total)
    got = sorted(
        Charge.objects.filter(period=four.period).values_list(
            "account_id", "service_id", "for_month", "volume", "amount", "method"
        )
    )
    assert got == expected
    assert {m for *_rest, m in got} == {"area", "norm", "meter"}


@pytest.mark.django_db
def test_rerun_updates_changed_lines_and_removes_lines_no_longer_due(branch):
    # given two accounts run once
    keep = make_account(branch, heating(), area="40.00")
    gone = make_account(branch, heating(), area="80.00")
    first = billing_run(branch=branch, month=NOV, now=NOW)
    kept_id = Charge.objects.get(account=keep).pk

    # when one grows to 60 m² and the other is closed, and the period is re-run
    type(keep).objects.filter(pk=keep.pk).update(area=Decimal("60.00"))
    type(gone).objects.filter(pk=gone.pk).update(status="closed")
    again = billing_run(branch=branch, month=NOV, now=NOW)

    # then the first line holds the new amount and the closed account's line is gone
    assert (first.lines, again.lines) == (2, 1)
    assert list(Charge.objects.values_list("account_id", "volume", "amount")) == [
        (keep.pk, Decimal("1.500000"), Decimal("4200.00"))
    ]
    # (PostgreSQL updates the line in place; SQLite writes the chunk anew)
    assert Charge.objects.get().pk == kept_id or not run_module.is_postgres()


@pytest.mark.django_db
def test_an_account_with_draft_charges_cannot_be_deleted(branch):
    # given an account with a draft charge (charges carry no database foreign keys)
    from django.db.models import ProtectedError

    account = make_account(branch, heating(), area="40.00")
    billing_run(branch=branch, month=NOV, now=NOW)

    # when it is deleted through the ORM, then Django's PROTECT refuses, and nothing changed
    with pytest.raises(ProtectedError):
        account.delete()
    assert Charge.objects.filter(account=account).count() == 1
