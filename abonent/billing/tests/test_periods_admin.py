"""The admin actions «Рассчитать» and «Закрыть период», and the read-only lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from abonent.billing.models import Bill, BillingPeriod, Charge, PeriodStatus
from abonent.billing.tests.factories import heating, make_account, make_branch, price
from abonent.identity.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    user = User.objects.create_user(phone="+79000000099", password="x-Staff-2026")
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_run_and_close_actions(staff_client):
    # given an open period of a branch with one account
    branch = make_branch()
    price(branch, heating(), "2800.0000", norm="0.025000")
    make_account(branch, heating(), area="40.00", number="240100000001")
    period = BillingPeriod.objects.create(branch=branch, month=date(2026, 11, 1))
    url = "/admin/billing/billingperiod/"

    # when «Рассчитать» then «Закрыть период» are applied
    ran = staff_client.post(
        url, {"action": "action_run", "_selected_action": [period.pk]}, follow=True
    )
    closed = staff_client.post(
        url, {"action": "action_close", "_selected_action": [period.pk]}, follow=True
    )

    # then
    assert "строк 1, перерасчётов 0, на 2800.00 ₽" in ran.content.decode()
    assert "закрыт: проводок 1, квитанций 1" in closed.content.decode()
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    assert Charge.objects.get().amount == Decimal("2800.00")
    assert Bill.objects.get().number == "krasnoyarsk-202611-240100000001"
    # and the read-only lists open and search by account number
    for path in ("charge", "bill", "ledgerentry"):
        response = staff_client.get(f"/admin/billing/{path}/?q=240100000001")
        assert response.status_code == 200
        assert "240100000001" in response.content.decode()
    for path in ("/admin/meters/meter/?q=1", "/admin/meters/reading/?q=1"):
        assert staff_client.get(path).status_code == 200
