"""The API speaks UTF-8 JSON without \\u escapes, and every error has one shape."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from abonent.api import ORJSONRenderer


@pytest.mark.django_db
def test_cyrillic_is_sent_as_utf8_not_escaped(client: Client) -> None:
    response = client.post("/api/v1/auth/login", "{}", content_type="application/json")

    assert response["Content-Type"].startswith("application/json")
    assert "Проверьте".encode() in response.content
    assert b"\\u" not in response.content


def test_decimals_render_as_strings_with_kopecks() -> None:
    rendered = ORJSONRenderer().render(None, {"sum": Decimal("1234.50")}, response_status=200)  # type: ignore[arg-type]

    assert rendered == b'{"sum":"1234.50"}'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/no-such-thing", 404, "not_found"),
        ("get", "/api/v1/auth/login", 405, "method_not_allowed"),
        ("get", "/api/v1/me", 401, "not_authenticated"),
    ],
)
def test_errors_have_one_shape(
    client: Client, method: str, path: str, status: int, code: str
) -> None:
    response = getattr(client, method)(path)

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code


def test_openapi_schema_is_published(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()

    for path in ("/api/v1/auth/register", "/api/v1/auth/pin/login", "/api/v1/me/password"):
        assert path in schema["paths"]


@pytest.mark.django_db
def test_api_docs_load_swagger_from_our_own_static_files(client: Client) -> None:
    html = client.get("/api/v1/docs").content.decode()

    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "https://" not in html  # no CDN: the CSP allows only 'self', and clients may be offline
