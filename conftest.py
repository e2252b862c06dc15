"""Shared test fixtures for every app.

Servers and the browser: tests marked `postgres`, `redis` or `browser` need PostgreSQL
(DATABASE_URL), Redis (REDIS_URL) or Debian's Chromium (CHROMIUM_PATH or
/usr/bin/chromium). Locally a missing one skips those tests with the reason; with
CI=true (as `.ci/run` runs) a missing one fails them, so CI can never go green by
quietly skipping the real infrastructure.

Browser tests run last in a session: Playwright's sync API keeps an asyncio loop marked
as running in the test thread while it is alive, which would break async tests after it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent
ARTIFACTS_DIR = ROOT / "test-artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CUSTOMER_PASSWORD = "correct-horse-2026"  # noqa: S105 (test accounts only)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BROWSER_FIXTURES = {"browser", "page", "browser_context"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


# ---------------------------------------------------------------- markers: skip locally, fail in CI


def _missing_reason(marker: str) -> str | None:
    """Why the server or browser that `marker` needs is not available, or None if it is."""
    from django.conf import settings

    if marker == "postgres":
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine != "django.db.backends.postgresql":
            return (
                f"needs PostgreSQL: the database is {engine.rsplit('.', 1)[-1]}; "
                "set DATABASE_URL=postgres://user:pass@127.0.0.1:5432/abonent"
            )
    elif marker == "redis":
        if not settings.REDIS_URL:
            return "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0"
    elif marker == "browser":
        path = chromium_path()
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"needs Chromium at {path}: `apt-get install chromium` or set CHROMIUM_PATH"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    # Stable partition: everything else first, browser tests last (see the module docstring).
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing_reason(marker)
        if reason is None:
            continue
        if in_ci():
            pytest.fail(f"CI=true but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ---------------------------------------------------------------- state reset between tests


@pytest.fixture(scope="session", autouse=True)
def _sms_outbox_to_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test writes to the developer's var/outbox: SMS go to a session temp file
    (`sms_outbox` gives a test its own file to read)."""
    from django.conf import settings

    settings.SMS_BACKEND = "outbox"
    settings.SMS_OUTBOX_PATH = tmp_path_factory.mktemp("sms") / "sms.log"


@pytest.fixture(autouse=True)
def _reset_shared_state() -> Iterator[None]:
    """A clean cache (throttles and lockouts count there) and a fresh SMS backend per test."""
    from django.core.cache import cache

    from abonent.core.sms import get_sms_backend

    cache.clear()
    get_sms_backend.cache_clear()
    yield
    get_sms_backend.cache_clear()
    _close_connections_of_async_tests()


def _close_connections_of_async_tests() -> None:
    """Async code (Channels' database_sync_to_async) uses the DB from asgiref's one shared
    sync thread; with persistent connections (CONN_MAX_AGE) they stay open there, and
    PostgreSQL then refuses to drop the test database at the end. Close them per test."""
    from asgiref.sync import SyncToAsync
    from django.db import connections

    executor = SyncToAsync.single_thread_executor
    if getattr(executor, "_threads", None):  # only once that thread exists
        executor.submit(connections.close_all).result(timeout=10)


# ---------------------------------------------------------------- outboxes


@dataclass
class SmsOutbox:
    path: Path

    def messages(self) -> list[dict[str, str]]:
        """Every SMS sent during the test, oldest first: {"at", "phone", "text"}."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def to(self, phone: str) -> list[dict[str, str]]:
        return [m for m in self.messages() if m["phone"] == phone]

    def last_code(self, phone: str) -> str:
        """The 6-digit code in the last SMS sent to `phone` (E.164, e.g. "+79131112233")."""
        for message in reversed(self.to(phone)):
            match = re.search(r"(?<!\d)(\d{6})(?!\d)", message["text"])
            if match:
                return match.group(1)
        raise AssertionError(f"no SMS with a code to {phone}; sent: {self.messages()!r}")


@pytest.fixture
def sms_outbox(settings: Any, tmp_path: Path) -> SmsOutbox:
    """SMS written by the outbox backend, read back. Codes go out with
    `transaction.on_commit`: in `db` tests wrap the call in
    `django_capture_on_commit_callbacks(execute=True)`; live-server tests commit for real."""
    from abonent.core.sms import get_sms_backend

    path = tmp_path / "sms.log"
    settings.SMS_BACKEND = "outbox"
    settings.SMS_OUTBOX_PATH = path
    get_sms_backend.cache_clear()
    return SmsOutbox(path)


@dataclass
class MailOutbox:
    outbox: list[Any]

    def to(self, address: str) -> list[Any]:
        address = address.lower()
        return [m for m in self.outbox if address in [a.lower() for a in m.to]]

    def last_code(self, address: str) -> str:
        """The 6-digit code in the last e-mail sent to `address`."""
        for message in reversed(self.to(address)):
            match = re.search(r"(?<!\d)(\d{6})(?!\d)", f"{message.subject}\n{message.body}")
            if match:
                return match.group(1)
        raise AssertionError(f"no e-mail with a code to {address}")


@pytest.fixture
def mail_outbox(mailoutbox: list[Any]) -> MailOutbox:
    """pytest-django's `mailoutbox` with helpers: `.to(address)`, `.last_code(address)`."""
    return MailOutbox(mailoutbox)


@pytest.fixture
def last_email_code(mailoutbox: list[Any]) -> Callable[[str], str]:
    return MailOutbox(mailoutbox).last_code


# ---------------------------------------------------------------- users and clients


@pytest.fixture
def make_customer(db: None) -> Callable[..., Any]:
    """Create a customer: `make_customer(phone="+79131112244", first_name="Пётр")`.
    Everyone's password is `CUSTOMER_PASSWORD` unless given."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()

    def make(
        phone: str | None = "+79131112233", password: str = CUSTOMER_PASSWORD, **extra: Any
    ) -> Any:
        extra.setdefault("first_name", "Иван")
        extra.setdefault("patronymic", "Иванович")
        return user_model.objects.create_user(phone=phone, password=password, **extra)

    return make


@pytest.fixture
def customer(make_customer: Callable[..., Any]) -> Any:
    return make_customer(phone="+79131112233", last_name="Петров")


@pytest.fixture
def other_customer(make_customer: Callable[..., Any]) -> Any:
    return make_customer(
        phone="+79139998877", first_name="Мария", patronymic="Сергеевна", last_name="Смирнова"
    )


def _api_login(user: Any, password: str, client_kind: str, device_name: str) -> Any:
    from django.test import Client

    client = Client()
    response = client.post(
        "/api/v1/auth/login",
        {
            "login": user.phone or user.email,
            "password": password,
            "client": client_kind,
            "device_name": device_name,
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return client, response.json()


@pytest.fixture
def token_client_for(db: None) -> Callable[..., Any]:
    """`token_client_for(user)` → a test Client that sends `Authorization: Bearer <token>`,
    signed in through POST /api/v1/auth/login (so a Device row exists, as in real life).
    The token is on `client.token`."""
    from django.test import Client

    def make(user: Any, password: str = CUSTOMER_PASSWORD, device_name: str = "pytest") -> Any:
        _, body = _api_login(user, password, "app", device_name)
        client = Client(headers={"Authorization": f"Bearer {body['token']}"})
        client.token = body["token"]  # type: ignore[attr-defined]
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def session_client_for(db: None) -> Callable[..., Any]:
    """`session_client_for(user)` → a test Client signed in with a session cookie through
    the API's web sign-in (records a Device like a real browser). For a session without
    a Device row, `client.force_login(user)` is enough."""

    def make(user: Any, password: str = CUSTOMER_PASSWORD, device_name: str = "pytest") -> Any:
        client, _ = _api_login(user, password, "web", device_name)
        client.user = user
        return client

    return make


@pytest.fixture
def api_client(token_client_for: Callable[..., Any], customer: Any) -> Any:
    """The `customer`, signed in by bearer token."""
    return token_client_for(customer)


@pytest.fixture
def other_api_client(token_client_for: Callable[..., Any], other_customer: Any) -> Any:
    """The `other_customer`, signed in by bearer token (for "not yours" tests)."""
    return token_client_for(other_customer)


@pytest.fixture
def session_client(session_client_for: Callable[..., Any], customer: Any) -> Any:
    """The `customer`, signed in by session cookie (web pages and the API's session mode)."""
    return session_client_for(customer)


# ---------------------------------------------------------------- browser (Playwright)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session. Never downloads a browser: it drives the
    system one at CHROMIUM_PATH (default /usr/bin/chromium)."""
    reason = _missing_reason("browser")
    if reason:
        if in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # The sync API runs an event loop in this thread; Django would otherwise refuse
    # ORM calls made by the test itself ("You cannot call this from an async context").
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_context(browser: Any) -> Iterator[Any]:
    """A fresh context per test (no cookies carried over): a phone-sized Russian browser."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ru-RU", timezone_id="Europe/Moscow"
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh context; on failure a screenshot goes to test-artifacts/."""
    page = browser_context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_")[:180]
        path = ARTIFACTS_DIR / f"{name}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"\nscreenshot: {path}")
        except Exception as exc:  # the page may be gone; the test already failed
            print(f"\nscreenshot failed: {exc}")


@pytest.fixture
def live_url(live_server: Any) -> Callable[[str], str]:
    """`live_url("/login/")` → the absolute URL on pytest-django's live server."""

    def url(path: str) -> str:
        return f"{live_server.url}{path}"

    return url


@pytest.fixture
def asgi_url(transactional_db: None) -> Iterator[str]:
    """config.asgi (HTTP + WebSockets) under uvicorn in a thread, on a free loopback port."""
    import asyncio
    import socket
    import threading
    import time

    import uvicorn
    from django.db import connections

    from config.asgi import application

    # The server's request threads come and go: they must not keep persistent connections
    # (PostgreSQL would refuse to drop the test database at the end).
    db_settings = connections.settings["default"]
    max_age = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, lifespan="off", log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    db_settings["CONN_MAX_AGE"] = max_age
