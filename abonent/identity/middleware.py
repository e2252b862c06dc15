from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from abonent.core import clock
from abonent.identity import services

TOUCH_EVERY_SECONDS = 300


class DeviceSessionMiddleware:
    """Keeps the browser session's device row fresh and ends sessions revoked elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        device_id = session.get("device_id") if session is not None else None
        if device_id and request.user.is_authenticated and session is not None:
            now = clock.now()
            last = session.get("device_seen", 0)
            if now.timestamp() - last > TOUCH_EVERY_SECONDS:
                if services.device_touch(device_id=device_id, now=now):
                    session["device_seen"] = int(now.timestamp())
                else:
                    logout(request)
        return self.get_response(request)
