"""Builders for notices tests: outages, push keys, and a loopback fake push service."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from abonent.accounts.models import Branch
from abonent.billing.models import Service
from abonent.notices.models import Outage, OutageAddress, OutageKind, PushSubscription
from abonent.notices.services import NotificationDraft

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Krasnoyarsk (UTC+7)


def draft(
    user: Any, *, kind: str = "bill", key: str = "bill:1", title: str = "Новая квитанция"
) -> NotificationDraft:
    return NotificationDraft(
        user_id=user.pk,
        kind=kind,
        title=title,
        body="ЛС 240100123456: к оплате 1 234,50 ₽.",
        link="/accounts/1/bills/",
        dedupe_key=key,
    )


def make_outage(
    *,
    branch: Branch,
    service: Service,
    kind: str = OutageKind.PLANNED,
    starts_at: datetime = NOW + timedelta(days=2),
    hours: int = 8,
    addresses: list[tuple[str, str, str, str]] | None = None,
    published: bool = True,
    title: str = "Ремонт теплотрассы",
) -> Outage:
    outage = Outage.objects.create(
        branch=branch,
        kind=kind,
        service=service,
        title=title,
        description="Замена задвижки.",
        starts_at=starts_at,
        expected_end_at=starts_at + timedelta(hours=hours),
        published_at=NOW if published else None,
        created_at=NOW,
        updated_at=NOW,
    )
    for settlement, street, house, building in addresses or [
        ("Красноярск", "ул. Карла Маркса", "7", "")
    ]:
        OutageAddress.objects.create(
            outage=outage, settlement=settlement, street=street, house=house, building=building
        )
    return outage


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys() -> tuple[str, str]:
    """What a browser's PushSubscription carries: a P-256 public key and a 16-byte secret."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64(point), _b64(os.urandom(16))


def subscribe(user: Any, endpoint: str) -> PushSubscription:
    p256dh, auth = browser_keys()
    return PushSubscription.objects.create(
        user=user, endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=NOW
    )


@dataclass
class FakePushService:
    """A push service on 127.0.0.1: answers each path with the status set for it (201 by
    default) and records what it received."""

    base: str = ""
    statuses: dict[str, int] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)

    def endpoint(self, name: str, status: int = 201) -> str:
        self.statuses[f"/push/{name}"] = status
        return f"{self.base}/push/{name}"


@contextmanager
def fake_push_service(settings: Any) -> Iterator[FakePushService]:
    service = FakePushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            service.received.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "size": len(body),
                }
            )
            self.send_response(service.statuses.get(self.path, 201))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBPUSH_ALLOW_LOOPBACK_HTTP = True
    settings.WEBPUSH_ALLOWED_HOSTS = ["127.0.0.1"]
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
