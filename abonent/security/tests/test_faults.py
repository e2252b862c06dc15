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


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed): connections are refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return int(port)


@contextmanager
def project_broker(url: str, transport_options: dict[str, Any] | None = None) -> Iterator[Any]:
    """The project's Celery app publishing to `url` for real (not eager), then restored."""
    from config.celery import app

    keys = (
        "broker_url",
        "broker_write_url",
        "broker_read_url",
        "broker_transport_options",
        "task_always_eager",
    )
    saved = {key: app.conf[key] for key in keys}

    def reset_pools() -> None:
        from kombu import pools

        pools.reset()  # kombu keeps one pool per broker URL, process-wide
        app._pool = None  # type: ignore[attr-defined]
        app.amqp._producer_pool = None  # type: ignore[attr-defined]

    reset_pools()
    app.conf.update(
        broker_url=url,
        broker_write_url=None,
        broker_read_url=None,
        # the Redis transport's options (timeouts); SQLAlchemy's broker takes none
        broker_transport_options=transport_options
        if transport_options is not None
        else saved["broker_transport_options"]
        if url.startswith("redis://")
        else {},
        task_always_eager=False,
    )
    try:
        yield app
    finally:
        reset_pools()
        app.conf.update(saved)


def drain(app: Any, queue: str = "celery") -> list[tuple[str, list[Any], dict[str, Any]]]:
    """Take every message off the broker's queue, as a worker would: (task, args, kwargs)."""
    taken: list[tuple[str, list[Any], dict[str, Any]]] = []
    with app.connection_for_read() as conn:
        simple = conn.SimpleQueue(queue)
        try:
            while True:
                try:
                    message = simple.get(timeout=1)
                except simple.Empty:
                    break
                args, kwargs, _embed = message.decode()
                taken.append((message.headers["task"], args, kwargs))
                message.ack()
        finally:
            simple.close()
    return taken


def _pay(world: World, key: str) -> Any:
    """The owner pays; the notice «Оплата прошла» goes by e-mail (no push subscription: the
    test sends nothing over the network)."""
    from abonent.notices.models import PushSubscription

    PushSubscription.objects.filter(user=world.owner.user).delete()
    return Client(headers=world.owner.auth).post(
        "/api/v1/payments",
        {
            "lines": [
                {
                    "account_id": world.owner.ids["account_id"],
                    "service_id": world.owner.ids["service_id"],
                    "amount": "150.00",
                }
            ],
            "consent": True,
            "idempotency_key": key,
        },
        content_type="application/json",
    )


def test_with_the_broker_down_jobs_wait_in_the_outbox_and_the_code_sms_goes_at_once(
    world: World, sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from abonent.core.models import JobOutbox
    from abonent.notices.models import Delivery, DeliveryState

    # given the broker down: a real Redis URL on a closed loopback port
    with project_broker(f"redis://127.0.0.1:{_closed_port()}/0"):
        # when the owner pays (its notice is sent by a job) and someone asks for a code
        with django_capture_on_commit_callbacks(execute=True):
            paid = _pay(world, "broker-down-0001")
        with django_capture_on_commit_callbacks(execute=True):
            reset = Client().post(
                "/api/v1/auth/password/reset",
                {"login": world.owner.user.phone},
                content_type="application/json",
            )

    # then both requests are answered as usual
    assert paid.status_code == 201, paid.content
    assert paid.json()["status"] == "succeeded"
    assert reset.status_code == 202, reset.content
    # the payment notice's sending job waits in the outbox, its delivery still pending
    rows = list(JobOutbox.objects.values_list("task", "relayed_at"))
    assert rows == [("abonent.notices.tasks.deliveries_send", None)]
    job = JobOutbox.objects.get()
    assert job.last_error.startswith("OperationalError")
    assert list(Delivery.objects.filter(pk__in=job.args[0]).values_list("channel", "state")) == [
        ("email", DeliveryState.PENDING)
    ]
    # and the code went out from the request itself: nobody waits for it after the outage
    code = sms_outbox.last_code(world.owner.user.phone)
    assert [m["text"] for m in sms_outbox.to(world.owner.user.phone)] == [
        f"Код для восстановления пароля в Абоненте: {code}. Никому его не сообщайте."
    ]
    # the readiness endpoint counts what waits
    ready = Client().get("/readyz").json()
    assert ready["status"] == "ok"
    assert ready["outbox"]["pending"] == 1
    stats.COUNTS["faults"] += 1


def test_with_the_broker_hung_a_job_goes_to_the_outbox_after_the_socket_timeout(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from abonent.core.models import JobOutbox

    # given a «Redis» that accepts connections and never answers
    hung = {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}
    # when the owner pays
    with (
        silent_server() as url,
        project_broker(url.replace("http", "redis") + "/0", hung),
        django_capture_on_commit_callbacks(execute=True),
    ):
        paid = _pay(world, "broker-hung-0001")

    # then the payment is answered and its notice's job waits in the outbox
    assert paid.status_code == 201, paid.content
    job = JobOutbox.objects.get()
    assert job.task == "abonent.notices.tasks.deliveries_send"
    assert "imeout" in job.last_error
    stats.COUNTS["faults"] += 1


def test_once_the_broker_is_back_the_relay_hands_each_job_over_once(
    world: World, tmp_path: Any, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    from abonent.core import clock
    from abonent.core.models import JobOutbox
    from abonent.core.outbox import outbox_relay
    from abonent.notices.models import Delivery, DeliveryState

    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    # given a job kept in the outbox while the broker was down
    with project_broker(dead), django_capture_on_commit_callbacks(execute=True):
        assert _pay(world, "broker-down-0002").status_code == 201
    job = JobOutbox.objects.get()

    # when the relay runs while the broker is still down, nothing is lost
    with project_broker(dead):
        still_down = outbox_relay(now=clock.now())
    assert (still_down.relayed, still_down.pending, still_down.broker_down) == (0, 1, True)
    assert JobOutbox.objects.get().attempts == 1

    # when the broker is back (a real one: Celery's SQLite broker in a file) and the relay
    # runs twice (beat and the command at once, or a repeat)
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    with project_broker(broker) as app:
        first = outbox_relay(now=clock.now())
        second = outbox_relay(now=clock.now())
        queued = drain(app)
        # then the job reached the broker once, and a worker running it sends the notice once
        assert queued == [("abonent.notices.tasks.deliveries_send", job.args, {})]
        for name, args, kwargs in queued:
            app.tasks[name].apply(args=args, kwargs=kwargs, throw=True)

    assert (first.relayed, first.pending, second.relayed) == (1, 0, 0)
    job.refresh_from_db()
    assert job.relayed_at is not None
    assert job.attempts == 2
    delivery = Delivery.objects.get(pk__in=job.args[0])
    assert delivery.state == DeliveryState.SENT
    assert [m.to for m in mailoutbox] == [[world.owner.user.email]]
    assert Client().get("/readyz").json()["outbox"]["pending"] == 0
    stats.COUNTS["faults"] += 1


def test_only_the_code_messages_run_inline_when_the_broker_is_down() -> None:
    from abonent.core.jobs import ResilientTask
    from config.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.startswith("abonent.")}
    assert all(isinstance(task, ResilientTask) for task in ours.values())
    inline = sorted(n for n, t in ours.items() if getattr(t, "run_inline_when_broker_down", 0))
    assert inline == ["abonent.core.tasks.email_send", "abonent.core.tasks.sms_send"]
    assert "abonent.core.tasks.outbox_relay" in ours


@pytest.mark.django_db
def test_the_relay_command_says_when_the_broker_is_still_down(tmp_path: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    from abonent.billing.tests.factories import NOW as AT
    from abonent.core.outbox import outbox_store

    # given a job in the outbox
    outbox_store(
        task="abonent.core.tasks.outbox_relay", args=[], kwargs={}, eta=None, error="", now=AT
    )
    out = StringIO()
    # when the command runs with the broker down, it fails loudly and keeps the job
    with project_broker(f"redis://127.0.0.1:{_closed_port()}/0"), pytest.raises(CommandError):
        call_command("relay_outbox", stdout=out)
    assert out.getvalue() == "relayed: 0, pending: 1\n"
    # and once the broker is back it relays it
    with project_broker(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"):
        call_command("relay_outbox", stdout=out)
    assert out.getvalue().splitlines()[-1] == "relayed: 1, pending: 0"


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
