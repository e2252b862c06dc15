"""Never charged twice, never lost: idempotency, timeouts, crashes, webhooks out of order,
duplicates and lost ones, reconciliation."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.db import connection

from abonent.billing.models import LedgerEntry
from abonent.core import clock
from abonent.core.models import AuditEntry
from abonent.payments import services
from abonent.payments.gateways.sandbox import http as sandbox_http
from abonent.payments.gateways.sandbox.bank import services as bank_services
from abonent.payments.gateways.sandbox.bank.models import BankNotification, BankPayment
from abonent.payments.models import GatewayEvent, Payment, PaymentLine
from abonent.payments.tests.conftest import FakeGateway, InProcessApp
from abonent.payments.tests.factories import (
    NOW,
    balance,
    heating,
    hot_water,
    owing_accounts,
    payments_posted,
    saved_card,
)

pytestmark = pytest.mark.django_db
SITE = "http://testserver"


def _lines(first: Any, amount: str = "1500.00") -> list[services.LineInput]:
    return [services.LineInput(first.pk, heating().pk, amount)]


def _start(user: Any, lines: Any, key: str = "key-00000001", **kw: Any) -> Any:
    args: dict[str, Any] = {"consent": True, "card_id": None, "save_card": False}
    args.update(kw)
    return services.payment_start(
        user=user, lines=lines, idempotency_key=key, site_url=SITE, now=NOW, **args
    )


# ---------------------------------------------------------------- idempotency


def test_same_key_and_body_give_the_same_payment(customer: Any, fake_gateway: FakeGateway) -> None:
    first, _ = owing_accounts(customer)

    one = _start(customer, _lines(first))
    two = _start(customer, _lines(first))

    assert one.created is True
    assert two.created is False
    assert one.payment.pk == two.payment.pk
    assert Payment.objects.count() == 1
    assert fake_gateway.create_calls == 1  # the second request did not go to the acquirer
    assert fake_gateway.charges() == 1


def test_same_key_with_another_body_is_refused_and_changes_nothing(
    customer: Any, api_client: Any, fake_gateway: FakeGateway
) -> None:
    first, _ = owing_accounts(customer)
    body = {
        "lines": [{"account_id": first.pk, "service_id": heating().pk, "amount": "100.00"}],
        "consent": True,
        "idempotency_key": "same-key-0001",
    }
    assert (
        api_client.post("/api/v1/payments", body, content_type="application/json").status_code
        == 201
    )
    before = (Payment.objects.count(), PaymentLine.objects.count(), payments_posted())

    body["lines"][0]["amount"] = "200.00"  # type: ignore[index]
    response = api_client.post("/api/v1/payments", body, content_type="application/json")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert (Payment.objects.count(), PaymentLine.objects.count(), payments_posted()) == before
    assert fake_gateway.create_calls == 1


def test_api_replay_answers_200_with_the_same_payment(
    customer: Any, api_client: Any, fake_gateway: FakeGateway
) -> None:
    first, _ = owing_accounts(customer)
    body = {
        "lines": [{"account_id": first.pk, "service_id": heating().pk, "amount": "100.00"}],
        "consent": True,
        "idempotency_key": "replay-key-01",
    }
    one = api_client.post("/api/v1/payments", body, content_type="application/json")
    two = api_client.post("/api/v1/payments", body, content_type="application/json")

    assert (one.status_code, two.status_code) == (201, 200)
    assert one.json()["id"] == two.json()["id"]
    assert two.json()["status"] == "succeeded"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_with_one_key_make_one_payment(
    customer: Any, fake_gateway: FakeGateway
) -> None:
    # given a customer who owes, and 20 threads about to send the same request at once
    first, _ = owing_accounts(customer)
    barrier = threading.Barrier(20)
    ids: list[int] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            barrier.wait(timeout=10)
            ids.append(_start(customer, _lines(first), key="concurrent-key-1").payment.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then every request got the one payment, charged and posted once
    assert errors == []
    assert len(ids) == 20
    assert len(set(ids)) == 1
    assert Payment.objects.count() == 1
    assert fake_gateway.charges() == 1
    assert len(payments_posted()) == 1


# ---------------------------------------------------------------- the acquirer's answer is lost


class TimeoutAfterForwarding(httpx.BaseTransport):
    """Forwards the request to the sandbox (which charges), then loses the answer."""

    def __init__(self, times: int) -> None:
        self.inner = httpx.WSGITransport(app=InProcessApp())
        self.times = times

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/api/payments") and self.times:
            self.times -= 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


@pytest.mark.usefixtures("sandbox")
def test_acquirer_times_out_after_charging_and_client_retry_charges_once(customer: Any) -> None:
    # given a saved card the sandbox knows
    first, _ = owing_accounts(customer)
    bank_card = bank_services.BankCard.objects.create(
        token="tok_saved", brand="Мир", last4="0004", exp_month=12, exp_year=2030,
        behaviour="success", created_at=NOW,
    )  # fmt: skip
    card = saved_card(customer, token=bank_card.token)
    sandbox_http.TRANSPORT = TimeoutAfterForwarding(times=1)

    # when the acquirer charges but its answer never reaches us
    one = _start(customer, _lines(first), key="retry-key-001", card_id=card.pk)

    # then the payment is left «created» and nothing is posted
    assert one.payment.status == "created"
    assert BankPayment.objects.filter(status="succeeded").count() == 1
    assert payments_posted() == []

    # when the client retries with the same key
    two = _start(customer, _lines(first), key="retry-key-001", card_id=card.pk)

    # then it is the same payment, succeeded, with ONE charge at the acquirer, posted once
    assert two.payment.pk == one.payment.pk
    assert two.payment.status == "succeeded"
    assert BankPayment.objects.count() == 1
    assert len(payments_posted()) == 1
    assert balance(first, heating()) == Decimal("0.00")


def test_crash_between_acquirer_call_and_commit_is_settled_by_reconciliation(
    customer: Any, fake_gateway: FakeGateway
) -> None:
    # given the acquirer charged, but our side died before recording its answer
    first, _ = owing_accounts(customer)
    fake_gateway.fail_after_charge = True
    started = _start(customer, _lines(first), key="crash-key-0001")
    assert started.payment.status == "created"
    assert started.payment.gateway_payment_id is None
    fake_gateway.fail_after_charge = False

    # when reconciliation runs after the grace period
    counts = services.payments_reconcile(now=NOW + timedelta(minutes=11), site_url=SITE)

    # then it asked the acquirer with the same key, found the charge and posted it once
    payment = Payment.objects.get()
    assert counts["resubmitted"] == 1
    assert payment.status == "succeeded"
    assert payment.gateway_payment_id == "fake-1"
    assert fake_gateway.charges() == 1
    assert len(payments_posted()) == 1


def test_reconciliation_does_not_touch_fresh_payments(
    customer: Any, fake_gateway: FakeGateway
) -> None:
    first, _ = owing_accounts(customer)
    fake_gateway.outcome = "pending"
    _start(customer, _lines(first))

    counts = services.payments_reconcile(now=NOW + timedelta(minutes=2), site_url=SITE)

    assert counts["checked"] == 0
    assert Payment.objects.get().status == "pending"


# ---------------------------------------------------------------- webhooks


def _signed(client: Any, body: dict[str, Any], *, signature: str | None = None) -> Any:
    raw = json.dumps(body).encode()
    return client.post(
        "/api/v1/payments/webhooks/sandbox",
        raw,
        content_type="application/json",
        headers={"X-Sandbox-Signature": signature or bank_services.signature(raw)},
    )


def _event(event_id: str, payment: Payment, status: str, reason: str = "") -> dict[str, Any]:
    return {
        "type": "notification",
        "event": f"payment.{status}",
        "id": event_id,
        "object": {
            "id": payment.gateway_payment_id,
            "status": status,
            "amount": f"{payment.amount:.2f}",
            "cancellation_reason": reason,
            "metadata": {"abonent_payment_id": str(payment.pk)},
        },
    }


@pytest.fixture
def pending(customer: Any, fake_gateway: FakeGateway) -> Payment:
    first, _ = owing_accounts(customer)
    fake_gateway.outcome = "pending"
    payment = _start(customer, _lines(first)).payment
    assert payment.status == "pending"
    return payment


def test_duplicate_webhook_is_applied_once(client: Any, pending: Payment) -> None:
    first = _signed(client, _event("evt-1", pending, "succeeded"))
    second = _signed(client, _event("evt-1", pending, "succeeded"))

    assert (first.status_code, first.json()) == (200, {"status": "applied"})
    assert (second.status_code, second.json()) == (200, {"status": "duplicate"})
    assert GatewayEvent.objects.count() == 1
    assert len(payments_posted()) == 1
    pending.refresh_from_db()
    assert pending.status == "succeeded"


def test_reordered_webhooks_never_move_a_payment_backwards(client: Any, pending: Payment) -> None:
    # «succeeded» arrives first, the older «pending» and a bogus «canceled» after it
    _signed(client, _event("evt-2", pending, "succeeded"))
    _signed(client, _event("evt-1", pending, "pending"))
    _signed(client, _event("evt-3", pending, "canceled", "expired_on_confirmation"))

    pending.refresh_from_db()
    assert pending.status == "succeeded"
    assert len(payments_posted()) == 1
    outcomes = list(GatewayEvent.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["pending->succeeded", "kept succeeded", "kept succeeded"]


def test_same_state_from_webhook_and_reconciliation_posts_once(
    client: Any, pending: Payment, fake_gateway: FakeGateway
) -> None:
    fake_gateway.set_status(str(pending.gateway_payment_id), "succeeded")
    _signed(client, _event("evt-9", pending, "succeeded"))

    services.payments_reconcile(now=NOW + timedelta(hours=1), site_url=SITE)

    assert len(payments_posted()) == 1


def test_lost_webhook_is_settled_by_reconciliation(
    pending: Payment, fake_gateway: FakeGateway
) -> None:
    # the acquirer charged; its notification never arrived
    fake_gateway.set_status(str(pending.gateway_payment_id), "succeeded")

    counts = services.payments_reconcile(now=NOW + timedelta(minutes=15), site_url=SITE)

    pending.refresh_from_db()
    assert counts["settled"] == 1
    assert pending.status == "succeeded"
    assert len(payments_posted()) == 1


def test_payment_pending_too_long_is_canceled_at_the_acquirer(
    pending: Payment, fake_gateway: FakeGateway
) -> None:
    services.payments_reconcile(now=NOW + timedelta(hours=25), site_url=SITE)

    pending.refresh_from_db()
    assert pending.status == "canceled"
    assert fake_gateway.payments[str(pending.gateway_payment_id)].status == "canceled"
    assert payments_posted() == []


def test_webhook_with_bad_signature_is_refused_and_changes_nothing(
    client: Any, pending: Payment
) -> None:
    audit_before = AuditEntry.objects.count()

    response = _signed(client, _event("evt-x", pending, "succeeded"), signature="0" * 64)
    unsigned = client.post(
        "/api/v1/payments/webhooks/sandbox",
        json.dumps(_event("evt-y", pending, "succeeded")),
        content_type="application/json",
    )

    assert (response.status_code, response.json()["code"]) == (403, "bad_signature")
    assert unsigned.status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert GatewayEvent.objects.count() == 0
    assert payments_posted() == []
    assert AuditEntry.objects.count() == audit_before


def test_webhook_for_unknown_gateway_is_404(client: Any) -> None:
    response = client.post(
        "/api/v1/payments/webhooks/paypal", b"{}", content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (404, "unknown_gateway")


@pytest.mark.usefixtures("sandbox")
def test_undelivered_notification_is_kept_by_the_bank_and_payment_settles_by_reconciliation(
    customer: Any,
    api_client: Any,
    bank: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given our webhook is unreachable from the bank
    first, _ = owing_accounts(customer)
    settings.PAYMENTS_SANDBOX_NOTIFY_URL = "http://testserver/nowhere"
    created = api_client.post(
        "/api/v1/payments",
        {
            "lines": [{"account_id": first.pk, "service_id": heating().pk, "amount": "1500"}],
            "consent": True,
            "idempotency_key": "lost-webhook-1",
        },
        content_type="application/json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        bank(created["confirmation_url"])

    # then the bank kept the notification undelivered and our payment is still pending
    assert BankNotification.objects.get().delivered_at is None
    assert Payment.objects.get().status == "pending"

    # when reconciliation runs, it asks the bank and settles the payment
    services.payments_reconcile(now=clock.now() + timedelta(minutes=15), site_url=SITE)

    assert Payment.objects.get().status == "succeeded"
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert balance(first, heating()) == Decimal("0.00")
    assert balance(first, hot_water()) == Decimal("320.40")
