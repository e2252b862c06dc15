"""Web Push (RFC 8030 + VAPID) through pywebpush: the only module that talks to push services.

Keys come from settings (WEBPUSH_VAPID_PUBLIC_KEY / WEBPUSH_VAPID_PRIVATE_KEY, base64url:
the uncompressed P-256 point and the 32-byte private number). Outside production a missing
pair is generated once into var/ so that `make run` works without configuration.
Endpoints are accepted only at the browsers' push services (WEBPUSH_ALLOWED_HOSTS): the
server never POSTs to an arbitrary address a client gave it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

log = logging.getLogger(__name__)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_generate() -> tuple[str, str]:
    """A new (public, private) VAPID pair in the base64url forms the settings take."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return _b64url(public), _b64url(private)


@cache
def vapid_keys() -> tuple[str, str] | None:
    """(public, private) or None when push is not configured (production without keys)."""
    if settings.WEBPUSH_VAPID_PUBLIC_KEY and settings.WEBPUSH_VAPID_PRIVATE_KEY:
        return settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY
    if getattr(settings, "PRODUCTION", False):
        return None
    path = settings.WEBPUSH_DEV_KEYS_PATH
    try:
        data = json.loads(path.read_text())
        return data["public"], data["private"]
    except (OSError, ValueError, KeyError):
        public, private = vapid_generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"public": public, "private": private}))
        path.chmod(0o600)
        return public, private


def public_key() -> str:
    keys = vapid_keys()
    return keys[0] if keys else ""


def endpoint_allowed(endpoint: str) -> bool:
    """An https URL at one of the browsers' push services (a leading dot = any subdomain)."""
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        return False
    loopback_ok = getattr(settings, "WEBPUSH_ALLOW_LOOPBACK_HTTP", False)
    if parts.scheme != "https" and not (loopback_ok and host == "127.0.0.1"):
        return False
    for allowed in settings.WEBPUSH_ALLOWED_HOSTS:
        allowed = allowed.lower()
        if host == allowed or (allowed.startswith(".") and host.endswith(allowed)):
            return True
    return False


def keys_valid(*, p256dh: str, auth: str) -> bool:
    """The browser's key is a P-256 point and its auth secret 16 bytes (else encryption fails)."""
    try:
        point = _b64url_decode(p256dh)
        secret = _b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        return False
    return len(secret) == 16


class PushGone(Exception):
    """The push service says the subscription no longer exists (404/410): drop it."""


class PushRetry(Exception):
    """Not delivered now (network, 429, 5xx): try again later."""


class PushRejected(Exception):
    """Refused for good (another 4xx: a bad key, too large…)."""


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    url: str
    tag: str

    def payload(self) -> str:
        return json.dumps(
            {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag},
            ensure_ascii=False,
        )


_local = threading.local()


def _requests_session() -> requests.Session:
    """One keep-alive session per thread (a worker sends many messages to the same hosts)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _headers(message: PushMessage) -> dict[str, str | int | float]:
    headers: dict[str, str | int | float] = {"Urgency": "normal"}
    topic = re.sub(r"[^A-Za-z0-9_-]", "", message.tag)[:32]
    if topic:  # a newer message with the same topic replaces an undelivered one
        headers["Topic"] = topic
    return headers


def push_send(*, endpoint: str, p256dh: str, auth: str, message: PushMessage) -> None:
    """Encrypt and POST one message; raises PushGone, PushRetry or PushRejected."""
    keys = vapid_keys()
    if keys is None:
        raise PushRejected("Web Push is not configured (no VAPID keys)")
    if not endpoint_allowed(endpoint):
        raise PushGone("endpoint not at an allowed push service")
    claims: dict[str, Any] = {"sub": settings.WEBPUSH_VAPID_SUBJECT}
    try:
        webpush(
            subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=message.payload(),
            vapid_private_key=Vapid02.from_raw(keys[1].encode()),  # RFC 8292 "vapid t=, k="
            vapid_claims=claims,
            timeout=settings.WEBPUSH_TIMEOUT,
            ttl=24 * 60 * 60,
            headers=_headers(message),
            requests_session=_requests_session(),
        )
    except WebPushException as exc:
        status = exc.status_code
        if status in (404, 410):
            raise PushGone(f"push service answered {status}") from exc
        if status is None or status == 429 or status >= 500:
            raise PushRetry(f"push service answered {status}") from exc
        raise PushRejected(f"push service answered {status}") from exc
    except requests.RequestException as exc:
        raise PushRetry(f"push service unreachable: {exc.__class__.__name__}") from exc
    except (ValueError, TypeError) as exc:  # a key the encryption cannot use
        raise PushRejected(f"cannot encrypt for this subscription: {exc}") from exc
