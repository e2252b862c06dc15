from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client address as axes sees it (honours TRUSTED_PROXY_COUNT behind a proxy)."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or None


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
