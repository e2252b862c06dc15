"""The YooKassa adapter through the official SDK, against a loopback fake of its API that
the test starts (no network): receipt, payment_order, idempotence keys, holds, refunds,
and notifications accepted only from YooKassa's addresses and confirmed by a fetch."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from abonent.payments import services
from abonent.payments.gateways.protocol import GatewayError
from abonent.payments.models import GatewayEvent, Payment, SavedCard
from abonent.payments.tests.factories import NOW, balance, heating, hot_water, owing_accounts

pytestmark = pytest.mark.django_db
SITE = "http://testserver"


class FakeYooKassa(BaseHTTPRequestHandler):
    """Answers like https://api.yookassa.ru/v3 for the calls Abonent makes."""

    payments: dict[str, dict[str, Any]]
    by_key: dict[str, dict[str, Any]]
    requests: list[dict[str, Any]]

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        pid = self.path.rsplit("/", 1)[-1]
        if pid not in self.payments:
            self._send(404, {"type": "error", "code": "not_found", "description": "no"})
            return
        self._send(200, self.payments[pid])

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        key = self.headers.get("Idempotence-Key", "")
        self.requests.append({"path": self.path, "key": key, "body": body,
                              "auth": self.headers.get("Authorization", "")})  # fmt: skip
        if key in self.by_key:
            self._send(200, self.by_key[key])
            return
        if self.path == "/v3/payments":
            pid = str(uuid.uuid4())
            saved = body.get("payment_method_id")
            payment = {
                "id": pid,
                "status": "succeeded" if saved else "pending",
                "paid": bool(saved),
                "amount": body["amount"],
                "created_at": "2026-11-23T09:00:00.000Z",
                "description": body.get("description", ""),
                "metadata": body.get("metadata", {}),
                "recipient": {"account_id": "100500", "gateway_id": "1"},
                "refundable": bool(saved),
                "test": True,
                "confirmation": {
                    "type": "redirect",
                    "confirmation_url": f"https://yoomoney.example/checkout/{pid}",
                },
            }
            if saved:
                payment["payment_method"] = _card(saved, saved=True)
            self.payments[pid] = payment
        elif self.path.endswith("/cancel"):
            payment = self.payments[self.path.split("/")[3]]
            payment.update(status="canceled", cancellation_details={
                "party": "merchant", "reason": "canceled_by_merchant"})  # fmt: skip
        elif self.path == "/v3/refunds":
            payment = {
                "id": str(uuid.uuid4()),
                "payment_id": body["payment_id"],
                "status": "succeeded",
                "amount": body["amount"],
                "created_at": "2026-11-23T09:00:00.000Z",
            }
        else:
            self._send(404, {"type": "error", "code": "not_found"})
            return
        self.by_key[key] = payment
        self._send(200, payment)


def _card(method_id: str, *, saved: bool) -> dict[str, Any]:
    return {
        "type": "bank_card",
        "id": method_id,
        "saved": saved,
        "card": {
            "first6": "220000",
            "last4": "0004",
            "expiry_month": "12",
            "expiry_year": "2030",
            "card_type": "Mir",
        },
    }


@pytest.fixture
def yookassa(settings: Any) -> Iterator[type[FakeYooKassa]]:
    handler = type("Handler", (FakeYooKassa,), {"payments": {}, "by_key": {}, "requests": []})
    server = None
    for port in range(8250, 8300):  # the port range this project's sessions may use
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), handler)
            break
        except OSError:
            continue
    assert server is not None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PAYMENTS_GATEWAY = "yookassa"
    settings.YOOKASSA_SHOP_ID = "100500"
    settings.YOOKASSA_SECRET_KEY = "test_secret"
    settings.YOOKASSA_API_URL = f"http://127.0.0.1:{server.server_port}/v3"
    yield handler
    server.shutdown()
    server.server_close()


def _pay(user: Any, lines: list[Any], key: str, **kw: Any) -> Payment:
    args: dict[str, Any] = {"consent": True, "card_id": None, "save_card": True}
    args.update(kw)
    return services.payment_start(
        user=user, lines=lines, idempotency_key=key, site_url=SITE, now=NOW, **args
    ).payment


def test_payment_sends_receipt_and_redirect_with_a_deterministic_key(
    customer: Any, yookassa: type[FakeYooKassa]
) -> None:
    first, second = owing_accounts(customer)
    customer.email = "petrov@example.ru"
    customer.save()

    payment = _pay(
        customer,
        [
            services.LineInput(first.pk, heating().pk, "1500.00"),
            services.LineInput(second.pk, heating().pk, "900.00"),
        ],
        "ykassa-key-0001",
    )

    assert payment.status == "pending"
    assert payment.confirmation_url.startswith("https://yoomoney.example/checkout/")
    (sent,) = yookassa.requests
    assert sent["key"] == f"abonent:payment:{payment.pk}:create"
    assert sent["auth"].startswith("Basic ")
    body = sent["body"]
    assert body["amount"] == {"value": "2400.00", "currency": "RUB"}
    assert body["capture"] is True
    assert body["save_payment_method"] is True
    assert body["confirmation"] == {
        "type": "redirect",
        "return_url": f"http://testserver/pay/result/{payment.pk}/",
    }
    assert body["receipt"]["customer"] == {"email": "petrov@example.ru"}
    assert [(i["description"], i["amount"]["value"], i["payment_subject"], i["vat_code"])
            for i in body["receipt"]["items"]] == [
        ("Отопление, ЛС 240100000001", "1500.00", "service", 1),
        ("Отопление, ЛС 240100000002", "900.00", "service", 1),
    ]  # fmt: skip
    assert "payment_order" not in body  # two ЛС: no single utility payment order


def test_single_account_payment_carries_payment_order_and_saved_card_pays_at_once(
    customer: Any, yookassa: type[FakeYooKassa]
) -> None:
    first, _ = owing_accounts(customer)
    card = SavedCard.objects.create(
        user=customer, gateway="yookassa", token="pm-2f4b", brand="Mir", last4="0004",
        exp_month=12, exp_year=2030, created_at=NOW,
    )  # fmt: skip

    payment = _pay(
        customer,
        [services.LineInput(first.pk, hot_water().pk, "320.40")],
        "ykassa-key-0002",
        card_id=card.pk,
        save_card=False,
    )

    assert payment.status == "succeeded"
    assert balance(first, hot_water()) == Decimal("0.00")
    body = yookassa.requests[0]["body"]
    assert body["payment_method_id"] == "pm-2f4b"
    assert body["receipt"]["customer"] == {"phone": "79131112233"}
    order = body["payment_order"]
    assert order["type"] == "utilities"
    assert order["account_number"] == "240100000001"
    assert order["amount"] == {"value": "320.40", "currency": "RUB"}
    assert order["recipient"]["inn"] == "1901067718"
    assert order["recipient"]["bank"]["bic"] == "040407627"
    assert order["payment_period"] == {"month": 11, "year": 2026}


def test_notification_from_yookassa_address_is_confirmed_by_fetching(
    client: Any, customer: Any, yookassa: type[FakeYooKassa]
) -> None:
    first, _ = owing_accounts(customer)
    payment = _pay(
        customer, [services.LineInput(first.pk, heating().pk, "1500")], "ykassa-key-0003"
    )
    state = yookassa.payments[str(payment.gateway_payment_id)]
    body = json.dumps({"type": "notification", "event": "payment.succeeded",
                       "object": {**state, "status": "succeeded"}})  # fmt: skip

    # the notification claims «succeeded», but the API still says «pending»: nothing moves
    claimed = client.post(
        "/api/v1/payments/webhooks/yookassa", body, content_type="application/json",
        REMOTE_ADDR="185.71.76.5",
    )  # fmt: skip
    payment.refresh_from_db()
    assert claimed.status_code == 200
    assert payment.status == "pending"

    # the customer paid; YooKassa says so in its API; a (new) notification arrives
    state.update(status="succeeded", paid=True, payment_method=_card("pm-new", saved=True))
    body = json.dumps({"type": "notification", "event": "payment.succeeded", "object": state})
    applied = client.post(
        "/api/v1/payments/webhooks/yookassa", body, content_type="application/json",
        REMOTE_ADDR="77.75.156.11",
    )  # fmt: skip

    payment.refresh_from_db()
    assert (applied.status_code, applied.json()) == (200, {"status": "applied"})
    assert payment.status == "succeeded"
    assert balance(first, heating()) == Decimal("0.00")
    card = SavedCard.objects.get(user=customer)
    assert (card.token, card.brand, card.last4, card.exp_year) == ("pm-new", "Mir", "0004", 2030)


def test_notification_from_an_unknown_address_is_refused_and_changes_nothing(
    client: Any, customer: Any, yookassa: type[FakeYooKassa], settings: Any
) -> None:
    first, _ = owing_accounts(customer)
    payment = _pay(
        customer, [services.LineInput(first.pk, heating().pk, "1500")], "ykassa-key-0004"
    )
    yookassa.payments[str(payment.gateway_payment_id)]["status"] = "succeeded"
    body = json.dumps({"type": "notification", "event": "payment.succeeded",
                       "object": yookassa.payments[str(payment.gateway_payment_id)]})  # fmt: skip

    direct = client.post(
        "/api/v1/payments/webhooks/yookassa", body, content_type="application/json",
        REMOTE_ADDR="203.0.113.7",
    )  # fmt: skip
    # a forged X-Forwarded-For is ignored without trusted proxies in front
    forged = client.post(
        "/api/v1/payments/webhooks/yookassa", body, content_type="application/json",
        REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="185.71.76.5",
    )  # fmt: skip

    assert (direct.status_code, direct.json()["code"]) == (403, "unknown_source")
    assert forged.status_code == 403
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert GatewayEvent.objects.count() == 0

    # behind one trusted proxy, the address it saw is believed
    settings.TRUSTED_PROXY_COUNT = 1
    proxied = client.post(
        "/api/v1/payments/webhooks/yookassa", body, content_type="application/json",
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="185.71.76.5",
    )  # fmt: skip
    assert proxied.status_code == 200


def test_card_check_hold_is_canceled_and_refund_goes_through_sdk(
    customer: Any, yookassa: type[FakeYooKassa], admin_user: Any
) -> None:
    check = services.card_check_start(user=customer, site_url=SITE, now=NOW)
    assert yookassa.requests[0]["body"]["capture"] is False
    assert yookassa.requests[0]["body"]["amount"]["value"] == "10.00"
    yookassa.payments[str(check.gateway_payment_id)].update(
        status="waiting_for_capture", payment_method=_card("pm-check", saved=True)
    )

    services.payment_refresh(payment=check, now=NOW)  # the release runs on commit (eager job)
    services.card_check_release(payment_id=check.pk, now=NOW)

    check.refresh_from_db()
    assert check.status == "canceled"
    assert yookassa.requests[-1]["path"] == f"/v3/payments/{check.gateway_payment_id}/cancel"
    assert yookassa.requests[-1]["key"] == f"abonent:payment:{check.pk}:cancel"
    assert SavedCard.objects.get().token == "pm-check"

    first, _ = owing_accounts(customer)
    paid = _pay(
        customer, [services.LineInput(first.pk, heating().pk, "100")], "ykassa-key-0005",
        card_id=SavedCard.objects.get().pk, save_card=False,
    )  # fmt: skip
    refund = services.refund_create(
        payment_id=paid.pk, amount="40", actor=admin_user, reason="", now=NOW
    )
    assert refund.status == "succeeded"
    assert yookassa.requests[-1]["path"] == "/v3/refunds"
    assert yookassa.requests[-1]["key"] == f"abonent:refund:{refund.pk}"


def test_unknown_payment_at_yookassa_is_a_gateway_error(yookassa: type[FakeYooKassa]) -> None:
    from abonent.payments.gateways.yookassa.gateway import YooKassaGateway

    with pytest.raises(GatewayError):
        YooKassaGateway().get_payment("no-such-payment")
