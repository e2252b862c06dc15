"""Fixtures for the identity tests: an isolated SMS outbox, a clean cache, API clients, a clock.

The repo-root conftest (written in parallel) may offer `sms_outbox`; the fixtures here use
their own names so that the two never shadow each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from abonent.core import sms
from abonent.identity.tests.factories import code_in

# A fixed instant (microsecond 0, so no timestamp can look like a 6-digit code).
T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Throttles and cached sessions live in the cache: every test starts with it empty."""
    cache.clear()
    yield
    cache.clear()


class SmsLog:
    """The JSON-lines outbox the embedded SMS backend appends to."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def messages(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def __len__(self) -> int:
        return len(self.messages)

    def to(self, phone: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m["phone"] == phone]

    def last_text(self, phone: str) -> str:
        msgs = self.to(phone)
        assert msgs, f"no SMS was sent to {phone}"
        return msgs[-1]["text"]

    def last_code(self, phone: str) -> str:
        return code_in(self.last_text(phone))


@pytest.fixture(autouse=True)
def sms_log(settings: Any, tmp_path: Path) -> Iterator[SmsLog]:
    """Every test writes its SMS to its own file, never to var/outbox."""
    settings.SMS_BACKEND = "outbox"
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.log"
    sms.get_sms_backend.cache_clear()
    yield SmsLog(tmp_path / "sms.log")
    sms.get_sms_backend.cache_clear()


class Api:
    """A JSON client for /api/v1. Like a real request, each call runs its on-commit work
    (SMS and e-mail jobs, eager in tests) when the view returns."""

    def __init__(self, client: Client, capture: Any) -> None:
        self.client = client
        self.capture = capture
        self.token: str | None = None  # default bearer token, if set

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: str | None = None,
        meta: dict[str, str] | None = None,
    ) -> Any:
        """`meta` sets WSGI environ keys directly, e.g. {"REMOTE_ADDR": "10.1.2.3"}."""
        hdrs = dict(headers or {})
        bearer = token if token is not None else self.token
        if bearer:
            hdrs["Authorization"] = f"Bearer {bearer}"
        kwargs: dict[str, Any] = {"headers": hdrs, **(meta or {})}
        if raw is not None:
            kwargs.update(data=raw, content_type="application/json")
        elif body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        with self.capture(execute=True):
            return getattr(self.client, method)("/api/v1" + path, **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("get", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("post", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("patch", path, body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("delete", path, body, **kw)

    def csrf(self) -> str:
        """The browser's current CSRF token (GET /login/ first to receive one)."""
        return self.client.cookies["csrftoken"].value


@pytest.fixture
def make_api(db: None, django_capture_on_commit_callbacks: Any) -> Any:
    """Independent clients: several devices, another customer, a browser with CSRF checks."""

    def make(*, enforce_csrf_checks: bool = False) -> Api:
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        return Api(client, django_capture_on_commit_callbacks)

    return make


@pytest.fixture
def api(make_api: Any) -> Api:
    return make_api()


@pytest.fixture
def clock(time_machine: Any) -> Any:
    """Time stands still at T0 until the test shifts it (`clock.shift(seconds)`)."""
    time_machine.move_to(T0, tick=False)
    return time_machine
