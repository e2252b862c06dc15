"""Security posture: headers on every kind of page, cookies and HSTS as production sets them,
session rotation on sign-in and on a password change, no secrets in the repository, and
`manage.py check --deploy` (kept in abonent/core/tests/test_infra.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from abonent.core.tests.test_infra import PRODUCTION_ENV
from abonent.security.tests.world import PASSWORD, World

ROOT = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------- headers on every page type


def _csp(response: Any) -> dict[str, list[str]]:
    value = response.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _page_types(world: World) -> dict[str, tuple[Client, str]]:
    anonymous = Client()
    owner = Client()
    owner.force_login(world.owner.user)
    operator = Client()
    operator.force_login(world.operator)
    admin = Client()
    api = Client(headers=world.owner.auth)
    ids = world.owner.ids
    return {
        "sign-in page": (anonymous, "/login/"),
        "sign-up form": (anonymous, "/signup/"),
        "public page": (anonymous, "/privacy/"),
        "redirect to sign-in": (anonymous, "/accounts/"),
        "cabinet page": (owner, "/"),
        "object page": (owner, f"/accounts/{ids['account_id']}/"),
        "htmx fragment": (owner, f"/cards/check/{ids['card_check_id']}/"),
        "not found": (owner, "/no-such-page/"),
        "bill PDF": (owner, f"/bills/{ids['bill_id']}.pdf"),
        "attachment": (owner, f"/api/v1/attachments/{ids['attachment_id']}"),
        "operator console": (operator, "/operator/"),
        "admin sign-in": (admin, "/admin/login/"),
        "API JSON": (api, "/api/v1/me"),
        "API error": (anonymous, "/api/v1/me"),
        "API docs": (anonymous, "/api/v1/docs"),
        "OpenAPI schema": (anonymous, "/api/v1/openapi.json"),
        "PWA manifest": (anonymous, "/manifest.webmanifest"),
        "service worker": (anonymous, "/sw.js"),
        "health check": (anonymous, "/healthz"),
        "readiness check": (anonymous, "/readyz"),
        "static file": (anonymous, "/static/web/css/app.css"),
    }


def test_every_page_type_carries_the_security_headers(world: World) -> None:
    problems: dict[str, list[str]] = {}
    for name, (client, path) in _page_types(world).items():
        headers = {"HX-Request": "true"} if name == "htmx fragment" else {}
        response = client.get(path, headers=headers)
        found = []
        if response.status_code >= 500:
            found.append(f"status {response.status_code}")
        if response.get("X-Content-Type-Options") != "nosniff":
            found.append("nosniff")
        if response.get("Referrer-Policy") != "same-origin":
            found.append("Referrer-Policy")
        if "camera=()" not in response.get("Permissions-Policy", ""):
            found.append("Permissions-Policy")
        if name != "static file":  # documents only: a CSS file is never framed or run
            csp = _csp(response)
            if response.get("X-Frame-Options") != "DENY":
                found.append("X-Frame-Options")
            if csp.get("frame-ancestors") != ["'none'"]:
                found.append("frame-ancestors")
            if not csp.get("default-src") and not csp.get("script-src"):
                found.append("CSP")
            scripts = csp.get("script-src") or csp.get("default-src") or []
            if {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(scripts):
                found.append(f"script-src {scripts}")
            if csp.get("object-src", ["'none'"]) != ["'none'"] and "sandbox" not in csp:
                found.append("object-src")
        if found:
            problems[f"{name} {path}"] = found
    assert problems == {}


def test_downloads_are_attachments_with_their_own_sandbox(world: World) -> None:
    client = Client(headers=world.owner.auth)

    response = client.get(f"/api/v1/attachments/{world.owner.ids['attachment_id']}")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert _csp(response) == {
        "default-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "sandbox": [],
    }
    assert response["Cache-Control"] == "private, no-store"


def test_no_inline_scripts_or_styles_in_the_pages(world: World) -> None:
    """CSP forbids inline code; a page that had some would break in the browser, silently."""
    offenders = []
    for name, (client, path) in _page_types(world).items():
        response = client.get(path)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = response.content.decode()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html):
            offenders.append(f"{name}: inline <script>")
        if re.search(r"<style\b", html) or re.search(r'\sstyle="', html):
            offenders.append(f"{name}: inline style")
        if re.search(r"\son[a-z]+=\"", html):
            offenders.append(f"{name}: inline event handler")
    # Django's admin and Ninja's Swagger page are third-party: their CSP is the same strict one.
    assert [o for o in offenders if not o.startswith(("admin", "API docs"))] == []


# ---------------------------------------------------------------- production settings


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="abonent.example.ru")
plain = client.get("/api/v1/openapi.json")
secure = client.get("/api/v1/openapi.json", secure=True)
print(json.dumps({
    "redirect": [plain.status_code, plain.get("Location", "")],
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csp": secure.get("Content-Security-Policy", ""),
    "cookies": {
        name: getattr(settings, name)
        for name in (
            "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
            "SESSION_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_NAME",
            "CSRF_COOKIE_SAMESITE",
        )
    },
    "debug": settings.DEBUG,
}))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a production process answers and sets, from a real `DJANGO_ENV=production` run
    (its own throw-away SQLite file: the probe touches no database)."""
    db = tmp_path_factory.mktemp("prod") / "db.sqlite3"
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "REDIS_URL": "",
    }
    env.pop("ABONENT_TESTING", None)
    result = subprocess.run(  # noqa: S603 — our own interpreter and a fixed script
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_to_https_and_sends_hsts(production: dict[str, Any]) -> None:
    assert production["redirect"] == [301, "https://abonent.example.ru/api/v1/openapi.json"]
    assert production["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert production["debug"] is False
    assert "ws:" not in production["csp"]  # only wss: in production


def test_production_cookies_are_secure_http_only_and_prefixed(production: dict[str, Any]) -> None:
    assert production["cookies"] == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "__Secure-sessionid",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_NAME": "__Secure-csrftoken",
        "CSRF_COOKIE_SAMESITE": "Lax",
    }


def test_the_session_cookie_a_production_sign_in_sets(
    production: dict[str, Any], world: World, settings: Any
) -> None:
    # given the cookie settings production runs with
    for name, value in production["cookies"].items():
        setattr(settings, name, value)
    client = Client()

    # when the customer signs in on the web over HTTPS
    response = client.post(
        "/login/", {"username": world.owner.user.phone, "password": PASSWORD}, secure=True
    )

    # then the session cookie is Secure, HttpOnly and SameSite=Lax, under the __Secure- name
    assert response.status_code == 302
    cookie = response.cookies["__Secure-sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


# ---------------------------------------------------------------- session rotation


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_signing_in_rotates_the_session_key(world: World) -> None:
    # given a visitor with a session already (an attacker may have planted its key)
    client = Client()
    session = client.session
    session["planted"] = "yes"
    session.save()
    before = _session_key(client)

    # when they sign in on the web
    response = client.post("/login/", {"username": world.owner.user.phone, "password": PASSWORD})

    # then the signed-in session has a new key and the old one is gone
    assert response.status_code == 302
    assert _session_key(client) != before
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=before).exists()


def test_signing_in_through_the_api_rotates_the_session_key(world: World) -> None:
    client = Client()
    session = client.session
    session.save()
    before = _session_key(client)

    response = client.post(
        "/api/v1/auth/login",
        {"login": world.owner.user.phone, "password": PASSWORD, "client": "web"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert _session_key(client) != before


def test_changing_the_password_rotates_the_session_key_and_keeps_it_signed_in(
    world: World,
) -> None:
    # given the owner signed in on the web
    client = Client()
    client.post("/login/", {"username": world.owner.user.phone, "password": PASSWORD})
    before = _session_key(client)

    # when they change the password
    response = client.post(
        "/profile/password/",
        {
            "current_password": PASSWORD,
            "new_password": "another-horse-2027",
            "new_password_confirm": "another-horse-2027",
        },
    )

    # then the session has a new key and still works; the old key is dead
    assert response.status_code == 302, response.content[:500]
    assert _session_key(client) != before
    assert client.get("/profile/").status_code == 200
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = before
    assert stale.get("/profile/").status_code == 302


# ---------------------------------------------------------------- no secrets in the repository


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "YooKassa live key": re.compile(r"\blive_[A-Za-z0-9_-]{20,}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "generic assignment": re.compile(
        r"""(?i)\b(?:secret_key|api_key|token|password)\s*=\s*["'][A-Za-z0-9+/_-]{32,}["']"""
    ),
}


def test_no_secrets_in_the_repository() -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    found = []
    for name in filter(None, files):
        path = ROOT / name.decode()
        if path.suffix in {".png", ".jpg", ".ico", ".woff2", ".pdf", ".lock"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        for kind, pattern in SECRET_PATTERNS.items():
            if pattern.search(text):
                found.append(f"{name.decode()}: {kind}")
    assert found == []
    assert not (ROOT / ".env").exists() or ".env" in (ROOT / ".gitignore").read_text()


def test_settings_take_secrets_from_the_environment_in_production() -> None:
    source = (ROOT / "config" / "settings.py").read_text()
    assert 'SECRET_KEY = env.str("DJANGO_SECRET_KEY")' in source  # no default in production
    assert 'YOOKASSA_SECRET_KEY = env.str("YOOKASSA_SECRET_KEY", default="")' in source
