"""How the API picks the caller: a bearer token, or the session cookie with CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from abonent.identity.models import User

PASSWORD = "Rivet-Harbor-42"


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user(phone="+79131112233", password=PASSWORD, first_name="Иван")


def test_a_revoked_token_is_not_rescued_by_the_session_cookie(client: Client, user: User) -> None:
    client.post("/login/", {"username": "+79131112233", "password": PASSWORD})
    token = client.post(
        "/api/v1/auth/login",
        {"login": "+79131112233", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    client.post("/api/v1/auth/logout", HTTP_AUTHORIZATION=f"Bearer {token}")

    by_token: Any = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    by_session: Any = client.get("/api/v1/me")

    assert by_token.status_code == 401
    assert by_token.json()["code"] == "not_authenticated"
    assert by_session.status_code == 200


def test_session_calls_that_change_things_need_the_csrf_token(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    csrf = client.cookies["csrftoken"].value
    client.post(
        "/login/", {"username": "+79131112233", "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    )
    csrf = client.cookies["csrftoken"].value
    body = {"first_name": "Пётр"}

    refused = client.patch("/api/v1/me", body, content_type="application/json")
    accepted = client.patch(
        "/api/v1/me", body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Пётр"
