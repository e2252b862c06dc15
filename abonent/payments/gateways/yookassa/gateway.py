"""`YooKassaGateway`: payments with redirect confirmation, saved payment methods, two-stage
capture/cancel, refunds, the 54-ФЗ receipt and utility `payment_order` fields, through the
official SDK. Every call carries a deterministic Idempotence-Key.

YooKassa's notifications are not signed: they are accepted only from its published
addresses (settings.YOOKASSA_WEBHOOK_IPS) and the payment is fetched from the API before
anything is done with it (`WebhookEvent.payment` is None).
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3 import Retry
from yookassa import Configuration
from yookassa import Payment as YPayment
from yookassa import Refund as YRefund
from yookassa.client import ApiClient
from yookassa.domain.exceptions import ApiError, BadRequestError, NotFoundError

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

_configure_lock = threading.Lock()


class _TimeoutAdapter(HTTPAdapter):
    """Every request gets PAYMENTS_HTTP_TIMEOUT (connect and read)."""

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = settings.PAYMENTS_HTTP_TIMEOUT
        return super().send(request, **kwargs)


def _session_with_timeout(client: ApiClient) -> requests.Session:
    """The SDK's own session (same 202 retry), with a timeout. The SDK's `timeout` setting is
    only its retry back-off: its requests had none, so an acquirer that accepted the connection
    and never answered held the web worker for good."""
    retries = Retry(
        total=client.max_attempts,
        backoff_factor=client.timeout / 1000,
        allowed_methods=["POST"],
        status_forcelist=[202],
    )
    session = requests.Session()
    session.mount("https://", _TimeoutAdapter(max_retries=retries))
    session.mount("http://", _TimeoutAdapter(max_retries=retries))
    return session


ApiClient.get_session = _session_with_timeout


def _configure() -> None:
    """The SDK keeps its configuration on a class: set it from settings before each call."""
    with _configure_lock:
        Configuration.configure(
            settings.YOOKASSA_SHOP_ID,
            settings.YOOKASSA_SECRET_KEY,
            api_url=settings.YOOKASSA_API_URL,
            timeout=1000,
            max_attempts=1,
        )


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    return getattr(obj, name, default) if obj is not None else default


def _to_payment(obj: Any) -> GatewayPayment:
    method = _attr(obj, "payment_method")
    card = _attr(method, "card")
    info = None
    if card is not None:
        info = CardInfo(
            token=str(_attr(method, "id", "") or ""),
            brand=str(_attr(card, "card_type", "") or ""),
            last4=str(_attr(card, "last4", "") or ""),
            exp_month=int(_attr(card, "expiry_month", 1) or 1),
            exp_year=int(_attr(card, "expiry_year", 2000) or 2000),
        )
    confirmation = _attr(obj, "confirmation")
    cancellation = _attr(obj, "cancellation_details")
    refunded = _attr(obj, "refunded_amount")
    return GatewayPayment(
        id=str(obj.id),
        status=str(obj.status),
        amount=Decimal(str(obj.amount.value)),
        refunded_amount=Decimal(str(_attr(refunded, "value", "0") or "0")),
        confirmation_url=str(_attr(confirmation, "confirmation_url", "") or ""),
        card=info,
        card_saved=bool(_attr(method, "saved", False)),
        fiscal_receipt_url="",
        cancellation_reason=str(_attr(cancellation, "reason", "") or ""),
        metadata={str(k): str(v) for k, v in (_attr(obj, "metadata") or {}).items()},
    )


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    _configure()
    try:
        return fn(*args, **kwargs)
    except (BadRequestError, NotFoundError) as exc:
        raise GatewayError(str(exc), code=str(getattr(exc, "code", "") or "bad_request")) from exc
    except ApiError as exc:  # 401/403/429/5xx: no definite answer for the payment
        raise GatewayUnavailable(str(exc), code="gateway_unavailable") from exc
    except Exception as exc:  # requests' connection errors and timeouts
        raise GatewayUnavailable(repr(exc), code="gateway_unavailable") from exc


class YooKassaGateway:
    name = "yookassa"
    supports_holds = True

    def create_payment(self, request: CreatePayment) -> GatewayPayment:
        params: dict[str, Any] = {
            "amount": {"value": f"{request.amount:.2f}", "currency": "RUB"},
            "capture": request.capture,
            "description": request.description[:128],
            "metadata": dict(request.metadata),
        }
        if request.card_token:
            params["payment_method_id"] = request.card_token
            # The bank may still ask for 3-D Secure: then the customer is sent here.
            params["confirmation"] = {"type": "redirect", "return_url": request.return_url}
        else:
            params["payment_method_data"] = {"type": "bank_card"}
            params["confirmation"] = {"type": "redirect", "return_url": request.return_url}
            params["save_payment_method"] = request.save_card
        receipt = receipt_json(request.receipt)
        if receipt:
            params["receipt"] = receipt
        if request.client_ip:
            params["client_ip"] = request.client_ip
        order = request.payee_order
        if order is not None:
            params["payment_order"] = {
                "type": "utilities",
                "amount": {"value": f"{order.amount:.2f}", "currency": "RUB"},
                "payment_purpose": order.purpose[:210],
                "recipient": {
                    "name": order.payee_name,
                    "inn": order.payee_inn,
                    "kpp": order.payee_kpp,
                    "bank": {
                        "name": order.bank_name,
                        "bic": order.bank_bic,
                        "account": order.bank_account,
                        "correspondent_account": order.bank_corr_account,
                    },
                },
                "account_number": order.account_number[:30],
                "payment_period": {"month": order.month, "year": order.year},
            }
        obj = _call(YPayment.create, params, request.idempotence_key)
        return _to_payment(obj)

    def get_payment(self, payment_id: str) -> GatewayPayment:
        return _to_payment(_call(YPayment.find_one, payment_id))

    def capture(self, payment_id: str, *, amount: Decimal, idempotence_key: str) -> GatewayPayment:
        params = {"amount": {"value": f"{amount:.2f}", "currency": "RUB"}}
        return _to_payment(_call(YPayment.capture, payment_id, params, idempotence_key))

    def cancel(self, payment_id: str, *, idempotence_key: str) -> GatewayPayment:
        return _to_payment(_call(YPayment.cancel, payment_id, idempotence_key))

    def refund(
        self,
        payment_id: str,
        *,
        amount: Decimal,
        idempotence_key: str,
        receipt: Receipt | None = None,
    ) -> GatewayRefund:
        params: dict[str, Any] = {
            "payment_id": payment_id,
            "amount": {"value": f"{amount:.2f}", "currency": "RUB"},
        }
        if receipt is not None:
            params["receipt"] = receipt_json(receipt)
        obj = _call(YRefund.create, params, idempotence_key)
        return GatewayRefund(
            id=str(obj.id), status=str(obj.status), amount=Decimal(str(obj.amount.value))
        )

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], client_ip: str | None
    ) -> WebhookEvent:
        if not _trusted(client_ip):
            raise WebhookRejected("unknown source address", status=403, code="unknown_source")
        try:
            data = json.loads(body)
            obj = data["object"]
            kind = str(data["event"])
            payment_id = str(obj["payment_id"] if kind.startswith("refund.") else obj["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("malformed notification", code="malformed") from exc
        # Not signed: the state (and so the event's identity) comes from the API later.
        return WebhookEvent(
            event_id="",
            kind=kind,
            payment_id=payment_id,
            payment=None,
        )


def _trusted(client_ip: str | None) -> bool:
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    for network in settings.YOOKASSA_WEBHOOK_IPS:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False
