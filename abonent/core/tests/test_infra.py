"""The infrastructure is real: PostgreSQL, Redis (cache, channel layer, Celery broker), the
ASGI WebSocket stack, Chromium against the live server, production checks, migrations.

Tests marked `postgres`, `redis` or `browser` skip locally without the server or browser and
fail under CI=true (see the repo-root conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from abonent.core.tests.websocket import WebsocketCommunicator
from abonent.identity.models import Device, DeviceKind
from abonent.web.consumers import UserEventsConsumer, user_group
from config.asgi import application

ROOT = Path(__file__).resolve().parents[3]
ORIGIN = (b"origin", b"http://testserver")


# ---------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_is_postgresql_and_answers() -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1, current_database(), current_setting('server_version_num')::int")
        one, database, version = cursor.fetchone()
    assert one == 1
    assert database.startswith("test_")  # pytest-django's own database, not the real one
    assert version >= 150000


# ---------------------------------------------------------------- Redis


@pytest.mark.redis
def test_cache_round_trips_through_redis() -> None:
    import redis
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"] == "abonent.core.cache.ResilientRedisCache"
    cache.set("infra-probe", {"value": "тепло"}, timeout=30)

    assert cache.get("infra-probe") == {"value": "тепло"}
    raw = redis.Redis.from_url(settings.REDIS_URL)
    assert raw.keys("abonent:*infra-probe") != []  # it is in Redis, not in this process
    cache.delete("infra-probe")
    assert cache.get("infra-probe") is None


@pytest.mark.redis
def test_channel_layer_delivers_a_group_message_through_redis() -> None:
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"

    async def round_trip() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.group_add("infra.probe", channel)
        await layer.group_send("infra.probe", {"type": "probe.message", "n": 42})
        message = await asyncio.wait_for(layer.receive(channel), timeout=5)
        await layer.group_discard("infra.probe", channel)
        return message

    assert async_to_sync(round_trip)() == {"type": "probe.message", "n": 42}


@pytest.mark.redis
def test_celery_broker_is_redis_and_reachable() -> None:
    from config.celery import app

    assert app.conf.broker_url == settings.REDIS_URL
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.transport.driver_type == "redis"
        assert conn.connected


def test_tasks_run_eagerly_under_tests() -> None:
    from abonent.core.tasks import sms_send

    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    result = sms_send.delay("+79131112233", "Код: 123456")
    assert result.successful()
    assert result.get().startswith("outbox-")


# ---------------------------------------------------------------- ASGI / WebSocket


@pytest.fixture
def session_cookie(customer: Any) -> bytes:
    client = Client()
    client.force_login(customer, backend="abonent.identity.backends.LoginBackend")
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


@pytest.mark.django_db(transaction=True)
async def test_websocket_refuses_an_anonymous_connection() -> None:
    communicator = WebsocketCommunicator(application, "/ws/events/", headers=[ORIGIN])

    connected, code = await communicator.connect()

    assert connected is False
    assert code == 4401
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_websocket_refuses_a_foreign_origin(session_cookie: bytes) -> None:
    communicator = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[(b"origin", b"https://evil.example"), (b"cookie", session_cookie)],
    )

    connected, _ = await communicator.connect()

    assert connected is False
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_websocket_signed_in_pings_and_receives_own_events_only(
    session_cookie: bytes, customer: Any, other_customer: Any
) -> None:
    communicator = WebsocketCommunicator(
        application, "/ws/events/", headers=[ORIGIN, (b"cookie", session_cookie)]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected is True

    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}

    layer = get_channel_layer()
    await layer.group_send(
        user_group(other_customer.pk), {"type": "user.event", "payload": {"kind": "other"}}
    )
    await layer.group_send(
        user_group(customer.pk), {"type": "user.event", "payload": {"kind": "badge", "n": 3}}
    )
    assert await communicator.receive_json_from(timeout=5) == {"kind": "badge", "n": 3}
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_consumer_with_a_user_in_scope_joins_its_group() -> None:
    class FakeUser:
        pk = 777
        is_authenticated = True

    communicator = WebsocketCommunicator(UserEventsConsumer.as_asgi(), "/ws/events/")
    communicator.scope["user"] = FakeUser()
    connected, _ = await communicator.connect(timeout=5)
    assert connected is True

    await get_channel_layer().group_send(
        user_group(777), {"type": "user.event", "payload": {"kind": "notice"}}
    )
    assert await communicator.receive_json_from(timeout=5) == {"kind": "notice"}
    await communicator.send_json_to({"type": "something-else"})
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


# ---------------------------------------------------------------- shared fixtures work


@pytest.mark.django_db
def test_api_client_is_signed_in_by_bearer_token(api_client: Any, customer: Any) -> None:
    response = api_client.get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == customer.phone
    assert Device.objects.filter(user=customer, kind=DeviceKind.APP).count() == 1
    assert Client().get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_session_client_signed_in_like_a_browser(session_client: Any, customer: Any) -> None:
    response = session_client.get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == customer.phone
    assert Device.objects.filter(user=customer, kind=DeviceKind.WEB).count() == 1


@pytest.mark.django_db
def test_sms_outbox_reads_back_a_code_sent_on_commit(
    sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/api/v1/auth/register",
            {
                "login": "+7 913 555-44-33",
                "first_name": "Анна",
                "password": "Teplo-Sun-2026",
                "password_confirm": "Teplo-Sun-2026",
                "consent": True,
            },
            content_type="application/json",
        )

    assert response.status_code == 202, response.content
    [message] = sms_outbox.messages()
    assert message["phone"] == "+79135554433"
    code = sms_outbox.last_code("+79135554433")
    assert len(code) == 6
    assert code in message["text"]
    assert sms_outbox.to("+79130000000") == []


def test_mail_outbox_reads_back_a_code(mail_outbox: Any, last_email_code: Any) -> None:
    from abonent.core.tasks import email_send

    email_send.delay("Anna@Example.ru", "Код", "Ваш код: 654321. Никому не сообщайте.")
    email_send.delay("other@example.ru", "Код", "Ваш код: 111111.")

    assert [m.to for m in mail_outbox.outbox] == [["Anna@Example.ru"], ["other@example.ru"]]
    assert last_email_code("anna@example.ru") == "654321"
    with pytest.raises(AssertionError):
        mail_outbox.last_code("nobody@example.ru")


@pytest.mark.django_db
def test_captcha_accepts_the_test_value() -> None:
    from captcha.fields import CaptchaField
    from django.core.exceptions import ValidationError

    field = CaptchaField()
    assert field.clean(["any-key", "PASSED"])
    with pytest.raises(ValidationError):
        field.clean(["any-key", "WRONG"])


# ---------------------------------------------------------------- production settings, migrations


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ABONENT_TESTING", "DJANGO_DEBUG", "CAPTCHA_TEST_MODE", "DJANGO_ENV"}
    }
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(  # noqa: S603 (fixed argv: this interpreter, manage.py)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "abonent.example.ru",
}


def test_deploy_check_passes_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_for_development_settings() -> None:
    env = {**PRODUCTION_ENV, "DJANGO_ENV": "development"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG is on outside production


@pytest.mark.django_db
def test_no_model_changes_without_a_migration() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


# ---------------------------------------------------------------- browser (live server)


def test_login_page_in_chromium(page: Any, live_url: Any) -> None:
    response = page.goto(live_url("/login/"))

    assert response is not None
    assert response.status == 200
    assert "Абонент" in page.title()
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_sign_in_through_the_browser_opens_a_web_session(
    page: Any, live_url: Any, customer: Any
) -> None:
    page.goto(live_url("/login/"))
    page.locator("input[name=username]").fill("+7 913 111-22-33")
    page.locator("input[name=password]").fill("correct-horse-2026")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(live_url("/"))

    assert Device.objects.filter(user=customer, kind=DeviceKind.WEB).count() == 1
