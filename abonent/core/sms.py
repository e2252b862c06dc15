"""Sending SMS: only this module talks to an SMS provider; the rest sees `SmsBackend`."""

from __future__ import annotations

import fcntl
import json
import logging
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import httpx
from django.conf import settings

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The provider did not accept the message; the job may retry."""


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str, key: str = "") -> str:
        """Send one message to an E.164 number; return the provider's message id. `key` is
        the message's idempotency key: a provider that knows it already does not send the
        message again (a job retried after a crash re-sends with the same key)."""
        ...


class OutboxSmsBackend:
    """The embedded default: prints the message and appends it to a JSON-lines file. Like a
    provider with idempotency keys, it does not write a message whose key the file has
    (also one written by another process: the file is read on, incrementally, under its
    lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._keys: set[str] = set()
        self._read = 0  # bytes of the file whose keys are in _keys

    def _catch_up(self, fh: Any) -> None:
        size = fh.seek(0, 2)
        if size < self._read:  # the file was emptied or replaced
            self._keys.clear()
            self._read = 0
        fh.seek(self._read)
        for line in fh:
            if '"key": ' in line:
                self._keys.add(json.loads(line).get("key", ""))
        self._read = fh.tell()

    def send(self, *, phone: str, text: str, key: str = "") -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        at = datetime.now(tz=UTC).isoformat(timespec="seconds")
        record = {"at": at, "phone": phone, "text": text}
        if key:
            record["key"] = key
        with self.path.open("a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            self._catch_up(fh)
            if key and key in self._keys:
                log.info("SMS %s already sent: not sent again", key)
                return f"outbox-{key}"
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            self._read = fh.tell()
            if key:
                self._keys.add(key)
        log.info("SMS to %s: %s", phone, text)
        return f"outbox-{key or at}"


class SmsRuBackend:
    """SMS.ru's HTTP API (`/sms/send?json=1`): one GET per message, status 100 means accepted.
    SMS.ru takes no idempotency key: a message re-sent after a crash may arrive twice."""

    def __init__(self, *, base_url: str, api_id: str, sender: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_id = api_id
        self.sender = sender
        self.timeout = timeout

    def send(self, *, phone: str, text: str, key: str = "") -> str:
        to = phone.lstrip("+")
        params = {"api_id": self.api_id, "to": to, "msg": text, "json": "1"}
        if self.sender:
            params["from"] = self.sender
        try:
            response = httpx.post(f"{self.base_url}/sms/send", data=params, timeout=self.timeout)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SmsError(f"SMS provider unreachable or answered garbage: {exc}") from exc
        if not isinstance(body, dict) or body.get("status") != "OK":
            raise SmsError(f"SMS provider refused the request: {body!r:.200}")
        result = (body.get("sms") or {}).get(to) or {}
        if result.get("status") != "OK":
            raise SmsError(f"SMS provider refused the message: {result!r:.200}")
        return str(result.get("sms_id", ""))


@cache
def get_sms_backend() -> SmsBackend:
    if settings.SMS_BACKEND == "outbox":
        return OutboxSmsBackend(settings.SMS_OUTBOX_PATH)
    if settings.SMS_BACKEND == "smsru":
        return SmsRuBackend(
            base_url=settings.SMS_HTTP_URL or "https://sms.ru",
            api_id=settings.SMS_HTTP_TOKEN,
            sender=settings.SMS_HTTP_SENDER,
            timeout=settings.SMS_HTTP_TIMEOUT,
        )
    raise ValueError(f"Unknown SMS_BACKEND {settings.SMS_BACKEND!r}")
