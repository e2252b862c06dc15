"""Billing reads: balances, a month's breakdown with «why», the history — exact numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from abonent.accounts.tests.factories import charge, make_account, opening, payment
from abonent.billing.selectors import (
    balances_for_accounts,
    charge_months,
    charges_breakdown,
    charges_history,
)
from abonent.core.errors import NotFound

pytestmark = pytest.mark.django_db

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture
def account() -> Any:
    """Heating and hot water: a year ago, last month and this month, a payment, a recalc."""
    acc = make_account()
    opening(acc, "heating", date(2025, 10, 1), "100.00")
    charge(acc, "heating", date(2025, 11, 1), volume="1.1", tariff="2000.0000", amount="2200.00")
    charge(acc, "heating", OCT, volume="1.0", tariff="2300.0000", amount="2300.00")
    charge(acc, "hot_water", OCT, volume="4.0", tariff="200.0000", amount="800.00")
    payment(acc, "heating", OCT, "2000.00")
    payment(acc, "heating", NOV, "2600.00")
    payment(acc, "hot_water", NOV, "1000.00")
    charge(acc, "heating", NOV, volume="1.2", tariff="2530.0000", amount="3036.00")
    charge(
        acc, "hot_water", NOV, volume="3.5", tariff="200.0000", amount="700.00", method="average"
    )
    charge(
        acc,
        "hot_water",
        NOV,
        volume="-0.5",
        tariff="200.0000",
        amount="-100.00",
        method="meter",
        for_month=OCT,
        reason="Переданы показания за октябрь",
    )
    return acc


def test_balances_sum_the_ledger_per_service(account: Any) -> None:
    balances = balances_for_accounts(account_ids=[account.pk])[account.pk]

    # heating 100 + 2200 + 2300 − 2000 − 2600 + 3036 = 3036; hot water 800 − 1000 + 700 − 100
    assert [(b.name, b.balance) for b in balances] == [
        ("Отопление", Decimal("3036.00")),
        ("Горячая вода", Decimal("400.00")),
    ]


def test_breakdown_lines_recalculations_and_balances(account: Any) -> None:
    b = charges_breakdown(account=account, month=NOV)

    assert [(x.service, x.volume, x.unit, x.tariff, x.method, x.amount) for x in b.lines] == [
        ("Отопление", Decimal("1.2"), "Гкал", Decimal("2530"), "meter", Decimal("3036.00")),
        ("Горячая вода", Decimal("3.5"), "м³", Decimal("200"), "average", Decimal("700.00")),
    ]
    assert b.lines[1].method_label == "по среднему"
    assert [(x.service, x.for_month, x.amount, x.reason) for x in b.recalculations] == [
        ("Горячая вода", OCT, Decimal("-100.00"), "Переданы показания за октябрь")
    ]
    heating, water = b.services
    assert (heating.opening, heating.charged, heating.paid, heating.closing) == (
        Decimal("2600.00"),
        Decimal("3036.00"),
        Decimal("2600.00"),
        Decimal("3036.00"),
    )
    assert (water.opening, water.charged, water.recalculated, water.paid, water.closing) == (
        Decimal("800.00"),
        Decimal("700.00"),
        Decimal("-100.00"),
        Decimal("1000.00"),
        Decimal("400.00"),
    )
    assert (b.opening, b.charged, b.recalculated, b.paid, b.closing) == (
        Decimal("3400.00"),
        Decimal("3736.00"),
        Decimal("-100.00"),
        Decimal("3600.00"),
        Decimal("3436.00"),
    )
    assert b.opening + b.charged + b.recalculated - b.paid + b.corrections == b.closing


def test_why_compares_with_last_month_and_last_year(account: Any) -> None:
    b = charges_breakdown(account=account, month=NOV)

    heating, water = b.comparisons
    assert (heating.amount, heating.previous, heating.year_ago) == (
        Decimal("3036.00"),
        Decimal("2300.00"),
        Decimal("2200.00"),
    )
    assert (heating.change_previous, heating.change_year_ago) == (
        Decimal("736.00"),
        Decimal("836.00"),
    )
    assert heating.notes == [
        "Тариф: был 2300 ₽, стал 2530 ₽ за Гкал (+10 %)",
        "Объём: был 1 Гкал, стал 1,2 Гкал",
    ]
    assert (water.previous, water.year_ago, water.change_previous) == (
        Decimal("800.00"),
        None,
        Decimal("-100.00"),
    )
    assert water.notes == [
        "Объём: был 4 м³, стал 3,5 м³",
        "Способ расчёта: был «по счётчику», стал «по среднему»",
    ]


def test_month_without_charges_is_not_found(account: Any) -> None:
    with pytest.raises(NotFound) as exc:
        charges_breakdown(account=account, month=date(2026, 9, 1))

    assert exc.value.code == "period_no_charges"
    assert exc.value.message == "За сентябрь 2026 начислений нет."


def test_history_fills_gaps_and_includes_recalculations(account: Any) -> None:
    history = charges_history(account=account, months=24)

    assert history[0].month == date(2025, 11, 1)
    assert len(history) == 13
    assert [(h.month, h.total) for h in history if h.total] == [
        (date(2025, 11, 1), Decimal("2200.00")),
        (OCT, Decimal("3100.00")),
        (NOV, Decimal("3636.00")),
    ]
    assert history[1].total == Decimal("0.00")


def test_history_is_limited_to_the_last_months(account: Any) -> None:
    history = charges_history(account=account, months=2)

    assert [h.month for h in history] == [OCT, NOV]


def test_charge_months_newest_first(account: Any) -> None:
    assert charge_months(account=account) == [NOV, OCT, date(2025, 11, 1)]


def test_breakdown_is_two_queries(account: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(2):
        charges_breakdown(account=account, month=NOV)


def test_drafts_of_an_open_period_are_not_shown(account: Any) -> None:
    charge(
        account, "heating", date(2026, 12, 1), volume="9", tariff="1", amount="9.00", closed=False
    )

    assert charge_months(account=account)[0] == NOV
    assert charges_history(account=account)[-1].month == NOV
    with pytest.raises(NotFound):
        charges_breakdown(account=account, month=date(2026, 12, 1))


def test_a_service_paid_but_not_charged_in_the_month_is_in_the_balances() -> None:
    acc = make_account()
    charge(acc, "heating", NOV, volume="1", tariff="100", amount="100.00")
    payment(acc, "power", NOV, "50.00")

    b = charges_breakdown(account=acc, month=NOV)

    assert [(s.service, s.paid, s.closing) for s in b.services] == [
        ("Отопление", Decimal("0.00"), Decimal("100.00")),
        ("Электроэнергия", Decimal("50.00"), Decimal("-50.00")),
    ]
    assert b.closing == Decimal("50.00")
