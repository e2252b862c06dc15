"""The error contract of the identity API: {code, message, fields}, Russian, 4xx; rate limits."""

from __future__ import annotations

import pytest

from abonent.identity.tests.factories import CYRILLIC, UserFactory, assert_error, open_app

pytestmark = pytest.mark.django_db

UUID = "1f0c1a8e-2b7e-4c55-9d51-6a4f4e0b9c11"


@pytest.fixture
def token(db):
    user = UserFactory(phone="+79131112233")
    return open_app(user)[1]


@pytest.mark.parametrize(
    ("method", "path", "body", "signed_in", "status"),
    [
        ("post", "/auth/register", {}, False, 422),
        ("post", "/auth/register/confirm", {"request_id": UUID, "code": "123456"}, False, 404),
        ("post", "/auth/code/resend", {"request_id": UUID}, False, 404),
        ("post", "/auth/login", {"login": "+79131112233", "password": "x"}, False, 422),
        ("post", "/auth/logout", None, False, 401),
        ("post", "/auth/password/reset", {"login": "x"}, False, 422),
        ("post", "/auth/password/reset/confirm", {"request_id": UUID}, False, 422),
        ("post", "/auth/pin", {"pin": "1"}, True, 422),
        ("post", "/auth/pin/login", {"token": "x", "pin": "2580"}, False, 401),
        ("delete", "/auth/pin", None, False, 401),
        ("get", "/auth/devices", None, False, 401),
        ("delete", "/auth/devices/999999", None, True, 404),
        ("delete", "/auth/devices/abc", None, True, 422),
        ("get", "/me", None, False, 401),
        ("patch", "/me", {"first_name": "1"}, True, 422),
        ("post", "/me/contact/confirm", {"request_id": UUID, "code": "1"}, True, 404),
        ("post", "/me/password", {"current_password": "x"}, True, 422),
        ("delete", "/me", {"password": "x"}, True, 422),
    ],
)
def test_every_error_is_code_message_fields_in_russian(
    api, token, method, path, body, signed_in, status
):
    response = api.request(method, path, body, token=token if signed_in else None)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"code", "message", "fields"}
    assert isinstance(payload["code"], str)
    assert payload["code"]
    assert CYRILLIC.search(payload["message"])
    assert isinstance(payload["fields"], dict)


def test_a_bad_path_parameter_names_the_parameter(api, token):
    response = api.delete("/auth/devices/abc", token=token)

    assert_error(response, 422, "validation_error", {"device_id": ["Неверное значение."]})


def test_too_long_a_value_is_explained(api):
    response = api.post("/auth/password/reset", {"login": "9" * 300})

    body = assert_error(response, 422, "validation_error")
    assert list(body["fields"].values()) == [["Слишком длинное значение."]]


def test_a_wrong_method_is_a_json_error_too(api):
    response = api.get("/auth/login")

    assert_error(response, 405, "method_not_allowed", {})


# ---------------------------------------------------------------- the per-IP rate limit


def test_the_sign_in_endpoints_are_rate_limited_per_ip(api):
    # given 30 attempts within a minute from one address
    for _ in range(30):
        response = api.post("/auth/pin/login", {"token": "x", "pin": "2580"})
        assert response.status_code == 401

    # when the 31st comes
    response = api.post("/auth/pin/login", {"token": "x", "pin": "2580"})

    # then
    body = assert_error(response, 429, "too_many_requests", {})
    assert body["message"] == "Слишком много запросов. Попробуйте позже."
    assert response["Retry-After"] == "60"


def test_the_rate_limit_is_per_address(api, make_api):
    for _ in range(31):
        api.post("/auth/pin/login", {"token": "x", "pin": "2580"})
    elsewhere = make_api()

    response = elsewhere.post(
        "/auth/pin/login", {"token": "x", "pin": "2580"}, meta={"REMOTE_ADDR": "10.1.2.3"}
    )

    assert response.status_code == 401


def test_a_forged_forwarded_for_header_does_not_escape_the_rate_limit(api):
    for n in range(30):
        api.post(
            "/auth/pin/login",
            {"token": "x", "pin": "2580"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )

    response = api.post(
        "/auth/pin/login", {"token": "x", "pin": "2580"}, headers={"X-Forwarded-For": "203.0.113.7"}
    )

    assert_error(response, 429, "too_many_requests")
