"""Closing a period tells each linked customer about the new bill, once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from abonent.accounts.models import AccountLink
from abonent.billing.models import Bill
from abonent.billing.services import billing_run, period_close
from abonent.billing.tasks import bill_notices
from abonent.billing.tests.factories import NOW, heating, make_account, make_branch, price
from abonent.core.money import format_rub
from abonent.notices.models import Notification

pytestmark = pytest.mark.django_db

OCT = date(2026, 10, 1)


def test_closing_a_period_notifies_every_linked_customer_once(
    customer: Any, other_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given two ЛС; the first linked by two customers, the second by nobody
    branch = make_branch()
    price(branch, heating(), "2800.0000", norm="0.025000")
    shared = make_account(branch, heating(), area="50.00", number="240100000001")
    make_account(branch, heating(), area="40.00", number="240100000002")
    for user in (customer, other_customer):
        AccountLink.objects.create(user=user, account=shared, created_at=NOW)
    period = billing_run(branch=branch, month=OCT, now=NOW).period

    # when October is closed (the fan-out runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        period_close(period=period, now=NOW, actor=None)

    # then each customer of the shared ЛС has one «new bill» notice pointing at its bills
    bill = Bill.objects.get(account=shared)
    notices = Notification.objects.order_by("user_id")
    assert [n.user_id for n in notices] == sorted([customer.pk, other_customer.pk])
    for notice in notices:
        assert notice.kind == "bill"
        assert notice.title == "Новая квитанция за октябрь 2026"
        assert notice.body == f"ЛС 240100000001: к оплате {format_rub(bill.total_due)}."
        assert "," in notice.body  # 1 234,50 ₽, as on the bill
        assert notice.link == f"/accounts/{shared.pk}/bills/"
        assert notice.dedupe_key == f"bill:{bill.pk}"


def test_a_retried_fan_out_notifies_nobody_twice(
    customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    branch = make_branch()
    price(branch, heating(), "2800.0000", norm="0.025000")
    account = make_account(branch, heating(), area="50.00", number="240100000001")
    AccountLink.objects.create(user=customer, account=account, created_at=NOW)
    period = billing_run(branch=branch, month=OCT, now=NOW).period
    with django_capture_on_commit_callbacks(execute=True):
        period_close(period=period, now=NOW, actor=None)

    bill_notices.delay(period.pk)
    bill_notices.delay(period.pk)

    assert Notification.objects.filter(user=customer).count() == 1
