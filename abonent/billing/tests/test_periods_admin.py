"""The admin actions «Рассчитать» and «Закрыть период», and the read-only lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from abonent.billing.models import Bill, BillingPeriod, Charge, PeriodStatus
from abonent.billing.tests.factories import NOW, heating, make_account, make_branch, price
from abonent.core.models import AuditEntry
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


def test_run_and_close_actions(staff_client, django_capture_on_commit_callbacks):
    # given an open period of a branch with one account
    branch = make_branch()
    price(branch, heating(), "2800.0000", norm="0.025000")
    make_account(branch, heating(), area="40.00", number="240100000001")
    period = BillingPeriod.objects.create(branch=branch, month=date(2026, 11, 1))
    url = "/admin/billing/billingperiod/"

    # when «Рассчитать» then «Закрыть период» are applied
    with django_capture_on_commit_callbacks(execute=True) as jobs:
        ran = staff_client.post(
            url, {"action": "action_run", "_selected_action": [period.pk]}, follow=True
        )
    closed = staff_client.post(
        url, {"action": "action_close", "_selected_action": [period.pk]}, follow=True
    )

    # then
    # (the run is queued as a job after the request commits; jobs run eagerly in tests)
    assert len(jobs) == 1
    assert "расчёт запущен. Ход расчёта — в колонке «готово»." in ran.content.decode()
    audit = AuditEntry.objects.get(action="billing.run")
    assert (audit.actor.phone, audit.data["lines"]) == ("+79000000099", 1)
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


def test_run_action_refuses_a_closed_period_without_queueing(
    staff_client, django_capture_on_commit_callbacks
):
    # given a closed period
    branch = make_branch()
    period = BillingPeriod.objects.create(
        branch=branch, month=date(2026, 10, 1), status=PeriodStatus.CLOSED, closed_at=NOW
    )

    # when «Рассчитать» is applied
    with django_capture_on_commit_callbacks(execute=True) as jobs:
        response = staff_client.post(
            "/admin/billing/billingperiod/",
            {"action": "action_run", "_selected_action": [period.pk]},
            follow=True,
        )

    # then the message says why, and no job was queued
    assert "Период 10.2026 закрыт" in response.content.decode()
    assert jobs == []
