"""Payment test fixtures: the sandbox acquirer reached over HTTP in-process (an httpx WSGI
transport into this same Django, so it shares the test's transaction), or for real over the
live server; a scripted fake gateway for fault tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client

from abonent.payments.gateways import OVERRIDES
from abonent.payments.gateways.protocol import (
    CardInfo,
    CreatePayment,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    GatewayUnavailable,
    Receipt,
    WebhookEvent,
)
from abonent.payments.gateways.sandbox import http as sandbox_http
from abonent.payments.gateways.sandbox.gateway import SandboxGateway

SUCCESS = "2200 0000 0000 0004"
DECLINE = "4000 0000 0000 0002"
NO_FUNDS = "4000 0000 0000 9995"
THREE_DS = "4000 0000 0000 3220"
THREE_DS_ALWAYS = "4000 0000 0000 3063"


class InProcessApp:
    """This Django as a WSGI app for httpx, inside the test's transaction. As Django's test
    client does, a request here must not close the test's database connection (with
    CONN_MAX_AGE on PostgreSQL, request_started/finished would: it is inside a transaction)."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            result = self.handler(environ, start_response)
            body = b"".join(result)
            result.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return [body]


@pytest.fixture
def sandbox(settings: Any) -> Iterator[None]:
    """The sandbox acquirer over HTTP, in-process (no socket, the test's own transaction)."""
    settings.PAYMENTS_GATEWAY = "sandbox"
    settings.PAYMENTS_SANDBOX_URL = "http://testserver/sandbox-acquirer"
    settings.PAYMENTS_SANDBOX_NOTIFY_URL = "http://testserver/api/v1/payments/webhooks/sandbox"
    sandbox_http.TRANSPORT = httpx.WSGITransport(app=InProcessApp())
    yield
    sandbox_http.TRANSPORT = None


@pytest.fixture
def bank() -> Callable[..., Any]:
    """`bank(confirmation_url, card)` — a customer on the hosted page: enters the card and,
    when asked, the 3-D Secure code. Returns the final redirect response."""

    def pay(url: str, number: str = SUCCESS, *, code: str = "12345") -> Any:
        client = Client()
        path = urlsplit(url).path
        if "/3ds/" in path:  # a saved card the bank wants confirmed: straight to the code
            return client.post(path, {"code": code})
        response = client.post(path, {"number": number, "expiry": "12/30", "cvc": "123"})
        if response.status_code == 302 and "/3ds/" in response["Location"]:
            response = client.post(urlsplit(response["Location"]).path, {"code": code})
        return response

    return pay


# ---------------------------------------------------------------- a scripted fake acquirer


@dataclass
class FakeGateway:
    """An in-memory acquirer: idempotent by key, thread-safe; `script` decides outcomes."""

    name: str = "sandbox"
    supports_holds: bool = True
    outcome: str = "succeeded"
    fail_after_charge: bool = False  # charge, then time out (the answer is lost)
    payments: dict[str, GatewayPayment] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    create_calls: int = 0
    refunds: dict[str, GatewayRefund] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def charges(self) -> int:
        return sum(1 for p in self.payments.values() if p.status == "succeeded")

    def create_payment(self, request: CreatePayment) -> GatewayPayment:
        with self.lock:
            self.create_calls += 1
            if request.idempotence_key in self.by_key:
                state = self.payments[self.by_key[request.idempotence_key]]
            else:
                pid = f"fake-{len(self.payments) + 1}"
                card = CardInfo("tok-fake", "Мир", "0004", 12, 2030)
                state = GatewayPayment(
                    id=pid,
                    status=self.outcome,
                    amount=request.amount,
                    confirmation_url=f"https://bank.example/pay/{pid}",
                    card=card if self.outcome != "pending" else None,
                    card_saved=request.save_card or bool(request.card_token),
                    metadata=dict(request.metadata),
                )
                self.payments[pid] = state
                self.by_key[request.idempotence_key] = pid
            if self.fail_after_charge:
                raise GatewayUnavailable("timeout after charging")
            return state

    def set_status(self, pid: str, status: str, reason: str = "") -> GatewayPayment:
        self.payments[pid] = replace(self.payments[pid], status=status, cancellation_reason=reason)
        return self.payments[pid]

    def get_payment(self, payment_id: str) -> GatewayPayment:
        if payment_id not in self.payments:
            raise GatewayError("not found", code="not_found")
        return self.payments[payment_id]

    def capture(self, payment_id: str, *, amount: Decimal, idempotence_key: str) -> GatewayPayment:
        return self.set_status(payment_id, "succeeded")

    def cancel(self, payment_id: str, *, idempotence_key: str) -> GatewayPayment:
        return self.set_status(payment_id, "canceled", "canceled_by_merchant")

    def refund(
        self,
        payment_id: str,
        *,
        amount: Decimal,
        idempotence_key: str,
        receipt: Receipt | None = None,
    ) -> GatewayRefund:
        with self.lock:
            if idempotence_key not in self.refunds:
                p = self.payments[payment_id]
                self.payments[payment_id] = replace(p, refunded_amount=p.refunded_amount + amount)
                self.refunds[idempotence_key] = GatewayRefund(
                    id=f"rf-{len(self.refunds) + 1}", status="succeeded", amount=amount
                )
            return self.refunds[idempotence_key]

    def parse_webhook(self, **kwargs: Any) -> WebhookEvent:
        return SandboxGateway().parse_webhook(**kwargs)


@pytest.fixture
def fake_gateway(settings: Any) -> Iterator[FakeGateway]:
    settings.PAYMENTS_GATEWAY = "sandbox"
    fake = FakeGateway()
    OVERRIDES["sandbox"] = fake
    yield fake
    OVERRIDES.pop("sandbox", None)
