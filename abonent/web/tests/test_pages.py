"""The web shell: every page in its frame, the PWA files, the branch's phone and time zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from abonent.identity.models import Device, User

pytestmark = pytest.mark.django_db

DEMO_PHONE = "+79000000001"
DEMO_PASSWORD = "demo-pass-2026"


@pytest.fixture
def demo(client: Client) -> User:
    call_command("seed_demo", stdout=StringIO())
    client.post("/login/", {"username": DEMO_PHONE, "password": DEMO_PASSWORD})
    return User.objects.get(phone=DEMO_PHONE)


@pytest.mark.parametrize(
    ("path", "active"),
    [
        ("/", "Счета"),
        ("/meters/", "Счётчики"),
        ("/appeals/", "Обращения"),
        ("/info/", "Информация"),
        ("/profile/", "Профиль"),
    ],
)
def test_each_section_is_in_the_frame_with_its_nav_item_current(
    client: Client, demo: User, path: str, active: str
) -> None:
    html = client.get(path).content.decode()

    for label in ("Счета", "Счётчики", "Обращения", "Информация", "Профиль"):
        assert label in html
    current = html.split('aria-current="page"', 1)[1].split("</a>", 1)[0]
    assert active in current
    assert 'href="/pay/"' in html  # «Оплатить» from every section


@pytest.mark.parametrize("path", ["/", "/meters/", "/appeals/", "/info/", "/pay/", "/profile/"])
def test_sections_need_a_signed_in_customer(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_home_lists_the_linked_accounts(client: Client, demo: User) -> None:
    html = client.get("/").content.decode()

    assert "240100123456" in html
    assert "Мамина квартира" in html
    assert "ул. Карла Маркса" in html


def test_header_shows_the_customers_branch_call_centre(client: Client, demo: User) -> None:
    html = client.get("/").content.decode()

    assert 'href="tel:+73912280000"' in html
    assert "+7 (391) 228-00-00" in html


def test_signed_out_pages_show_the_default_branch_phone(client: Client) -> None:
    call_command("seed_demo", stdout=StringIO())

    html = client.get("/login/").content.decode()

    assert "+7 (391) 228-00-00" in html


def test_times_are_shown_in_the_branch_time_zone(client: Client, demo: User) -> None:
    seen = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    Device.objects.create(
        user=demo,
        kind="app",
        name="Телефон",
        token_hash="x" * 64,
        created_at=seen,
        last_seen_at=seen,
    )

    html = client.get("/profile/").content.decode()

    # 20:30 UTC is 03:30 the next day in Krasnoyarsk (UTC+7), not 23:30 in Moscow.
    assert "24 ноября 2026, 03:30" in html


@pytest.mark.parametrize("path", ["/login/", "/", "/profile/", "/signup/", "/terms/"])
def test_pages_carry_a_strict_content_security_policy(
    client: Client, demo: User, path: str
) -> None:
    response = client.get(path)

    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script>" not in response.content.decode()
    assert 'style="' not in response.content.decode()


@pytest.mark.parametrize("path", ["/terms/", "/privacy/", "/offline/", "/signup/", "/login/"])
def test_public_pages_open_without_signing_in(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert 'lang="ru"' in response.content.decode()


def test_manifest_describes_an_installable_app_with_existing_icons(client: Client) -> None:
    response = client.get("/manifest.webmanifest")

    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["lang"] == "ru"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any("maskable" in icon.get("purpose", "") for icon in manifest["icons"])
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_service_worker_is_served_for_the_whole_site_and_falls_back_offline(
    client: Client,
) -> None:
    response = client.get("/sw.js")

    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    assert "/offline/" in body
    assert "/api/" in body  # the API is never cached


def test_health_answers_after_touching_the_database(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
