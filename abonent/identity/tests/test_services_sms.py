"""The SMS.ru adapter (abonent.core.sms.SmsRuBackend) against a fake provider on loopback.

No network: the fake listens on 127.0.0.1 on a free port, in a thread of this process.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from abonent.core import sms
from abonent.core.sms import SmsError, SmsRuBackend

PHONE = "+79131112233"
TEXT = "Код регистрации в Абоненте: 123456. Никому его не сообщайте."
OK = {
    "status": "OK",
    "status_code": 100,
    "sms": {"79131112233": {"status": "OK", "status_code": 100, "sms_id": "000000-10000001"}},
    "balance": 4122.56,
}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0


@dataclass
class FakeSmsRu:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    reply: Reply = field(default_factory=Reply)

    def answer(
        self, status: int = 200, body: Any = None, *, raw: bytes | None = None, delay: float = 0.0
    ) -> None:
        payload = raw if raw is not None else json.dumps(body).encode()
        self.reply = Reply(status=status, body=payload, delay=delay)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables; loopback must be reached directly."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def provider() -> Iterator[FakeSmsRu]:
    state: dict[str, FakeSmsRu] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake = state["fake"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            fake.requests.append(
                {
                    "method": "POST",
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "form": dict(parse_qs(body, keep_blank_values=True)),
                }
            )
            reply = fake.reply
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout case)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    fake = FakeSmsRu(url=f"http://127.0.0.1:{port}")
    fake.answer(200, OK)
    state["fake"] = fake
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def backend(provider: FakeSmsRu) -> Callable[..., SmsRuBackend]:
    def make(*, sender: str = "Abonent", timeout: float = 2.0) -> SmsRuBackend:
        return SmsRuBackend(
            base_url=provider.url + "/", api_id="test-api-id", sender=sender, timeout=timeout
        )

    return make


def test_a_message_is_posted_and_its_id_returned(provider, backend):
    sms_id = backend().send(phone=PHONE, text=TEXT)

    assert sms_id == "000000-10000001"
    [request] = provider.requests
    assert request["method"] == "POST"
    assert request["path"] == "/sms/send"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "api_id": ["test-api-id"],
        "to": ["79131112233"],
        "msg": [TEXT],
        "json": ["1"],
        "from": ["Abonent"],
    }


def test_without_a_sender_no_from_is_posted(provider, backend):
    backend(sender="").send(phone=PHONE, text=TEXT)

    assert "from" not in provider.requests[0]["form"]


def test_a_refusal_of_the_request_raises(provider, backend):
    provider.answer(
        200, {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
    )

    with pytest.raises(SmsError, match="refused the request"):
        backend().send(phone=PHONE, text=TEXT)


def test_a_refusal_of_the_number_raises(provider, backend):
    provider.answer(
        200,
        {
            "status": "OK",
            "status_code": 100,
            "sms": {
                "79131112233": {
                    "status": "ERROR",
                    "status_code": 207,
                    "status_text": "На этот номер нельзя отправлять сообщения",
                }
            },
        },
    )

    with pytest.raises(SmsError, match="refused the message"):
        backend().send(phone=PHONE, text=TEXT)


def test_an_answer_about_another_number_raises(provider, backend):
    provider.answer(200, {"status": "OK", "sms": {"79990000000": OK["sms"]["79131112233"]}})

    with pytest.raises(SmsError):
        backend().send(phone=PHONE, text=TEXT)


def test_a_server_error_raises(provider, backend):
    provider.answer(500, {"status": "OK"})

    with pytest.raises(SmsError, match="unreachable or answered garbage"):
        backend().send(phone=PHONE, text=TEXT)


@pytest.mark.parametrize(
    "raw",
    [b"<html>502 Bad Gateway</html>", b"", b"[1, 2, 3]", b'"OK"', b"null"],
    ids=["html", "empty", "list", "string", "null"],
)
def test_a_garbage_answer_raises(provider, backend, raw):
    provider.answer(200, raw=raw)

    with pytest.raises(SmsError):
        backend().send(phone=PHONE, text=TEXT)


def test_a_provider_slower_than_the_timeout_raises(provider, backend):
    provider.answer(200, OK, delay=1.5)
    started = time.monotonic()

    with pytest.raises(SmsError, match="unreachable"):
        backend(timeout=0.2).send(phone=PHONE, text=TEXT)

    assert time.monotonic() - started < 1.2


def test_an_unreachable_provider_raises():
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = SmsRuBackend(base_url=f"http://127.0.0.1:{port}", api_id="x", sender="", timeout=1.0)

    with pytest.raises(SmsError):
        backend.send(phone=PHONE, text=TEXT)


def test_settings_choose_the_smsru_backend(settings, provider):
    settings.SMS_BACKEND = "smsru"
    settings.SMS_HTTP_URL = provider.url
    settings.SMS_HTTP_TOKEN = "from-settings"
    settings.SMS_HTTP_SENDER = "TGK"
    settings.SMS_HTTP_TIMEOUT = 3.0
    sms.get_sms_backend.cache_clear()
    try:
        chosen = sms.get_sms_backend()

        assert isinstance(chosen, SmsRuBackend)
        assert (chosen.base_url, chosen.api_id, chosen.sender, chosen.timeout) == (
            provider.url,
            "from-settings",
            "TGK",
            3.0,
        )
        assert chosen.send(phone=PHONE, text=TEXT) == "000000-10000001"
        assert provider.requests[0]["form"]["api_id"] == ["from-settings"]
    finally:
        sms.get_sms_backend.cache_clear()


def test_an_unknown_backend_is_a_configuration_error(settings):
    settings.SMS_BACKEND = "pigeon"
    sms.get_sms_backend.cache_clear()
    try:
        with pytest.raises(ValueError, match="pigeon"):
            sms.get_sms_backend()
    finally:
        sms.get_sms_backend.cache_clear()
