"""End to end through the sandbox acquirer over HTTP: pay, notifications, ledger, cards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from abonent.billing.models import LedgerEntry
from abonent.notices.models import Notification
from abonent.payments.gateways.sandbox.bank.models import BankNotification, BankPayment
from abonent.payments.models import GatewayEvent, Payment, SavedCard
from abonent.payments.tests.conftest import DECLINE, NO_FUNDS, THREE_DS
from abonent.payments.tests.factories import balance, heating, hot_water, owing_accounts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox")]


def _body(first: Any, second: Any, key: str = "key-0000000001", **extra: Any) -> dict[str, Any]:
    return {
        "lines": [
            {"account_id": first.pk, "service_id": heating().pk, "amount": "1500.00"},
            {"account_id": first.pk, "service_id": hot_water().pk, "amount": "320.40"},
            {"account_id": second.pk, "service_id": heating().pk, "amount": "900.00"},
        ],
        "consent": True,
        "idempotency_key": key,
        **extra,
    }


def test_new_card_with_3ds_pays_two_accounts_posts_ledger_and_saves_card(
    customer: Any, api_client: Any, bank: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given two owing ЛС
    first, second = owing_accounts(customer)

    # when the customer pays them with a new card, saving it
    response = api_client.post(
        "/api/v1/payments", _body(first, second, save_card=True), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "pending"
    assert created["amount"] == "2720.40"
    assert "/sandbox-acquirer/pay/" in created["confirmation_url"]
    # ... and goes through the bank's page with the 3-D Secure step
    with django_capture_on_commit_callbacks(execute=True):
        final = bank(created["confirmation_url"], THREE_DS)

    # then the bank sent them back to the result page
    assert final.status_code == 302
    assert final["Location"] == f"http://testserver/pay/result/{created['id']}/"
    # the notification arrived and the payment succeeded, posted per ЛС and service
    payment = Payment.objects.get(pk=created["id"])
    assert payment.status == "succeeded"
    assert balance(first, heating()) == Decimal("0.00")
    assert balance(first, hot_water()) == Decimal("0.00")
    assert balance(second, heating()) == Decimal("0.00")
    assert balance(second, hot_water()) == Decimal("-100.00")
    refs = sorted(
        str(r)
        for r in LedgerEntry.objects.filter(kind="payment").values_list("source_ref", flat=True)
    )
    assert refs == sorted(f"payment:{payment.pk}:{line.pk}" for line in payment.lines.all())
    # the card is saved: token, brand, last four, expiry — no card number anywhere
    card = SavedCard.objects.get(user=customer)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("Visa", "3220", 12, 2030)
    assert card.token.startswith("tok_")
    assert payment.card_id == card.pk
    assert payment.fiscal_receipt_url.endswith(f"/receipt/{payment.gateway_payment_id}/")
    assert GatewayEvent.objects.filter(payment=payment).count() == 1
    assert (
        Notification.objects.filter(user=customer, kind="payment")
        .values_list("title", flat=True)
        .get()
        == "Оплата 2\u202f720,40\u00a0₽ прошла"
    )

    # when they pay again with the saved card (no 3-D Secure the second time)
    first_again = api_client.post(
        "/api/v1/payments",
        {
            "lines": [{"account_id": first.pk, "service_id": heating().pk, "amount": "200"}],
            "consent": True,
            "card_id": card.pk,
            "idempotency_key": "key-0000000002",
        },
        content_type="application/json",
    )

    # then it succeeds at once and the heating of the first ЛС is 200 ahead
    assert first_again.status_code == 201
    assert first_again.json()["status"] == "succeeded"
    assert first_again.json()["confirmation_url"] == ""
    assert balance(first, heating()) == Decimal("-200.00")
    assert BankPayment.objects.filter(status="succeeded").count() == 2


@pytest.mark.parametrize(
    ("number", "reason"), [(DECLINE, "card_declined"), (NO_FUNDS, "insufficient_funds")]
)
def test_declined_card_fails_without_posting(
    customer: Any,
    api_client: Any,
    bank: Any,
    django_capture_on_commit_callbacks: Any,
    number: str,
    reason: str,
) -> None:
    first, second = owing_accounts(customer)
    created = api_client.post(
        "/api/v1/payments", _body(first, second), content_type="application/json"
    ).json()

    with django_capture_on_commit_callbacks(execute=True):
        bank(created["confirmation_url"], number)

    payment = Payment.objects.get(pk=created["id"])
    assert (payment.status, payment.failure_reason) == ("failed", reason)
    assert not LedgerEntry.objects.filter(kind="payment").exists()
    assert balance(first, heating()) == Decimal("1500.00")
    assert BankNotification.objects.filter(delivered_at__isnull=False).count() == 1
    detail = api_client.get(f"/api/v1/payments/{payment.pk}").json()
    assert detail["status"] == "failed"
    assert detail["failure_message"] in (
        "Банк отклонил операцию.",
        "На карте недостаточно средств.",
    )
