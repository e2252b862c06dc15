"""The HTTP client the sandbox gateway and the sandbox bank's notifier use.

Tests may route it in-process: `http.TRANSPORT = httpx.WSGITransport(app=...)`.
"""

from __future__ import annotations

import httpx
from django.conf import settings

TRANSPORT: httpx.BaseTransport | None = None


def http_client(**kwargs: object) -> httpx.Client:
    return httpx.Client(
        transport=TRANSPORT,
        timeout=settings.PAYMENTS_HTTP_TIMEOUT,
        follow_redirects=False,
        **kwargs,  # type: ignore[arg-type]
    )
