"""The payments API: bad input refused with nothing changed, permissions, lists, receipts."""

from __future__ import annotations

from typing import Any

import pymupdf
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from abonent.accounts.tests.factories import make_account, make_service
from abonent.billing.models import LedgerEntry
from abonent.core.models import AuditEntry
from abonent.payments.models import Payment, PaymentLine, SavedCard
from abonent.payments.tests.conftest import FakeGateway
from abonent.payments.tests.factories import heating, hot_water, owing_accounts, saved_card

pytestmark = pytest.mark.django_db


def _state() -> tuple[int, int, int, int, int]:
    return (
        Payment.objects.count(),
        PaymentLine.objects.count(),
        LedgerEntry.objects.count(),
        SavedCard.objects.filter(deleted_at__isnull=True).count(),
        AuditEntry.objects.filter(action__startswith="payments.").count(),
    )


def _pay(client: Any, lines: list[dict[str, Any]], **extra: Any) -> Any:
    body = {"lines": lines, "consent": True, "idempotency_key": "bad-input-key-1", **extra}
    return client.post("/api/v1/payments", body, content_type="application/json")


@pytest.fixture
def accounts(customer: Any) -> tuple[Any, Any]:
    return owing_accounts(customer)


@pytest.mark.parametrize(
    ("amount", "status", "code"),
    [
        ("-1.00", 422, "negative_amount"),
        ("0", 422, "zero_total"),
        ("0.00", 422, "zero_total"),
        ("10.005", 422, "invalid_amount"),
        ("300000.01", 422, "amount_too_large"),
        ("abc", 422, "validation_error"),
        ("NaN", 422, "validation_error"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_changes(
    api_client: Any,
    accounts: tuple[Any, Any],
    fake_gateway: FakeGateway,
    amount: str,
    status: int,
    code: str,
) -> None:
    first, _ = accounts
    before = _state()

    response = _pay(
        api_client, [{"account_id": first.pk, "service_id": heating().pk, "amount": amount}]
    )

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert _state() == before
    assert fake_gateway.create_calls == 0


def test_total_over_the_limit_is_refused(
    api_client: Any, accounts: tuple[Any, Any], fake_gateway: FakeGateway
) -> None:
    first, second = accounts
    before = _state()
    lines = [
        {"account_id": first.pk, "service_id": heating().pk, "amount": "300000"},
        {"account_id": first.pk, "service_id": hot_water().pk, "amount": "300000"},
        {"account_id": second.pk, "service_id": heating().pk, "amount": "1"},
    ]

    response = _pay(api_client, lines)

    assert (response.status_code, response.json()["code"]) == (422, "total_too_large")
    assert _state() == before


def test_foreign_account_is_404_and_nothing_changes(
    api_client: Any, accounts: tuple[Any, Any], fake_gateway: FakeGateway
) -> None:
    foreign = make_account(number="240100999999", flat="99")
    before = _state()

    response = _pay(
        api_client, [{"account_id": foreign.pk, "service_id": heating().pk, "amount": "10"}]
    )

    assert (response.status_code, response.json()["code"]) == (404, "account_not_found")
    assert _state() == before


def test_service_not_on_the_account_is_refused(
    api_client: Any, accounts: tuple[Any, Any], fake_gateway: FakeGateway
) -> None:
    first, _ = accounts
    power = make_service("power")
    before = _state()

    response = _pay(api_client, [{"account_id": first.pk, "service_id": power.pk, "amount": "10"}])

    assert (response.status_code, response.json()["code"]) == (422, "service_not_on_account")
    assert response.json()["fields"] == {"lines.0": ["Этой услуги нет на лицевом счёте."]}
    assert _state() == before


def test_no_consent_is_refused(
    api_client: Any, accounts: tuple[Any, Any], fake_gateway: FakeGateway
) -> None:
    first, _ = accounts
    before = _state()

    response = _pay(
        api_client,
        [{"account_id": first.pk, "service_id": heating().pk, "amount": "10"}],
        consent=False,
    )

    assert (response.status_code, response.json()["code"]) == (422, "consent_required")
    assert _state() == before


@pytest.mark.parametrize("whose", ["foreign", "deleted"])
def test_foreign_or_deleted_card_is_404_and_nothing_changes(
    api_client: Any,
    accounts: tuple[Any, Any],
    other_customer: Any,
    fake_gateway: FakeGateway,
    whose: str,
) -> None:
    first, _ = accounts
    card = saved_card(other_customer if whose == "foreign" else api_client.user)
    if whose == "deleted":
        api_client.delete(f"/api/v1/cards/{card.pk}")
    before = _state()

    response = _pay(
        api_client,
        [{"account_id": first.pk, "service_id": heating().pk, "amount": "10"}],
        card_id=card.pk,
    )

    assert (response.status_code, response.json()["code"]) == (404, "card_not_found")
    assert _state() == before
    assert fake_gateway.create_calls == 0


def test_bad_idempotency_key_is_refused(api_client: Any, accounts: tuple[Any, Any]) -> None:
    first, _ = accounts
    response = _pay(
        api_client,
        [{"account_id": first.pk, "service_id": heating().pk, "amount": "10"}],
        idempotency_key="short",
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_idempotency_key")


def test_zero_lines_are_left_out(
    api_client: Any, accounts: tuple[Any, Any], fake_gateway: FakeGateway
) -> None:
    first, second = accounts
    response = _pay(
        api_client,
        [
            {"account_id": first.pk, "service_id": heating().pk, "amount": "0"},
            {"account_id": second.pk, "service_id": heating().pk, "amount": "900.00"},
        ],
    )
    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "900.00"
    assert [(x["account_number"], x["amount"]) for x in body["lines"]] == [
        ("240100000002", "900.00")
    ]


# ---------------------------------------------------------------- permissions


ENDPOINTS = [
    ("get", "/api/v1/cards"),
    ("post", "/api/v1/cards"),
    ("delete", "/api/v1/cards/{card}"),
    ("patch", "/api/v1/cards/{card}"),
    ("get", "/api/v1/payments"),
    ("post", "/api/v1/payments"),
    ("get", "/api/v1/payments/{payment}"),
    ("get", "/api/v1/payments/{payment}/receipt.pdf"),
]


@pytest.fixture
def paid(
    customer: Any, accounts: tuple[Any, Any], fake_gateway: FakeGateway, api_client: Any
) -> Payment:
    first, _ = accounts
    response = _pay(
        api_client, [{"account_id": first.pk, "service_id": heating().pk, "amount": "100"}]
    )
    assert response.json()["status"] == "succeeded"
    return Payment.objects.get(pk=response.json()["id"])


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_gets_401(client: Any, paid: Payment, method: str, path: str) -> None:
    card = saved_card(paid.user, token="tok-perm")
    url = path.format(card=card.pk, payment=paid.pk)
    response = getattr(client, method)(url, {}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if "{" in e[1]])
def test_other_customer_gets_404_and_nothing_changes(
    other_api_client: Any, paid: Payment, method: str, path: str
) -> None:
    card = saved_card(paid.user, token="tok-perm")
    url = path.format(card=card.pk, payment=paid.pk)
    before = _state()

    response = getattr(other_api_client, method)(
        url, {"title": "x"}, content_type="application/json"
    )

    assert response.status_code == 404
    assert _state() == before
    card.refresh_from_db()
    assert (card.title, card.deleted_at) == ("", None)


def test_other_customer_sees_none_of_my_payments_or_cards(
    other_api_client: Any, paid: Payment
) -> None:
    saved_card(paid.user, token="tok-perm")
    assert other_api_client.get("/api/v1/payments").json() == {"items": [], "count": 0}
    assert other_api_client.get("/api/v1/cards").json() == {"items": [], "count": 0}


def test_owner_lists_payments_with_a_fixed_number_of_queries(
    api_client: Any, accounts: tuple[Any, Any], fake_gateway: FakeGateway
) -> None:
    first, second = accounts
    for n in range(3):
        _pay(
            api_client,
            [
                {"account_id": first.pk, "service_id": heating().pk, "amount": "10"},
                {"account_id": second.pk, "service_id": heating().pk, "amount": "20"},
            ],
            idempotency_key=f"list-key-{n:04d}",
        )

    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/v1/payments")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [p["amount"] for p in body["items"]] == ["30.00", "30.00", "30.00"]
    assert body["items"][0]["lines"][1]["account_number"] == "240100000002"
    # device token + count + payments + lines (with account and service), whatever the count
    assert len(queries) == 4, [q["sql"] for q in queries]


def test_owner_gets_the_receipt_pdf(api_client: Any, paid: Payment) -> None:
    response = api_client.get(f"/api/v1/payments/{paid.pk}/receipt.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pymupdf.open(stream=response.content, filetype="pdf")[0].get_text()
    assert f"Квитанция об оплате № {paid.pk}" in text
    assert "240100000001" in text
    assert "Отопление" in text
    assert "100,00" in text
    assert "fake-1" in text


def test_receipt_of_an_unfinished_payment_is_409(
    api_client: Any, accounts: tuple[Any, Any], fake_gateway: FakeGateway
) -> None:
    first, _ = accounts
    fake_gateway.outcome = "pending"
    pid = _pay(
        api_client, [{"account_id": first.pk, "service_id": heating().pk, "amount": "10"}]
    ).json()["id"]

    response = api_client.get(f"/api/v1/payments/{pid}/receipt.pdf")

    assert (response.status_code, response.json()["code"]) == (409, "receipt_not_ready")
