"""The accounts API: link (with preview), list, detail, rename, unlink, charges; 404 for others."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from abonent.accounts.models import AccountLink
from abonent.accounts.tests.factories import charge, link, make_account, payment

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 1)
NO_MATCH = (
    "Не нашли лицевой счёт с такими данными. "
    "Проверьте номер, фамилию собственника и адрес по квитанции."
)


def body(account: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "branch_id": account.branch_id,
        "number": "240100123456",
        "owner_surname": "иванова",
        "settlement": "Красноярск",
        "street": "ул. Карла Маркса",
        "house": "7 А",
        "flat": "12",
    }
    data.update(changes)
    return data


def test_link_preview_then_link(api_client: Client) -> None:
    account = make_account()

    preview = api_client.post("/api/v1/accounts/link/preview", body(account), "application/json")
    assert preview.status_code == 200
    assert preview.json() == {
        "branch_id": account.branch_id,
        "branch_name": "Красноярск",
        "number": "240100123456",
        "address": "Красноярск, ул. Карла Маркса, д. 7, корп. А, кв. 12",
        "owner": "Иванова А. П.",
        "services": ["Отопление", "Горячая вода"],
    }
    assert AccountLink.objects.count() == 0

    created = api_client.post(
        "/api/v1/accounts/link", {**body(account), "label": "Дача"}, "application/json"
    )

    assert created.status_code == 201
    assert created.json()["id"] == account.pk
    assert created.json()["label"] == "Дача"
    assert created.json()["total"] == "0.00"


def test_link_mismatch_is_422_with_the_generic_message(api_client: Client) -> None:
    account = make_account()

    response = api_client.post(
        "/api/v1/accounts/link", body(account, owner_surname="Петрова"), "application/json"
    )

    assert response.status_code == 422
    assert response.json() == {"code": "account_not_found", "message": NO_MATCH, "fields": {}}
    assert AccountLink.objects.count() == 0


def test_link_twice_is_409(api_client: Client, customer: Any) -> None:
    account = make_account()
    link(customer, account)

    response = api_client.post("/api/v1/accounts/link", body(account), "application/json")

    assert response.status_code == 409
    assert response.json()["code"] == "already_linked"


def test_link_closed_is_409(api_client: Client) -> None:
    account = make_account(status="closed")

    response = api_client.post("/api/v1/accounts/link", body(account), "application/json")

    assert response.status_code == 409
    assert response.json()["code"] == "account_closed"


def test_link_rate_limit_is_429_with_retry_after(api_client: Client) -> None:
    account = make_account()
    for _ in range(10):
        wrong = api_client.post(
            "/api/v1/accounts/link/preview", body(account, flat="1"), "application/json"
        )
        assert wrong.status_code == 422

    response = api_client.post("/api/v1/accounts/link", body(account), "application/json")

    assert response.status_code == 429
    assert response.json()["code"] == "link_attempts_exceeded"
    assert 3500 < int(response["Retry-After"]) <= 3600
    assert AccountLink.objects.count() == 0


def test_link_missing_field_is_422_with_the_field(api_client: Client) -> None:
    account = make_account()
    data = body(account)
    del data["street"]

    response = api_client.post("/api/v1/accounts/link", data, "application/json")

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["street"]


def test_list_shows_balances_as_decimal_strings(api_client: Client, customer: Any) -> None:
    account = make_account()
    charge(account, "heating", NOV, volume="1.5", tariff="2000", amount="3000.00")
    payment(account, "hot_water", NOV, "120.50")
    link(customer, account, label="Дом")

    response = api_client.get("/api/v1/accounts")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    (item,) = response.json()["items"]
    assert item["label"] == "Дом"
    assert item["total"] == "2879.50"
    assert [(s["code"], s["balance"]) for s in item["services"]] == [
        ("heating", "3000.00"),
        ("hot_water", "-120.50"),
    ]


def test_rename_and_unlink(api_client: Client, customer: Any) -> None:
    account = make_account()
    link(customer, account)

    renamed = api_client.patch(
        f"/api/v1/accounts/{account.pk}", {"label": "Дача"}, "application/json"
    )
    assert renamed.status_code == 200
    assert renamed.json()["label"] == "Дача"

    deleted = api_client.delete(f"/api/v1/accounts/{account.pk}")

    assert deleted.status_code == 204
    assert AccountLink.objects.count() == 0


def test_charges_for_a_period(api_client: Client, customer: Any) -> None:
    account = make_account()
    charge(account, "heating", NOV, volume="1.2", tariff="2530", amount="3036.00")
    link(customer, account)

    response = api_client.get(f"/api/v1/accounts/{account.pk}/charges?period=2026-11")

    assert response.status_code == 200
    data = response.json()
    assert data["period"] == "2026-11"
    assert data["lines"] == [
        {
            "service_id": data["lines"][0]["service_id"],
            "service": "Отопление",
            "for_month": "2026-11-01",
            "volume": "1.200000",
            "unit": "Гкал",
            "tariff": "2530.0000",
            "method": "meter",
            "method_label": "по счётчику",
            "amount": "3036.00",
            "is_recalculation": False,
            "reason": "",
        }
    ]
    assert data["closing"] == "3036.00"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [("?period=2026-09", 404, "period_no_charges"), ("?period=2026-13", 422, "invalid_period")],
)
def test_charges_bad_period(
    api_client: Client, customer: Any, query: str, status: int, code: str
) -> None:
    account = make_account()
    charge(account, "heating", NOV, volume="1", tariff="1", amount="1.00")
    link(customer, account)

    response = api_client.get(f"/api/v1/accounts/{account.pk}/charges{query}")

    assert response.status_code == status
    assert response.json()["code"] == code


ENDPOINTS = [
    ("get", "/api/v1/accounts/{id}", None),
    ("patch", "/api/v1/accounts/{id}", {"label": "Моё"}),
    ("delete", "/api/v1/accounts/{id}", None),
    ("get", "/api/v1/accounts/{id}/charges?period=2026-11", None),
]


@pytest.mark.parametrize(("method", "path", "data"), ENDPOINTS)
def test_permission_matrix(
    client: Client,
    api_client: Client,
    other_api_client: Client,
    customer: Any,
    method: str,
    path: str,
    data: Any,
) -> None:
    account = make_account()
    charge(account, "heating", NOV, volume="1", tariff="1", amount="1.00")
    link(customer, account, label="Моя")
    url = path.format(id=account.pk)

    def call(c: Client) -> Any:
        if data is None:
            return getattr(c, method)(url)
        return getattr(c, method)(url, data, "application/json")

    anonymous = call(client)
    foreign = call(other_api_client)
    unknown = api_client.get(path.format(id=account.pk + 1000))

    assert anonymous.status_code == 401
    assert foreign.status_code == 404
    assert foreign.json() == {
        "code": "account_not_found",
        "message": "Лицевой счёт не найден.",
        "fields": {},
    }
    assert unknown.status_code == 404
    assert AccountLink.objects.get().label == "Моя"  # nothing changed by strangers
    assert call(api_client).status_code in (200, 204)


def test_list_needs_sign_in(client: Client) -> None:
    assert client.get("/api/v1/accounts").status_code == 401
    assert client.post("/api/v1/accounts/link", {}, "application/json").status_code == 401


def test_session_client_works_too(session_client: Client, customer: Any) -> None:
    link(customer, make_account())

    response = session_client.get("/api/v1/accounts")

    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


def test_openapi_documents_the_paths(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    for path in (
        "/api/v1/accounts",
        "/api/v1/accounts/link",
        "/api/v1/accounts/link/preview",
        "/api/v1/accounts/{account_id}",
        "/api/v1/accounts/{account_id}/charges",
    ):
        assert path in paths
    assert set(paths["/api/v1/accounts/{account_id}"]) == {"get", "patch", "delete"}


def test_list_costs_the_same_queries_for_one_and_three_accounts(
    api_client: Client, customer: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api_client.get("/api/v1/accounts").status_code == 200
        return len(captured)

    first = make_account()
    charge(first, "heating", NOV, volume="1.5", tariff="2000", amount="3000.00")
    link(customer, first)
    one = queries()
    for n in (2, 3):
        other = make_account(number=f"24010012345{n}", flat=str(n))
        charge(other, "heating", NOV, volume="1", tariff="2000", amount="2000.00")
        payment(other, "hot_water", NOV, "10.00")
        link(customer, other)

    # the device token check, the session and the 3 of the summary: at most 5, always
    assert queries() == one <= 5
