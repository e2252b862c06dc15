"""The monthly billing run: meter, average (3-month limit), norm, area, recalculation,
re-runs, tariffs by date, other branches."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from abonent.accounts.models import AccountStatus
from abonent.billing.models import BillingPeriod, Charge, PeriodStatus
from abonent.billing.services import billing_run, period_close
from abonent.billing.tests.factories import (
    NOW,
    heating,
    hot_water,
    make_account,
    make_branch,
    make_meter,
    price,
    read,
    read_monthly,
)
from abonent.core.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 1)


def lines(period: BillingPeriod) -> list[tuple[str, str, str, Decimal, Decimal, Decimal, bool]]:
    return [
        (
            c.account.number,
            c.service.code,
            f"{c.for_month:%Y-%m}",
            c.volume,
            c.tariff,
            c.amount,
            c.is_recalculation,
        )
        for c in Charge.objects.filter(period=period)
        .select_related("account", "service")
        .order_by("account_id", "service__sort_order", "for_month")
    ]


def test_norm_and_area_without_meters(branch):
    # given an ЛС of 54.30 m² with 3 residents, heating and hot water, no meters
    account = make_account(branch, heating(), hot_water(), area="54.30", residents=3)

    # when November is run
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then heating is area × norm and hot water residents × norm
    rows = Charge.objects.filter(period=result.period).order_by("service__sort_order")
    assert [(c.method, c.volume, c.unit, c.tariff, c.amount) for c in rows] == [
        ("area", Decimal("1.357500"), "Гкал", Decimal("2800.0000"), Decimal("3801.00")),
        ("norm", Decimal("10.500000"), "м³", Decimal("230.5000"), Decimal("2420.25")),
    ]
    assert (result.lines, result.recalculations, result.total) == (2, 0, Decimal("6221.25"))
    assert all(c.account_id == account.pk and c.for_month == NOV for c in rows)
    period = BillingPeriod.objects.get(pk=result.period.pk)
    assert (period.status, period.run_progress) == (PeriodStatus.OPEN, 100)
    assert (period.run_started_at, period.run_finished_at) == (NOW, NOW)


def test_meter_volume_is_this_minus_previous_rounded_half_up(branch):
    # given a hot-water meter read in October and November
    account = make_account(branch, hot_water())
    meter = make_meter(account, hot_water())
    read(meter, date(2026, 10, 1), "100.0000")
    read(meter, NOV, "104.2500")

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then 4.25 м³ × 230.50 = 979.625 → 979.63
    charge = Charge.objects.get(period=result.period)
    assert (charge.method, charge.volume, charge.amount) == (
        "meter",
        Decimal("4.250000"),
        Decimal("979.63"),
    )


def test_meter_sums_scales(branch):
    # given a two-scale meter
    account = make_account(branch, hot_water())
    meter = make_meter(account, hot_water())
    for scale, (before, after) in enumerate([("10", "12"), ("20", "21.5")], 1):
        read(meter, date(2026, 10, 1), before, scale=scale)
        read(meter, NOV, after, scale=scale)

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then both scales count: 2 + 1.5 = 3.5 м³
    charge = Charge.objects.get(period=result.period)
    assert (charge.method, charge.volume, charge.amount) == (
        "meter",
        Decimal("3.500000"),
        Decimal("806.75"),
    )


def test_meter_sums_every_working_meter_of_the_service(branch):
    # given two hot-water meters (two risers) read in October and November, and a removed one
    account = make_account(branch, hot_water())
    kitchen = make_meter(account, hot_water(), serial="K-1")
    bath = make_meter(account, hot_water(), serial="B-1")
    old = make_meter(account, hot_water(), serial="OLD")
    old.status = "removed"
    old.save()
    for meter, before, after in ((kitchen, "100", "102"), (bath, "50", "53.5"), (old, "1", "9")):
        read(meter, date(2026, 10, 1), before)
        read(meter, NOV, after)

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then both working meters count: 2 + 3.5 = 5.5 м³ (the removed one does not)
    charge = Charge.objects.get(period=result.period)
    assert (charge.method, charge.volume, charge.amount) == (
        "meter",
        Decimal("5.500000"),
        Decimal("1267.75"),
    )


def test_a_counter_that_rolled_over_counts_on_past_its_digits(branch):
    # given a 5-digit meter at 99 998.5 in October and 3.0 in November (confirmed rollover)
    account = make_account(branch, hot_water())
    meter = make_meter(account, hot_water())
    read(meter, date(2026, 9, 1), "99990.0000")
    read(meter, date(2026, 10, 1), "99998.5000")
    read(meter, NOV, "3.0000")

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then 100 000 − 99 998.5 + 3 = 4.5 м³, not a negative volume clipped to 0
    charge = Charge.objects.get(period=result.period)
    assert (charge.method, charge.volume, charge.amount) == (
        "meter",
        Decimal("4.500000"),
        Decimal("1037.25"),
    )


def test_a_month_with_only_some_meters_read_is_not_a_meter_month(branch):
    # given two meters read monthly since April, and in November only the kitchen one
    account = make_account(branch, hot_water())
    kitchen = make_meter(account, hot_water(), serial="K-1")
    bath = make_meter(account, hot_water(), serial="B-1")
    read_monthly(kitchen, date(2026, 4, 1), 7, "100", "2")  # April–October, 2 м³ a month
    read_monthly(bath, date(2026, 4, 1), 7, "50", "1")  # 1 м³ a month
    read(kitchen, NOV, "114")

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then November is billed on the average of both (3 м³), not on a half-read sum
    charge = Charge.objects.get(period=result.period)
    assert (charge.method, charge.volume) == ("average", Decimal("3.000000"))


@pytest.mark.parametrize(
    ("month", "method", "volume", "amount"),
    [
        (date(2026, 9, 1), "average", "4.000000", "922.00"),
        (date(2026, 10, 1), "average", "4.000000", "922.00"),
        (date(2026, 11, 1), "average", "4.000000", "922.00"),
        # the 4th month without readings falls back to the norm: 2 residents × 3.5 м³
        (date(2026, 12, 1), "norm", "7.000000", "1613.50"),
    ],
)
def test_average_for_at_most_three_months_then_norm(branch, month, method, volume, amount):
    # given readings January–August growing by 4 м³ a month, none since
    account = make_account(branch, hot_water(), residents=2)
    read_monthly(make_meter(account, hot_water()), date(2026, 1, 1), 8, "100", "4")

    # when the month is run
    result = billing_run(branch=branch, month=month, now=NOW)

    # then
    charge = Charge.objects.get(period=result.period)
    assert (charge.method, charge.volume, charge.amount) == (
        method,
        Decimal(volume),
        Decimal(amount),
    )


def test_average_needs_six_months_of_history(branch):
    # given only June–August readings
    account = make_account(branch, hot_water(), residents=1)
    read_monthly(make_meter(account, hot_water()), date(2026, 6, 1), 3, "100", "4")

    # when September is run without a reading
    result = billing_run(branch=branch, month=date(2026, 9, 1), now=NOW)

    # then the norm applies (1 resident × 3.5 м³)
    charge = Charge.objects.get(period=result.period)
    assert (charge.method, charge.volume, charge.amount) == (
        "norm",
        Decimal("3.500000"),
        Decimal("806.75"),
    )


def test_heating_with_a_working_meter_is_metered_not_area(branch):
    # given heating with a heat meter read in October and November
    account = make_account(branch, heating(), area="60.00")
    meter = make_meter(account, heating(), serial="H-1")
    read(meter, date(2026, 10, 1), "10.5000")
    read(meter, NOV, "11.7500")

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then 1.25 Гкал × 2800 = 3500.00
    charge = Charge.objects.get(period=result.period)
    assert (charge.method, charge.volume, charge.amount) == (
        "meter",
        Decimal("1.250000"),
        Decimal("3500.00"),
    )


def test_recalculation_when_readings_return_after_average_months(branch):
    # given readings January–August (100 → 128, 4 м³ a month); September and October were
    # billed on the average (4 м³) and closed; the November reading is 146
    account = make_account(branch, hot_water(), residents=2, number="240100000777")
    meter = make_meter(account, hot_water())
    read_monthly(meter, date(2026, 1, 1), 8, "100", "4")
    for month in (date(2026, 9, 1), date(2026, 10, 1)):
        run = billing_run(branch=branch, month=month, now=NOW)
        period_close(period=run.period, now=NOW, actor=None)
    read(meter, NOV, "146")

    # when November is run
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then 18 м³ since August spread evenly over September–November: 6 м³ a month;
    # November is billed 6 м³ and September and October get +2 м³ each
    assert lines(result.period) == [
        ("240100000777", "hot-water", "2026-09", Decimal("2.000000"), Decimal("230.5000"),
         Decimal("461.00"), True),
        ("240100000777", "hot-water", "2026-10", Decimal("2.000000"), Decimal("230.5000"),
         Decimal("461.00"), True),
        ("240100000777", "hot-water", "2026-11", Decimal("6.000000"), Decimal("230.5000"),
         Decimal("1383.00"), False),
    ]  # fmt: skip
    reasons = list(
        Charge.objects.filter(period=result.period, is_recalculation=True)
        .order_by("for_month")
        .values_list("reason", "method")
    )
    assert reasons == [
        ("Перерасчёт за 09.2026: получены показания счётчика", "meter"),
        ("Перерасчёт за 10.2026: получены показания счётчика", "meter"),
    ]
    assert (result.lines, result.recalculations, result.total) == (1, 2, Decimal("2305.00"))


def test_recalculation_can_lower_the_charge_and_uses_that_months_tariff(branch):
    # given September was billed on the average of 4 м³ at 230.50; from October the
    # tariff is 250; the November reading shows only 1 м³ a month since August
    hw = hot_water()
    account = make_account(branch, hw, residents=2)
    meter = make_meter(account, hw)
    read_monthly(meter, date(2026, 1, 1), 8, "100", "4")
    billing_run(branch=branch, month=date(2026, 9, 1), now=NOW)
    from abonent.billing.models import Tariff

    Tariff.objects.filter(branch=branch, service=hw).update(valid_to=date(2026, 10, 1))
    price(branch, hw, "250.0000", valid_from=date(2026, 10, 1))
    billing_run(branch=branch, month=date(2026, 10, 1), now=NOW)
    read(meter, NOV, "131")

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then each month is 1 м³: September −3 м³ at 230.50, October −3 м³ at 250
    assert [(c[2], c[3], c[4], c[5], c[6]) for c in lines(result.period)] == [
        ("2026-09", Decimal("-3.000000"), Decimal("230.5000"), Decimal("-691.50"), True),
        ("2026-10", Decimal("-3.000000"), Decimal("250.0000"), Decimal("-750.00"), True),
        ("2026-11", Decimal("1.000000"), Decimal("250.0000"), Decimal("250.00"), False),
    ]


def test_rerun_replaces_drafts_and_writes_nothing_twice(branch):
    # given two accounts run once
    make_account(branch, heating(), hot_water(), area="54.30", residents=3)
    make_account(branch, heating(), area="40.00")
    first = billing_run(branch=branch, month=NOV, now=NOW)
    before = lines(first.period)

    # when run again, and once more in chunks of one account
    billing_run(branch=branch, month=NOV, now=NOW)
    again = billing_run(branch=branch, month=NOV, now=NOW, chunk_size=1)

    # then the same 3 lines and the same total
    assert Charge.objects.count() == 3
    assert lines(again.period) == before
    assert Charge.objects.aggregate(s=Sum("amount"))["s"] == Decimal("9021.25")
    assert BillingPeriod.objects.count() == 1


def test_rerun_sees_new_readings(branch):
    # given a run on the average, then a reading arrives
    account = make_account(branch, hot_water(), residents=2)
    meter = make_meter(account, hot_water())
    read_monthly(meter, date(2026, 4, 1), 7, "100", "4")  # April–October
    billing_run(branch=branch, month=NOV, now=NOW)
    assert Charge.objects.get().method == "average"
    read(meter, NOV, "129.5")

    # when re-run
    billing_run(branch=branch, month=NOV, now=NOW)

    # then one line, by meter: 129.5 − 124 = 5.5 м³
    charge = Charge.objects.get()
    assert (charge.method, charge.volume, charge.amount) == (
        "meter",
        Decimal("5.500000"),
        Decimal("1267.75"),
    )


def test_closed_period_refuses_rerun_and_stays_unchanged(branch):
    # given a closed November
    make_account(branch, heating(), area="40.00")
    period = billing_run(branch=branch, month=NOV, now=NOW).period
    period_close(period=period, now=NOW, actor=None)
    before = lines(period)
    make_account(branch, heating(), area="80.00")

    # when it is run again
    with pytest.raises(Conflict) as error:
        billing_run(branch=branch, month=NOV, now=NOW)

    # then a Russian message, and nothing changed
    assert error.value.code == "period_closed"
    assert error.value.message == (
        "Период 11.2026 закрыт: его начисления не меняются. Исправления вносятся "
        "перерасчётом в следующем открытом периоде."
    )
    assert lines(period) == before
    assert Charge.objects.count() == 1


def test_tariff_change_mid_year_picks_the_tariff_of_the_month(branch):
    # given heating 2800 until July and 3100 from July; an ЛС of 40 m² (1 Гкал a month)
    from abonent.billing.models import Tariff

    Tariff.objects.filter(branch=branch, service=heating()).update(valid_to=date(2026, 7, 1))
    price(branch, heating(), "3100.0000", valid_from=date(2026, 7, 1))
    make_account(branch, heating(), area="40.00")

    # when June and July are run
    june = billing_run(branch=branch, month=date(2026, 6, 1), now=NOW)
    july = billing_run(branch=branch, month=date(2026, 7, 1), now=NOW)

    # then
    assert Charge.objects.get(period=june.period).amount == Decimal("2800.00")
    assert Charge.objects.get(period=july.period).amount == Decimal("3100.00")


def test_another_branch_is_untouched(branch):
    # given Novosibirsk with its own account and run
    nsk = make_branch(code="novosibirsk", name="Новосибирск")
    price(nsk, heating(), "2600.0000", norm="0.020000")
    make_account(nsk, heating(), area="50.00")
    nsk_period = billing_run(branch=nsk, month=NOV, now=NOW).period
    before = lines(nsk_period)
    make_account(branch, heating(), area="40.00")

    # when Krasnoyarsk is run (twice)
    billing_run(branch=branch, month=NOV, now=NOW)
    kras = billing_run(branch=branch, month=NOV, now=NOW)

    # then Novosibirsk's charges are as they were
    assert lines(nsk_period) == before
    assert [(c[3], c[5]) for c in before] == [(Decimal("1.000000"), Decimal("2600.00"))]
    assert [(c[3], c[5]) for c in lines(kras.period)] == [(Decimal("1.000000"), Decimal("2800.00"))]


def test_closed_accounts_and_ended_services_are_not_billed(branch):
    # given a closed ЛС and an ЛС whose hot water ended in October
    closed = make_account(branch, heating(), area="40.00")
    closed.status = AccountStatus.CLOSED
    closed.save()
    account = make_account(branch, heating(), hot_water(), area="40.00")
    account.account_services.filter(service=hot_water()).update(valid_to=date(2026, 11, 1))

    # when
    result = billing_run(branch=branch, month=NOV, now=NOW)

    # then only the heating of the open ЛС
    assert [(c[1], c[5]) for c in lines(result.period)] == [("heating", Decimal("2800.00"))]


def test_missing_tariff_is_refused_and_nothing_is_written(branch):
    # given a service in use without a tariff
    from abonent.billing.models import NormBasis, Service, Unit

    steam = Service.objects.create(
        code="coolant", name="Теплоноситель", unit=Unit.M3, norm_basis=NormBasis.RESIDENT
    )
    make_account(branch, heating(), steam)

    # when
    with pytest.raises(ValidationFailed) as error:
        billing_run(branch=branch, month=NOV, now=NOW)

    # then
    assert error.value.message == (
        "Нет тарифа на услугу «Теплоноситель» на 11.2026 для филиала Красноярск."
    )
    assert Charge.objects.count() == 0
