"""`SandboxGateway`: the sandbox acquirer's client. HTTP only (httpx), so replacing the
sandbox with a real acquirer changes configuration, not code."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings

from abonent.payments.gateways.protocol import (
    CardInfo,
    CreatePayment,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    GatewayUnavailable,
    Receipt,
    WebhookEvent,
    WebhookRejected,
    receipt_json,
)
from abonent.payments.gateways.sandbox.http import http_client

SIGNATURE_HEADER = "X-Sandbox-Signature"


def payment_from_json(data: Mapping[str, Any]) -> GatewayPayment:
    card = data.get("card") or None
    return GatewayPayment(
        id=str(data["id"]),
        status=str(data["status"]),
        amount=Decimal(str(data["amount"])),
        refunded_amount=Decimal(str(data.get("refunded_amount") or "0")),
        confirmation_url=str(data.get("confirmation_url") or ""),
        card=CardInfo(
            token=str(card.get("token") or ""),
            brand=str(card.get("brand") or ""),
            last4=str(card.get("last4") or ""),
            exp_month=int(card.get("exp_month") or 1),
            exp_year=int(card.get("exp_year") or 2000),
        )
        if card
        else None,
        card_saved=bool(data.get("card_saved")),
        fiscal_receipt_url=str(data.get("fiscal_receipt_url") or ""),
        cancellation_reason=str(data.get("cancellation_reason") or ""),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


class SandboxGateway:
    name = "sandbox"
    supports_holds = True

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = (base_url or settings.PAYMENTS_SANDBOX_URL).rstrip("/")

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        idempotence_key: str = "",
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {settings.PAYMENTS_SANDBOX_SHOP_SECRET}"}
        if idempotence_key:
            headers["Idempotence-Key"] = idempotence_key
        try:
            with http_client() as client:
                response = client.request(
                    method, f"{self.base_url}{path}", json=body, headers=headers
                )
        except httpx.HTTPError as exc:  # timeout, refused, reset: the outcome is unknown
            raise GatewayUnavailable(
                f"sandbox acquirer: {exc!r}", code="gateway_unavailable"
            ) from exc
        if response.status_code >= 500:
            raise GatewayUnavailable(
                f"sandbox acquirer: HTTP {response.status_code}", code="gateway_unavailable"
            )
        try:
            data = response.json()
        except ValueError as exc:
            raise GatewayUnavailable("sandbox acquirer: not JSON") from exc
        if response.status_code >= 400:
            raise GatewayError(str(data.get("message", "")), code=str(data.get("code", "error")))
        return dict(data)

    def create_payment(self, request: CreatePayment) -> GatewayPayment:
        body = {
            "amount": f"{request.amount:.2f}",
            "description": request.description,
            "return_url": request.return_url,
            "capture": request.capture,
            "save_card": request.save_card,
            "card_token": request.card_token,
            "receipt": receipt_json(request.receipt),
            "metadata": dict(request.metadata),
        }
        data = self._call(
            "POST", "/api/payments", body=body, idempotence_key=request.idempotence_key
        )
        return payment_from_json(data)

    def get_payment(self, payment_id: str) -> GatewayPayment:
        return payment_from_json(self._call("GET", f"/api/payments/{payment_id}"))

    def capture(self, payment_id: str, *, amount: Decimal, idempotence_key: str) -> GatewayPayment:
        data = self._call(
            "POST",
            f"/api/payments/{payment_id}/capture",
            body={"amount": f"{amount:.2f}"},
            idempotence_key=idempotence_key,
        )
        return payment_from_json(data)

    def cancel(self, payment_id: str, *, idempotence_key: str) -> GatewayPayment:
        data = self._call(
            "POST", f"/api/payments/{payment_id}/cancel", body={}, idempotence_key=idempotence_key
        )
        return payment_from_json(data)

    def refund(
        self,
        payment_id: str,
        *,
        amount: Decimal,
        idempotence_key: str,
        receipt: Receipt | None = None,
    ) -> GatewayRefund:
        data = self._call(
            "POST",
            "/api/refunds",
            body={
                "payment_id": payment_id,
                "amount": f"{amount:.2f}",
                "receipt": receipt_json(receipt),
            },
            idempotence_key=idempotence_key,
        )
        return GatewayRefund(
            id=str(data["id"]), status=str(data["status"]), amount=Decimal(str(data["amount"]))
        )

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], client_ip: str | None
    ) -> WebhookEvent:
        """Signed with HMAC-SHA256 over the raw body: a bad or missing signature is refused."""
        given = headers.get(SIGNATURE_HEADER, "")
        secret = settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET.encode()
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected("bad signature", status=403, code="bad_signature")
        try:
            data = json.loads(body)
            obj = data["object"]
            return WebhookEvent(
                event_id=str(data["id"]),
                kind=str(data["event"]),
                payment_id=str(obj["id"]),
                payment=payment_from_json(obj),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("malformed notification", code="malformed") from exc
