"""Bills list, bill PDF and statement PDF over the API and the web: who may see what."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from abonent.documents.tests import factories as f
from abonent.identity.tests.factories import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(customer: Any) -> Any:
    account = f.make_account()
    f.link(customer, account)
    bill = f.october_bill(account)
    return account, bill


def assert_pdf(response: Any, filename: str, ascii_filename: str) -> None:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"{ascii_filename}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]


# ---------------------------------------------------------------- API: the bills list


def test_bill_list_for_the_owner(api_client: Client, owned: Any) -> None:
    account, bill = owned
    older = f.make_bill(account, month=f.date(2026, 9, 1), opening="0.00", charged="99.50")

    response = api_client.get(f"/api/v1/accounts/{account.pk}/bills")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [bill.pk, older.pk]
    first = body["items"][0]
    assert first["period"] == "2026-10-01"
    assert first["number"] == bill.number
    assert first["total_due"] == "5047.72"
    assert first["pdf_url"] == f"/api/v1/bills/{bill.pk}.pdf"
    assert first["issued_at"].startswith("2026-11-01T02:00:00")


def test_bill_list_of_another_customers_account_is_not_found(
    other_api_client: Client, owned: Any
) -> None:
    account, _bill = owned
    response = other_api_client.get(f"/api/v1/accounts/{account.pk}/bills")
    assert_error(response, 404, "account_not_found")


def test_bill_list_needs_sign_in(owned: Any) -> None:
    account, _bill = owned
    assert_error(Client().get(f"/api/v1/accounts/{account.pk}/bills"), 401, "not_authenticated")


# ---------------------------------------------------------------- API: a bill's PDF


def test_bill_pdf_for_the_owner(api_client: Client, owned: Any) -> None:
    account, bill = owned
    response = api_client.get(f"/api/v1/bills/{bill.pk}.pdf")
    assert_pdf(response, f"ЕПД {account.number} 2026-10.pdf", f"bill-{account.number}-2026-10.pdf")


def test_bill_pdf_over_the_session_cookie(session_client: Client, owned: Any) -> None:
    _account, bill = owned
    response = session_client.get(f"/api/v1/bills/{bill.pk}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_bill_pdf_of_another_customer_is_not_found(other_api_client: Client, owned: Any) -> None:
    _account, bill = owned
    assert_error(other_api_client.get(f"/api/v1/bills/{bill.pk}.pdf"), 404, "bill_not_found")


def test_bill_pdf_that_does_not_exist_is_not_found(api_client: Client, owned: Any) -> None:
    _account, bill = owned
    assert_error(api_client.get(f"/api/v1/bills/{bill.pk + 1000}.pdf"), 404, "bill_not_found")


def test_bill_pdf_needs_sign_in(owned: Any) -> None:
    _account, bill = owned
    assert_error(Client().get(f"/api/v1/bills/{bill.pk}.pdf"), 401, "not_authenticated")


# ---------------------------------------------------------------- API: the statement


def test_statement_for_the_owner(api_client: Client, owned: Any) -> None:
    account, _bill = owned
    response = api_client.get(
        f"/api/v1/accounts/{account.pk}/statement.pdf", {"from": "2026-01", "to": "2026-10"}
    )
    assert_pdf(
        response,
        f"Выписка {account.number} 2026-01 — 2026-10.pdf",
        f"statement-{account.number}-2026-01-2026-10.pdf",
    )


def test_statement_without_dates_covers_the_last_twelve_months(
    api_client: Client, owned: Any
) -> None:
    account, _bill = owned
    response = api_client.get(f"/api/v1/accounts/{account.pk}/statement.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13", "to": "2026-10"}, "from"),
        ({"from": "2026-1", "to": "2026-10"}, "from"),
        ({"from": "2026-01", "to": "октябрь"}, "to"),
        ({"from": "2026-10", "to": "2026-01"}, "from"),
        ({"from": "2020-01", "to": "2026-10"}, "from"),
    ],
)
def test_statement_with_bad_dates_is_422(
    api_client: Client, owned: Any, params: dict[str, str], field: str
) -> None:
    account, _bill = owned
    response = api_client.get(f"/api/v1/accounts/{account.pk}/statement.pdf", params)
    body = assert_error(response, 422, response.json()["code"])
    assert body["code"] in {"invalid_month", "invalid_range"}
    assert list(body["fields"]) == [field]


def test_statement_of_another_customer_is_not_found(other_api_client: Client, owned: Any) -> None:
    account, _bill = owned
    response = other_api_client.get(f"/api/v1/accounts/{account.pk}/statement.pdf")
    assert_error(response, 404, "account_not_found")


def test_statement_needs_sign_in(owned: Any) -> None:
    account, _bill = owned
    response = Client().get(f"/api/v1/accounts/{account.pk}/statement.pdf")
    assert_error(response, 401, "not_authenticated")


# ---------------------------------------------------------------- web pages


def test_web_bill_list_for_the_owner(session_client: Client, owned: Any) -> None:
    account, bill = owned
    response = session_client.get(f"/accounts/{account.pk}/bills/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="/bills/{bill.pk}.pdf"' in page
    assert f'action="/accounts/{account.pk}/statement.pdf"' in page


def test_web_bill_pdf_and_statement_for_the_owner(session_client: Client, owned: Any) -> None:
    account, bill = owned
    assert_pdf(
        session_client.get(f"/bills/{bill.pk}.pdf"),
        f"ЕПД {account.number} 2026-10.pdf",
        f"bill-{account.number}-2026-10.pdf",
    )
    response = session_client.get(
        f"/accounts/{account.pk}/statement.pdf", {"from": "2026-10", "to": "2026-10"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_web_statement_with_bad_dates_goes_back_with_a_message(
    session_client: Client, owned: Any
) -> None:
    account, _bill = owned
    response = session_client.get(
        f"/accounts/{account.pk}/statement.pdf", {"from": "2026-10", "to": "2026-01"}, follow=True
    )
    assert response.redirect_chain == [(f"/accounts/{account.pk}/bills/", 302)]
    assert "Начало периода позже его конца." in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/accounts/{a}/bills/", "/bills/{b}.pdf", "/accounts/{a}/statement.pdf"]
)
def test_web_pages_of_another_customer_are_not_found(
    client: Client, other_customer: Any, owned: Any, path: str
) -> None:
    account, bill = owned
    client.force_login(other_customer)
    assert client.get(path.format(a=account.pk, b=bill.pk)).status_code == 404


@pytest.mark.parametrize(
    "path", ["/accounts/{a}/bills/", "/bills/{b}.pdf", "/accounts/{a}/statement.pdf"]
)
def test_web_pages_send_the_anonymous_to_sign_in(client: Client, owned: Any, path: str) -> None:
    account, bill = owned
    response = client.get(path.format(a=account.pk, b=bill.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_bill_list_query_count_does_not_grow_with_bills(
    api_client: Client, owned: Any, django_assert_num_queries: Any
) -> None:
    account, _bill = owned
    for month in range(1, 10):
        f.make_bill(account, month=f.date(2026, month, 1), opening="0.00", charged="1.00")

    with django_assert_num_queries(3):  # the device token, the linked ЛС, its bills
        response = api_client.get(f"/api/v1/accounts/{account.pk}/bills")

    assert response.json()["count"] == 10


def test_openapi_lists_the_document_paths(api_client: Client) -> None:
    paths = api_client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/accounts/{account_id}/bills" in paths
    assert "application/pdf" in str(paths["/api/v1/bills/{bill_id}.pdf"]["get"]["responses"])
    params = paths["/api/v1/accounts/{account_id}/statement.pdf"]["get"]["parameters"]
    assert {p["name"] for p in params} == {"account_id", "from", "to"}
