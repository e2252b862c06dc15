"""Faults: outbound services that hang or answer garbage, Redis down (cache, broker), a billing
run killed half-way, and on PostgreSQL a connection killed mid-request and a lock timeout.
Each fails cleanly or recovers, and nothing is left half-written.

PostgreSQL-only tests are marked `postgres` (they skip locally, run in CI).
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client

from abonent.billing.models import BillingPeriod, Charge
from abonent.billing.services import billing_run
from abonent.billing.services import run as run_module
from abonent.billing.tests.factories import (
    NOW,
    heating,
    hot_water,
    make_account,
    make_branch,
    make_meter,
    price,
    read_monthly,
)
from abonent.core.errors import Conflict
from abonent.core.sms import SmsError, SmsRuBackend
from abonent.payments.gateways.protocol import CreatePayment, GatewayUnavailable
from abonent.security.tests import stats
from abonent.security.tests.world import PASSWORD, World

# ---------------------------------------------------------------- loopback servers


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers (a hung provider). Yields its base URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


@contextmanager
def garbage_server() -> Iterator[str]:
    """Answers every request with 200 and a body that is not JSON."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    body = b"<html>502 Bad Gateway</html>\x00\xff"
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                        + body
                    )
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def within(seconds: float, call: Any) -> Any:
    """Run `call` in a thread; a call still running after `seconds` (no timeout set on the
    way out) fails the test instead of hanging the suite. Not a speed assertion: the bound
    is 20 times the configured timeout."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the call had no timeout: it was still waiting"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _payment_request(key: str = "fault-1") -> CreatePayment:
    return CreatePayment(
        amount=Decimal("100.00"),
        description="Оплата",
        return_url="https://abonent.example.ru/pay/result/1/",
        idempotence_key=key,
    )


# ---------------------------------------------------------------- outbound: hung and garbage


def test_a_hung_yookassa_fails_cleanly_within_the_timeout(settings: Any) -> None:
    """Found here: the SDK sent requests without a timeout; a hung acquirer held the worker."""
    from abonent.payments.gateways.yookassa.gateway import YooKassaGateway

    settings.PAYMENTS_HTTP_TIMEOUT = 0.3
    settings.YOOKASSA_SHOP_ID, settings.YOOKASSA_SECRET_KEY = "1", "test_key"
    with silent_server() as url:
        settings.YOOKASSA_API_URL = url
        with pytest.raises(GatewayUnavailable):
            within(6, lambda: YooKassaGateway().create_payment(_payment_request()))
    stats.COUNTS["faults"] += 1


def test_yookassa_answering_garbage_is_no_definite_answer(settings: Any) -> None:
    from abonent.payments.gateways.yookassa.gateway import YooKassaGateway

    settings.YOOKASSA_SHOP_ID, settings.YOOKASSA_SECRET_KEY = "1", "test_key"
    with garbage_server() as url:
        settings.YOOKASSA_API_URL = url
        with pytest.raises(GatewayUnavailable):
            within(
                10, lambda: YooKassaGateway().get_payment("2f1c0c33-000f-5000-8000-1a2b3c4d5e6f")
            )
    stats.COUNTS["faults"] += 1


def test_a_hung_sandbox_acquirer_fails_cleanly(settings: Any) -> None:
    from abonent.payments.gateways.sandbox.gateway import SandboxGateway

    settings.PAYMENTS_HTTP_TIMEOUT = 0.3
    with silent_server() as url:
        settings.PAYMENTS_SANDBOX_URL = url
        with pytest.raises(GatewayUnavailable):
            within(6, lambda: SandboxGateway().create_payment(_payment_request()))
    stats.COUNTS["faults"] += 1


@pytest.mark.parametrize("server", [silent_server, garbage_server], ids=["hung", "garbage"])
def test_the_sms_provider_hung_or_answering_garbage_is_an_sms_error(server: Any) -> None:
    with server() as url:
        backend = SmsRuBackend(base_url=url, api_id="x", sender="", timeout=0.3)
        with pytest.raises(SmsError):
            within(6, lambda: backend.send(phone="+79131112233", text="Код 123456"))
    stats.COUNTS["faults"] += 1


def test_a_payment_while_the_acquirer_hangs_is_kept_and_a_retry_finds_it(
    world: World, settings: Any
) -> None:
    # given the YooKassa gateway, hanging
    settings.PAYMENTS_GATEWAY = "yookassa"
    settings.PAYMENTS_HTTP_TIMEOUT = 0.3
    settings.YOOKASSA_SHOP_ID, settings.YOOKASSA_SECRET_KEY = "1", "test_key"
    client = Client(headers=world.owner.auth)
    body = {
        "lines": [
            {
                "account_id": world.owner.ids["account_id"],
                "service_id": world.owner.ids["service_id"],
                "amount": "100.00",
            }
        ],
        "consent": True,
        "idempotency_key": "fault-key-0001",
    }
    with silent_server() as url:
        settings.YOOKASSA_API_URL = url

        # when the customer pays, and the app retries with the same key (in this thread: the
        # request must see the test's transaction; the gateway's own timeout bounds the wait)
        first = client.post("/api/v1/payments", body, content_type="application/json")
        retry = client.post("/api/v1/payments", body, content_type="application/json")

    # then no 5xx: the payment is kept «created» (outcome unknown), the retry is the same one
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "created"
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    stats.COUNTS["faults"] += 2


# ---------------------------------------------------------------- Redis down


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture
def redis_down(settings: Any) -> Iterator[None]:
    settings.CACHES = {
        "default": {
            "BACKEND": "abonent.core.cache.ResilientRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    yield
    caches["default"].close()


def test_with_redis_down_the_cabinet_signs_in_pages_and_api_work(
    world: World, redis_down: None
) -> None:
    # the cache really is the dead Redis
    assert caches["default"].get("anything", "miss") == "miss"
    client = Client()

    signed_in = client.post("/login/", {"username": world.owner.user.phone, "password": PASSWORD})
    home = client.get("/")
    account = client.get(f"/accounts/{world.owner.ids['account_id']}/")
    api = Client(headers=world.owner.auth).get("/api/v1/accounts")
    api_login = Client().post(
        "/api/v1/auth/login",
        {"login": world.owner.user.phone, "password": PASSWORD},
        content_type="application/json",
    )

    assert signed_in.status_code == 302
    assert (home.status_code, account.status_code) == (200, 200)
    assert api.status_code == 200
    assert api_login.status_code == 200
    stats.COUNTS["faults"] += 1


def test_with_redis_down_a_payment_goes_through(world: World, redis_down: None) -> None:
    response = Client(headers=world.owner.auth).post(
        "/api/v1/payments",
        {
            "lines": [
                {
                    "account_id": world.owner.ids["account_id"],
                    "service_id": world.owner.ids["service_id"],
                    "amount": "250.00",
                }
            ],
            "consent": True,
            "idempotency_key": "redis-down-0001",
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "succeeded"  # the in-memory acquirer of the world
    stats.COUNTS["faults"] += 1


def test_with_the_broker_down_a_job_runs_in_the_request_instead_of_being_lost(
    sms_outbox: Any,
) -> None:
    from celery import Celery

    from abonent.core.jobs import ResilientTask
    from abonent.core.sms import get_sms_backend
    from abonent.core.tasks import sms_send

    # every job of the project is a ResilientTask…
    assert isinstance(sms_send, ResilientTask)
    # …and one queued through a broker that is down (an app of its own, not to disturb the
    # project's connection pool) runs in the caller instead
    probe = Celery("fault-probe", broker=DEAD_REDIS, task_cls="abonent.core.jobs:ResilientTask")
    probe.conf.broker_connection_timeout = 0.5
    probe.conf.broker_connection_retry = False
    probe.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}

    @probe.task(name="fault-probe.sms")
    def probe_sms(phone: str, text: str) -> str:
        return get_sms_backend().send(phone=phone, text=text)

    try:
        within(20, lambda: probe_sms.delay("+79131112233", "Код 654321"))
    finally:
        probe.close()

    assert [m["text"] for m in sms_outbox.to("+79131112233")] == ["Код 654321"]
    stats.COUNTS["faults"] += 1


# ---------------------------------------------------------------- a billing run killed


class Killed(BaseException):
    """A worker process killed (SIGKILL): no `except Exception` handler sees it."""


def _billing_world() -> Any:
    branch = make_branch(code="faults")
    price(branch, heating(), "2800.0000", norm="0.025000")
    price(branch, hot_water(), "230.5000", norm="3.500000")
    for n in range(7):
        account = make_account(branch, heating(), hot_water(), area=f"{40 + n}.00", residents=n % 3)
        if n % 2:
            meter = make_meter(account, hot_water(), serial=f"HW-{n}")
            read_monthly(meter, date(2026, 1, 1), 11, start=f"{100 + n}", step=f"{2 + n}.5")
    return branch


def _checksum(period: BillingPeriod) -> str:
    rows = Charge.objects.filter(period=period).order_by(
        "account_id", "service_id", "for_month", "is_recalculation", "method", "amount"
    )
    text = "\n".join(
        "|".join(str(v) for v in row)
        for row in rows.values_list(
            "account_id",
            "service_id",
            "for_month",
            "method",
            "volume",
            "tariff",
            "amount",
            "is_recalculation",
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.django_db
def test_a_billing_run_killed_half_way_finishes_exactly_once_on_rerun(monkeypatch: Any) -> None:
    branch = _billing_world()
    month = date(2026, 11, 1)

    # given the checksum of an uninterrupted run
    clean = billing_run(branch=branch, month=month, now=NOW, chunk_size=2)
    expected = (_checksum(clean.period), clean.lines)
    Charge.objects.filter(period=clean.period).delete()
    BillingPeriod.objects.filter(pk=clean.period.pk).delete()

    # when a run's worker is killed in its third chunk
    real = run_module._run_chunk
    calls: list[int] = []

    def dies(**kwargs: Any) -> Any:
        calls.append(kwargs["low"])
        if len(calls) == 3:
            raise Killed
        return real(**kwargs)

    monkeypatch.setattr(run_module, "_run_chunk", dies)
    with pytest.raises(Killed):
        billing_run(branch=branch, month=month, now=NOW, chunk_size=2)
    monkeypatch.setattr(run_module, "_run_chunk", real)

    # then the period still shows that run under way: a restart at once is refused…
    period = BillingPeriod.objects.get(branch=branch, month=month)
    assert period.run_id is not None
    assert period.run_finished_at is None
    with pytest.raises(Conflict):
        billing_run(branch=branch, month=month, now=NOW + timedelta(minutes=5), chunk_size=2)

    # …and once the dead run is stale, the restart takes over and finishes it exactly once
    rerun = billing_run(branch=branch, month=month, now=NOW + timedelta(hours=3), chunk_size=2)
    assert (_checksum(rerun.period), rerun.lines) == expected
    # a second re-run changes nothing either
    again = billing_run(branch=branch, month=month, now=NOW + timedelta(hours=4), chunk_size=2)
    assert _checksum(again.period) == expected[0]
    stats.COUNTS["faults"] += 1


@pytest.mark.django_db
def test_a_billing_run_failing_half_way_equals_an_uninterrupted_one_after_rerun(
    monkeypatch: Any,
) -> None:
    branch = _billing_world()
    month = date(2026, 11, 1)
    clean = billing_run(branch=branch, month=month, now=NOW, chunk_size=3)
    expected = _checksum(clean.period)
    Charge.objects.filter(period=clean.period).delete()
    BillingPeriod.objects.filter(pk=clean.period.pk).delete()

    real = run_module._run_chunk
    calls: list[int] = []

    def fails(**kwargs: Any) -> Any:
        calls.append(kwargs["low"])
        if len(calls) == 2:
            raise ConnectionError("database connection lost")
        return real(**kwargs)

    monkeypatch.setattr(run_module, "_run_chunk", fails)
    with pytest.raises(ConnectionError):
        billing_run(branch=branch, month=month, now=NOW, chunk_size=3)
    monkeypatch.setattr(run_module, "_run_chunk", real)

    rerun = billing_run(branch=branch, month=month, now=NOW, chunk_size=3)

    assert _checksum(rerun.period) == expected
    stats.COUNTS["faults"] += 1


# ---------------------------------------------------------------- PostgreSQL


def _other_connection() -> Any:
    """A second PostgreSQL session of our own (psycopg), outside Django's connection."""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["autocommit"] = True
    return psycopg.connect(**params)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_mid_request_leaves_nothing_half_written(
    world: World, monkeypatch: Any
) -> None:
    from abonent.accounts import services as account_services
    from abonent.accounts.models import AccountLink

    # given the owner renaming a ЛС, and the database connection killed inside that write
    link = AccountLink.objects.get(user=world.owner.user)
    real = account_services.audit_record

    def killed(**kwargs: Any) -> Any:
        pid = connection.cursor().connection.info.backend_pid
        with _other_connection() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        return real(**kwargs)

    monkeypatch.setattr(account_services, "audit_record", killed)
    client = Client(headers=world.owner.auth, raise_request_exception=False)

    # when the request runs
    response = client.patch(
        f"/api/v1/accounts/{link.account_id}", {"label": "Дача"}, content_type="application/json"
    )

    # then the answer is a clean, documented «try again» and the rename did not half-happen
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"
    connection.close()
    link.refresh_from_db()
    assert link.label == ""
    # and the next request works on a fresh connection
    monkeypatch.setattr(account_services, "audit_record", real)
    again = client.patch(
        f"/api/v1/accounts/{link.account_id}", {"label": "Дача"}, content_type="application/json"
    )
    assert again.status_code == 200
    stats.COUNTS["faults"] += 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_whose_connection_died_is_retried_once(world: World) -> None:
    # given the request's connection killed before it starts
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with _other_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    # when the owner reads a page
    response = Client(headers=world.owner.auth, raise_request_exception=False).get(
        f"/api/v1/accounts/{world.owner.ids['account_id']}"
    )

    # then the read is answered (retried on a fresh connection)
    assert response.status_code == 200, response.content
    stats.COUNTS["faults"] += 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_timeout_is_a_clean_try_again_and_changes_nothing(world: World) -> None:
    from abonent.payments.models import SavedCard

    card_id = world.owner.ids["card_id"]
    # given another transaction holding the card's row lock, and a short lock_timeout
    # (production sets lock_timeout for the web role, see SECURITY.md)
    with _other_connection() as holder:
        holder.autocommit = False
        holder.execute("SELECT 1 FROM payments_savedcard WHERE id = %s FOR UPDATE", [card_id])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")

        # when the owner renames the card
        response = Client(headers=world.owner.auth, raise_request_exception=False).patch(
            f"/api/v1/cards/{card_id}", {"title": "Новая"}, content_type="application/json"
        )
        holder.rollback()

    # then a documented «try again», and the title is unchanged
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "database_unavailable"
    assert SavedCard.objects.get(pk=card_id).title == ""
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
    stats.COUNTS["faults"] += 1
