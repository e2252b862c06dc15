"""What the fuzzer found, pinned: each case was a 500 or an answer the schema did not document."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from abonent.appeals.models import Message
from abonent.core.ids import MAX_ID
from abonent.identity.models import User
from abonent.security.tests.world import World


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    return body


@pytest.fixture
def owner(world: World) -> Client:
    return Client(headers=world.owner.auth)


# ---------------------------------------------------------------- bodies that are not objects


@pytest.mark.parametrize("body", ["[null, null]", "5", '"text"', "true", "null"])
def test_a_json_body_that_is_not_an_object_is_refused_and_changes_nothing(
    owner: Client, world: World, body: str
) -> None:
    # given a profile whose fields are all optional in PATCH /me
    before = User.objects.values().get(pk=world.owner.user.pk)

    response = owner.patch("/api/v1/me", body, content_type="application/json")

    _error(response, 400, "bad_request")
    assert User.objects.values().get(pk=world.owner.user.pk) == before


def test_a_malformed_json_body_is_a_documented_400(owner: Client) -> None:
    response = owner.post("/api/v1/payments", b"\x00", content_type="application/json")

    _error(response, 400, "bad_request")


# ---------------------------------------------------------------- ids and pages out of range


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/meters/82275292340536884996583389083341946880/readings",
        "/api/v1/bills/99999999999999999999.pdf",
        "/api/v1/payments/99999999999999999999",
        "/accounts/99999999999999999999/",
        "/appeals/99999999999999999999/",
    ],
)
def test_an_id_too_long_for_a_primary_key_is_a_404_not_a_500(owner: Client, path: str) -> None:
    response = owner.get(path)

    assert response.status_code == 404


def test_an_account_id_past_int64_is_a_422_naming_the_field(owner: Client) -> None:
    response = owner.get(f"/api/v1/accounts/{MAX_ID + 1}")

    body = _error(response, 422, "validation_error")
    assert list(body["fields"]) == ["account_id"]


@pytest.mark.parametrize(
    "query", ["limit=105044675764224655360", "offset=105044675764224655360", "limit=0", "limit=101"]
)
def test_pagination_out_of_range_is_a_422(owner: Client, query: str) -> None:
    response = owner.get(f"/api/v1/cards?{query}")

    _error(response, 422, "validation_error")


def test_a_body_id_past_int64_is_a_422(owner: Client, world: World) -> None:
    response = owner.post(
        "/api/v1/payments",
        {
            "lines": [{"account_id": 2**64, "service_id": 1, "amount": "10.00"}],
            "consent": True,
            "idempotency_key": "key-00000001",
        },
        content_type="application/json",
    )

    body = _error(response, 422, "validation_error")
    assert "lines.0.account_id" in body["fields"]


# ---------------------------------------------------------------- the documented shape


def test_branch_hours_are_hh_mm(owner: Client, world: World) -> None:
    [branch] = owner.get("/api/v1/branches").json()

    assert (branch["hours_open"], branch["hours_close"]) == ("08:00", "20:00")


def test_files_sent_as_text_are_refused_and_nothing_is_written(owner: Client, world: World) -> None:
    appeal_id = world.owner.ids["appeal_id"]
    before = Message.objects.filter(appeal_id=appeal_id).count()

    response = owner.post(
        f"/api/v1/appeals/{appeal_id}/messages", {"body": "Вот фото", "files": "not a file"}
    )

    body = _error(response, 422, "files_not_files")
    assert body["fields"] == {"files": ["Нужен файл, а не текст."]}
    assert Message.objects.filter(appeal_id=appeal_id).count() == before


def test_every_operation_documents_its_errors_in_one_shape(owner: Client) -> None:
    schema = owner.get("/api/v1/openapi.json").json()
    error_ref = {"$ref": "#/components/schemas/Error"}
    missing = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            statuses = set(op["responses"])
            need = set()
            if op.get("requestBody"):
                need |= {"400", "422"}
            if op.get("security"):
                need.add("401")
            if any(p["in"] == "path" for p in op.get("parameters", [])):
                need.add("404")
            if need - statuses:
                missing.append(f"{method.upper()} {path}: {sorted(need - statuses)}")
    assert missing == []
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message", "fields"]
    # a router's own entry is kept; the added ones point at the shared Error schema
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    bills = schema["paths"]["/api/v1/accounts/{account_id}/bills"]["get"]["responses"]
    assert bills["404"]["content"]["application/json"]["schema"] == error_ref


# ---------------------------------------------------------------- found by the fuzzer (CI)


def test_json_true_is_not_an_id(owner: Client, world: World) -> None:
    # lax validation took `true` for the id 1
    appeal_id = world.owner.ids["appeal_id"]

    response = owner.post(
        f"/api/v1/appeals/{appeal_id}/read", {"last_id": True}, content_type="application/json"
    )

    assert list(_error(response, 422, "validation_error")["fields"]) == ["last_id"]


def test_quiet_hours_as_a_list_is_refused_and_changes_nothing(owner: Client) -> None:
    # Ninja's Schema read any object, a list included, as a model with its defaults
    before = owner.get("/api/v1/me/notification-settings").json()

    response = owner.put(
        "/api/v1/me/notification-settings",
        {"quiet_hours": [None, None]},
        content_type="application/json",
    )

    assert list(_error(response, 422, "validation_error")["fields"]) == ["quiet_hours"]
    assert owner.get("/api/v1/me/notification-settings").json() == before


def test_a_nul_character_in_a_json_body_is_a_400_not_a_500(owner: Client) -> None:
    # PostgreSQL text cannot hold NUL: psycopg raised DataError (a 500) on POST /cards
    response = owner.post(
        "/api/v1/cards", '{"title": "a\\u0000b"}', content_type="application/json"
    )

    _error(response, 400, "bad_request")


def test_quiet_hours_enabled_must_be_a_boolean(owner: Client) -> None:
    before = owner.get("/api/v1/me/notification-settings").json()

    response = owner.put(
        "/api/v1/me/notification-settings",
        {"quiet_hours": {"enabled": 0, "start": "22:00", "end": "08:00"}},
        content_type="application/json",
    )

    assert _error(response, 422, "validation_error")["fields"]
    assert owner.get("/api/v1/me/notification-settings").json() == before
