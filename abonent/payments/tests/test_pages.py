"""Web pages: «Оплата», result, history, receipt, cards, autopay — access and the form."""

from __future__ import annotations

from typing import Any

import pytest

from abonent.billing.models import LedgerEntry
from abonent.payments.models import Payment, SavedCard
from abonent.payments.tests.conftest import FakeGateway
from abonent.payments.tests.factories import heating, hot_water, owing_accounts, saved_card

pytestmark = pytest.mark.django_db

PAGES = [
    "/pay/",
    "/payments/",
    "/cards/",
    "/autopay/",
    "/payments/{p}/",
    "/payments/{p}/receipt.pdf",
]


@pytest.fixture
def paid(customer: Any, fake_gateway: FakeGateway, session_client: Any) -> Payment:
    first, _ = owing_accounts(customer)
    card = saved_card(customer, token="tok-fake")
    response = session_client.post(
        "/pay/",
        {
            f"include_{first.pk}": "1",
            f"amount_{first.pk}_{heating().pk}": "1 500,00",
            f"amount_{first.pk}_{hot_water().pk}": "0",
            "method": str(card.pk),
            "consent": "1",
            "idempotency_key": "web-key-000001",
        },
    )
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/pay/result/{payment.pk}/"
    return payment


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_is_sent_to_sign_in(client: Any, paid: Payment, path: str) -> None:
    response = client.get(path.format(p=paid.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", [p for p in PAGES if "{p}" in p])
def test_other_customer_gets_404(
    paid: Payment, other_customer: Any, session_client_for: Any, path: str
) -> None:
    response = session_client_for(other_customer).get(path.format(p=paid.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_owner_sees_the_pages(session_client: Any, paid: Payment, path: str) -> None:
    response = session_client.get(path.format(p=paid.pk))
    assert response.status_code == 200


def test_pay_page_prefills_dues_and_zero_for_overpaid(session_client: Any, customer: Any) -> None:
    first, second = owing_accounts(customer)

    html = session_client.get("/pay/").content.decode()

    assert f'name="amount_{first.pk}_{heating().pk}" value="1500,00"' in html
    assert f'name="amount_{first.pk}_{hot_water().pk}" value="320,40"' in html
    assert f'name="amount_{second.pk}_{hot_water().pk}" value="0,00"' in html
    assert "Итого к оплате" in html
    assert "<script>" not in html
    assert 'href="/pay/rules/"' in html


def test_pay_form_without_consent_shows_the_error_and_changes_nothing(
    session_client: Any, customer: Any, fake_gateway: FakeGateway
) -> None:
    first, _ = owing_accounts(customer)

    response = session_client.post(
        "/pay/",
        {
            f"include_{first.pk}": "1",
            f"amount_{first.pk}_{heating().pk}": "100",
            "method": "new",
            "idempotency_key": "web-key-000002",
        },
    )

    assert response.status_code == 422
    assert "Подтвердите согласие с правилами оплаты." in response.content.decode()
    assert Payment.objects.count() == 0


def test_pay_form_with_three_decimals_marks_the_line(
    session_client: Any, customer: Any, fake_gateway: FakeGateway
) -> None:
    first, _ = owing_accounts(customer)
    field = f"amount_{first.pk}_{heating().pk}"

    response = session_client.post(
        "/pay/",
        {f"include_{first.pk}": "1", field: "10,005", "method": "new", "consent": "1",
         "idempotency_key": "web-key-000003"},
    )  # fmt: skip

    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="{field}_error"' in html
    assert "В сумме не больше двух знаков после запятой." in html
    assert Payment.objects.count() == 0
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_new_card_goes_to_the_bank_page(
    session_client: Any, customer: Any, fake_gateway: FakeGateway
) -> None:
    first, _ = owing_accounts(customer)
    fake_gateway.outcome = "pending"

    response = session_client.post(
        "/pay/",
        {f"include_{first.pk}": "1", f"amount_{first.pk}_{heating().pk}": "100", "method": "new",
         "save_card": "1", "consent": "1", "idempotency_key": "web-key-000004"},
    )  # fmt: skip

    assert response.status_code == 302
    assert response["Location"] == "https://bank.example/pay/fake-1"
    assert Payment.objects.get().save_card is True


def test_card_delete_page(session_client: Any, customer: Any) -> None:
    card = saved_card(customer)
    response = session_client.post(f"/cards/{card.pk}/delete/")
    assert response.status_code == 302
    assert SavedCard.objects.get().deleted_at is not None
