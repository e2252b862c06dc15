"""Signing a browser in and out: shared by the web views and the API's session mode."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpRequest

from abonent.core import clock
from abonent.core.http import client_ip, user_agent
from abonent.identity import services
from abonent.identity.models import User

BACKEND = "abonent.identity.backends.LoginBackend"


def session_sign_in(request: HttpRequest, user: User) -> None:
    login(request, user, backend=BACKEND)  # rotates the session key (no fixation)
    services.device_open_web(
        user=user,
        session=request.session,
        ip=client_ip(request),
        user_agent=user_agent(request),
        now=clock.now(),
    )


def session_sign_out(request: HttpRequest) -> None:
    device_id = request.session.get("device_id")
    if device_id:
        services.device_revoke_current(device_id=device_id, now=clock.now())
    logout(request)


def current_device_id(request: HttpRequest) -> int | None:
    device = getattr(request, "device", None)
    if device is not None:
        return int(device.pk)
    session = getattr(request, "session", None)
    return session.get("device_id") if session is not None else None


def session_keep_after_password_change(request: HttpRequest, user: User) -> None:
    """The password change rotated the stamp: re-sign this session and follow its new key."""
    from django.contrib.auth import update_session_auth_hash

    update_session_auth_hash(request, user)
    device_id = request.session.get("device_id")
    if device_id and request.session.session_key:
        services.device_session_rotated(
            device_id=device_id, session_key=request.session.session_key
        )
