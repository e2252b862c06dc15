from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from abonent.core.http import client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2", "10.0.0.2"),  # no proxy: the header is the client's lie
        (1, "203.0.113.9", "10.0.0.2", "203.0.113.9"),  # nginx appended what it saw
        (1, "6.6.6.6, 203.0.113.9", "10.0.0.2", "203.0.113.9"),  # a forged hop is skipped
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.5", "10.0.0.2", "203.0.113.9"),
        (1, "not-an-ip", "10.0.0.2", "10.0.0.2"),  # garbage never reaches an inet column
        (1, None, "10.0.0.2", "10.0.0.2"),
        (1, "2001:db8::1", "10.0.0.2", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_our_own_proxies(
    settings: Any, proxies: int, forwarded: str | None, remote: str, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded

    assert client_ip(request) == expected
