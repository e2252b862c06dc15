"""Acquirers behind one `PaymentGateway` protocol; `gateway_get(name)` picks one by name."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from abonent.payments.gateways.protocol import PaymentGateway

GATEWAYS = {
    "sandbox": "abonent.payments.gateways.sandbox.gateway.SandboxGateway",
    "yookassa": "abonent.payments.gateways.yookassa.gateway.YooKassaGateway",
}

# Tests may put a fake here: {"sandbox": FakeGateway()}.
OVERRIDES: dict[str, PaymentGateway] = {}


def gateway_names() -> list[str]:
    return list(GATEWAYS)


def gateway_get(name: str | None = None) -> PaymentGateway:
    """The gateway called `name` (default: settings.PAYMENTS_GATEWAY)."""
    name = name or settings.PAYMENTS_GATEWAY
    if name in OVERRIDES:
        return OVERRIDES[name]
    if name not in GATEWAYS:
        raise KeyError(name)
    gateway: PaymentGateway = import_string(GATEWAYS[name])()
    return gateway
