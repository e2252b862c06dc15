from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. X-Forwarded-For is trusted only for the TRUSTED_PROXY_COUNT
    proxies in front of us (nginx appends the address it saw); anything a client writes
    there itself is ignored. Also axes's AXES_CLIENT_IP_CALLABLE."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR"))
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [h for h in forwarded.split(",") if h.strip()]
    if not hops:
        return remote
    return _valid_ip(hops[-min(proxies, len(hops))]) or remote


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
