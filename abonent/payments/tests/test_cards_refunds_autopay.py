"""Saved cards (the 10 ₽ check), refunds with ledger corrections, autopay, the daily report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from abonent.billing.models import LedgerEntry
from abonent.notices.models import Notification
from abonent.payments import services
from abonent.payments.gateways.sandbox.bank.models import BankPayment
from abonent.payments.models import AutopayRun, Payment, ReconciliationReport, SavedCard
from abonent.payments.tests.conftest import DECLINE, THREE_DS_ALWAYS, FakeGateway
from abonent.payments.tests.factories import (
    NOW,
    balance,
    heating,
    hot_water,
    owing_accounts,
    payments_posted,
    saved_card,
)

pytestmark = pytest.mark.django_db
SITE = "http://testserver"


# ---------------------------------------------------------------- cards


@pytest.mark.usefixtures("sandbox")
def test_adding_a_card_holds_10_rub_and_releases_it_at_once(
    customer: Any, api_client: Any, bank: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = api_client.post("/api/v1/cards", {}, content_type="application/json")
    assert response.status_code == 201
    check = response.json()
    assert check["status"] == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        final = bank(check["confirmation_url"], "5555 5555 5555 4444")

    assert final["Location"] == f"http://testserver/cards/check/{check['check_id']}/"
    hold = BankPayment.objects.get()
    assert (hold.amount, hold.capture, hold.status) == (Decimal("10.00"), False, "canceled")
    card = SavedCard.objects.get(user=customer)
    assert (card.brand, card.last4) == ("Mastercard", "4444")
    assert Payment.objects.get(pk=check["check_id"]).status == "canceled"
    assert LedgerEntry.objects.filter(kind="payment").count() == 0
    cards = api_client.get("/api/v1/cards").json()
    assert [(c["brand"], c["last4"]) for c in cards["items"]] == [("Mastercard", "4444")]
    assert "number" not in cards["items"][0]
    assert Notification.objects.filter(
        user=customer, title="Карта Mastercard •• 4444 сохранена"
    ).exists()


@pytest.mark.usefixtures("sandbox")
def test_charge_and_refund_mode_refunds_the_10_rub(
    customer: Any,
    api_client: Any,
    bank: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PAYMENTS_CARD_CHECK_MODE = "charge_refund"
    check = api_client.post("/api/v1/cards", {}, content_type="application/json").json()

    with django_capture_on_commit_callbacks(execute=True):
        bank(check["confirmation_url"])

    charged = BankPayment.objects.get()
    assert (charged.status, charged.refunded_amount) == ("succeeded", Decimal("10.00"))
    assert Payment.objects.get(pk=check["check_id"]).status == "refunded"
    assert SavedCard.objects.filter(user=customer).count() == 1


@pytest.mark.usefixtures("sandbox")
def test_declined_card_is_not_saved(
    customer: Any, api_client: Any, bank: Any, django_capture_on_commit_callbacks: Any
) -> None:
    check = api_client.post("/api/v1/cards", {}, content_type="application/json").json()
    with django_capture_on_commit_callbacks(execute=True):
        bank(check["confirmation_url"], DECLINE)

    assert SavedCard.objects.count() == 0
    assert Payment.objects.get(pk=check["check_id"]).status == "failed"


@pytest.mark.usefixtures("sandbox")
def test_saved_card_the_bank_wants_3ds_for_asks_for_confirmation(
    customer: Any, api_client: Any, bank: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first, _ = owing_accounts(customer)
    check = api_client.post("/api/v1/cards", {}, content_type="application/json").json()
    with django_capture_on_commit_callbacks(execute=True):
        bank(check["confirmation_url"], THREE_DS_ALWAYS)
    card = SavedCard.objects.get()

    pay = api_client.post(
        "/api/v1/payments",
        {
            "lines": [{"account_id": first.pk, "service_id": heating().pk, "amount": "1500"}],
            "consent": True,
            "card_id": card.pk,
            "idempotency_key": "saved-3ds-0001",
        },
        content_type="application/json",
    ).json()
    assert pay["status"] == "pending"
    assert "/sandbox-acquirer/3ds/" in pay["confirmation_url"]

    with django_capture_on_commit_callbacks(execute=True):
        bank(pay["confirmation_url"])

    assert Payment.objects.get(pk=pay["id"]).status == "succeeded"
    assert balance(first, heating()) == Decimal("0.00")


def test_rename_and_delete_a_card(customer: Any, api_client: Any) -> None:
    card = saved_card(customer)

    renamed = api_client.patch(
        f"/api/v1/cards/{card.pk}", {"title": "Зарплатная"}, content_type="application/json"
    )
    deleted = api_client.delete(f"/api/v1/cards/{card.pk}")

    assert (renamed.status_code, renamed.json()["title"]) == (200, "Зарплатная")
    assert deleted.status_code == 204
    assert api_client.get("/api/v1/cards").json()["count"] == 0
    assert api_client.delete(f"/api/v1/cards/{card.pk}").status_code == 404


# ---------------------------------------------------------------- refunds


def test_partial_then_full_refund_posts_corrections_once(
    customer: Any, admin_user: Any, fake_gateway: FakeGateway
) -> None:
    first, second = owing_accounts(customer)
    payment = services.payment_start(
        user=customer,
        lines=[
            services.LineInput(first.pk, heating().pk, "1500.00"),
            services.LineInput(second.pk, heating().pk, "900.00"),
        ],
        consent=True,
        card_id=None,
        save_card=False,
        idempotency_key="refund-key-001",
        site_url=SITE,
        now=NOW,
    ).payment

    services.refund_create(
        payment_id=payment.pk, amount="1000.00", actor=admin_user, reason="", now=NOW
    )
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("1000.00"))
    assert balance(first, heating()) == Decimal("1000.00")
    assert balance(second, heating()) == Decimal("0.00")

    services.refund_create(
        payment_id=payment.pk, amount="1400.00", actor=admin_user, reason="", now=NOW
    )
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert balance(first, heating()) == Decimal("1500.00")
    assert balance(second, heating()) == Decimal("900.00")
    assert LedgerEntry.objects.filter(kind="correction").count() == 3
    with pytest.raises(Exception, match="Сумма возврата"):
        services.refund_create(
            payment_id=payment.pk, amount="1", actor=admin_user, reason="", now=NOW
        )


# ---------------------------------------------------------------- autopay


def test_autopay_notifies_the_day_before_pays_up_to_the_cap_and_never_twice(
    customer: Any, fake_gateway: FakeGateway
) -> None:
    first, _ = owing_accounts(customer)
    card = saved_card(customer, token="tok-fake")
    services.autopay_save(
        user=customer, account_id=first.pk, card_id=card.pk, mode="day", day=10,
        cap="1600", enabled=True, now=NOW,
    )  # fmt: skip
    eve = datetime(2026, 12, 9, 5, 0, tzinfo=UTC)  # Krasnoyarsk: 9 December, noon
    day = eve + timedelta(days=1)

    assert services.autopay_notify(now=eve) == 1
    assert services.autopay_notify(now=eve) == 0
    assert Notification.objects.filter(title="Завтра автоплатёж по ЛС 240100000001").count() == 1

    counts = services.autopay_charge(now=day, site_url=SITE)
    again = services.autopay_charge(now=day + timedelta(hours=1), site_url=SITE)

    assert counts["paid"] == 1
    assert again == {"paid": 0, "failed": 0, "nothing_due": 0, "waiting": 0}
    assert balance(first, heating()) == Decimal("0.00")  # 1500 of the 1600 cap
    assert balance(first, hot_water()) == Decimal("220.40")  # the other 100
    assert Payment.objects.get().source == "autopay"
    assert AutopayRun.objects.get().status == "paid"


def test_failed_autopay_is_reported_and_not_retried(
    customer: Any, fake_gateway: FakeGateway
) -> None:
    first, _ = owing_accounts(customer)
    card = saved_card(customer, token="tok-fake")
    services.autopay_save(
        user=customer, account_id=first.pk, card_id=card.pk, mode="day", day=10,
        cap="5000", enabled=True, now=NOW,
    )  # fmt: skip
    fake_gateway.outcome = "canceled"
    day = datetime(2026, 12, 10, 5, 0, tzinfo=UTC)

    first_try = services.autopay_charge(now=day, site_url=SITE)
    fake_gateway.outcome = "succeeded"
    second_try = services.autopay_charge(now=day + timedelta(hours=2), site_url=SITE)

    assert first_try["failed"] == 1
    assert second_try["paid"] == 0
    assert fake_gateway.create_calls == 1
    assert payments_posted() == []
    assert Notification.objects.filter(title="Автоплатёж по ЛС 240100000001 не прошёл").count() == 1


def test_autopay_with_a_foreign_card_is_refused(customer: Any, other_customer: Any) -> None:
    first, _ = owing_accounts(customer)
    card = saved_card(other_customer)
    with pytest.raises(Exception, match="Карта не найдена"):
        services.autopay_save(
            user=customer, account_id=first.pk, card_id=card.pk, mode="day", day=10,
            cap="100", enabled=True, now=NOW,
        )  # fmt: skip


# ---------------------------------------------------------------- the daily report


def test_daily_report_lists_ledger_and_acquirer_mismatches(
    customer: Any, fake_gateway: FakeGateway
) -> None:
    first, second = owing_accounts(customer)
    ok = services.payment_start(
        user=customer, lines=[services.LineInput(first.pk, heating().pk, "100")], consent=True,
        card_id=None, save_card=False, idempotency_key="report-key-01", site_url=SITE, now=NOW,
    ).payment  # fmt: skip
    fake_gateway.outcome = "pending"
    stuck = services.payment_start(
        user=customer, lines=[services.LineInput(second.pk, heating().pk, "50")], consent=True,
        card_id=None, save_card=False, idempotency_key="report-key-02", site_url=SITE, now=NOW,
    ).payment  # fmt: skip
    fake_gateway.set_status(str(stuck.gateway_payment_id), "succeeded")  # webhook never came

    (report,) = services.reconciliation_report_build(day=NOW.date(), now=NOW)

    assert report.checked == 2
    assert [(m["payment"], m["problem"]) for m in report.mismatches] == [
        (stuck.pk, "amount_differs")
    ]
    assert ok.status == "succeeded"
    assert ReconciliationReport.objects.count() == 1
