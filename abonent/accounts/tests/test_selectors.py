"""The customer's ЛС with balances: exact sums, a fixed number of queries, no foreign ЛС."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from abonent.accounts import selectors
from abonent.accounts.tests.factories import charge, link, make_account, payment
from abonent.core.errors import NotFound

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 1)


def _accounts(user: Any, n: int) -> list[Any]:
    accounts = []
    for i in range(n):
        acc = make_account(
            number=f"24010012345{i}",
            flat=str(10 + i),
            services=("heating", "hot_water", "power")[: i + 1],
        )
        charge(acc, "heating", NOV, volume="1", tariff="1000", amount="1000.00")
        payment(acc, "heating", NOV, "300.00")
        link(user, acc, label=f"Счёт {i}")
        accounts.append(acc)
    return accounts


@pytest.mark.parametrize("n", [1, 3])
def test_summary_takes_two_queries_whatever_the_number(
    customer: Any, django_assert_num_queries: Any, n: int
) -> None:
    _accounts(customer, n)

    with django_assert_num_queries(2):
        summary = selectors.accounts_summary(user=customer, today=NOV)

    assert len(summary) == n
    assert sum(len(a.services) for a in summary) == sum(range(1, n + 1))


def test_summary_balances_and_totals(customer: Any) -> None:
    acc = make_account()
    charge(acc, "heating", NOV, volume="1", tariff="1500", amount="1500.00")
    payment(acc, "hot_water", NOV, "250.50")
    link(customer, acc, label="Дача")

    (summary,) = selectors.accounts_summary(user=customer, today=NOV)

    assert summary.label == "Дача"
    assert summary.title == "Дача"
    assert summary.account_id == acc.pk
    assert summary.branch_name == "Красноярск"
    assert summary.address == "Красноярск, ул. Карла Маркса, д. 7, корп. А, кв. 12"
    assert [(s.name, s.balance, s.is_due, s.is_overpaid) for s in summary.services] == [
        ("Отопление", Decimal("1500.00"), True, False),
        ("Горячая вода", Decimal("-250.50"), False, True),
    ]
    assert summary.total == Decimal("1249.50")


def test_a_service_with_no_entries_shows_zero(customer: Any) -> None:
    link(customer, make_account(services=("heating",)))

    (summary,) = selectors.accounts_summary(user=customer, today=NOV)

    assert [(s.name, s.balance) for s in summary.services] == [("Отопление", Decimal("0.00"))]
    assert summary.total == Decimal("0.00")


def test_summary_lists_only_own_links(customer: Any, other_customer: Any) -> None:
    mine = make_account()
    theirs = make_account(number="240100999999", flat="99")
    link(customer, mine)
    link(other_customer, theirs)

    assert [a.account_id for a in selectors.accounts_summary(user=customer)] == [mine.pk]


def test_detail_of_a_foreign_account_is_not_found(customer: Any, other_customer: Any) -> None:
    theirs = make_account()
    link(other_customer, theirs)

    with pytest.raises(NotFound):
        selectors.account_detail(user=customer, link_or_account_id=theirs.pk)
    with pytest.raises(NotFound):
        selectors.account_charges(user=customer, account_id=theirs.pk, month=None)


def test_account_page_defaults_to_the_latest_month(customer: Any) -> None:
    acc = make_account()
    charge(acc, "heating", date(2026, 10, 1), volume="1", tariff="1000", amount="1000.00")
    charge(acc, "heating", NOV, volume="2", tariff="1000", amount="2000.00")
    link(customer, acc)

    page = selectors.account_page(user=customer, account_id=acc.pk, month=date(2020, 1, 1))

    assert page.month == NOV
    assert page.months == [NOV, date(2026, 10, 1)]
    assert page.breakdown is not None
    assert page.breakdown.charged == Decimal("2000.00")
    assert [h.total for h in page.history] == [Decimal("1000.00"), Decimal("2000.00")]
