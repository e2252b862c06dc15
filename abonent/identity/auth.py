"""API auth: a per-device bearer token for apps, the session cookie (+CSRF) for the web."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from abonent.core import clock
from abonent.identity import services


class DeviceTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        device = services.device_by_token(token=token, now=clock.now())
        if device is None:
            return None
        request.user = device.user
        request.device = device  # type: ignore[attr-defined]
        return device.user


class CabinetSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        # A request that presents a bearer token stands or falls by it: a revoked or expired
        # token is not rescued by a session cookie that happens to ride along.
        if request.headers.get("Authorization"):
            return None
        user = super().authenticate(request, key)
        if user is not None:
            request.device = None  # type: ignore[attr-defined]
        return user


customer_auth = [DeviceTokenAuth(), CabinetSessionAuth()]
