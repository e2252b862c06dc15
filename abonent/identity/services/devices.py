"""Sign-in, browser sessions and app devices with their bearer tokens and PINs."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from abonent.core import sql
from abonent.core.errors import (
    DomainError,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from abonent.core.services import audit_record
from abonent.identity.models import (
    Device,
    DeviceKind,
    User,
)
from abonent.identity.selectors import login_normalize
from abonent.identity.services.codes import LOGIN_FAILED, PIN_RE, _hash_secret


def login_authenticate(*, request: HttpRequest, login: str, password: str) -> User:
    """Check the password through django-axes, which counts failures and locks the login."""
    username = login_normalize(login)
    if not username or not password:
        raise ValidationFailed(LOGIN_FAILED, code="login_failed")
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        minutes = max(1, round(settings.AXES_COOLOFF_TIME * 60))
        raise TooManyRequests(
            _(
                "Слишком много неудачных попыток входа. Попробуйте через %(minutes)s мин. "
                "или восстановите пароль."
            )
            % {"minutes": minutes},
            code="login_locked",
            retry_after=minutes * 60,
        )
    if user is None or not isinstance(user, User):
        raise ValidationFailed(LOGIN_FAILED, code="login_failed")
    return user


def _device_name(user_agent: str, fallback: str) -> str:
    ua = user_agent or ""
    browser = next(
        (b for b in ("Edg", "YaBrowser", "OPR", "Firefox", "Chrome", "Safari") if b in ua), ""
    )
    names = {"Edg": "Edge", "YaBrowser": _("Яндекс Браузер"), "OPR": "Opera"}
    system = next(
        (s for s in ("Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux") if s in ua), ""
    )
    label = ", ".join(
        p for p in (names.get(browser, browser), system.replace("Mac OS", "macOS")) if p
    )
    return label or fallback


def device_open_web(
    *, user: User, session: SessionBase, ip: str | None, user_agent: str, now: datetime
) -> Device:
    """Record a signed-in browser session so it can be listed and revoked."""
    if session.session_key is None:
        session.save()
    device = Device.objects.create(
        user=user,
        kind=DeviceKind.WEB,
        name=_device_name(user_agent, _("Браузер")),
        session_key=session.session_key,
        ip=ip,
        user_agent=user_agent[:300],
        created_at=now,
        last_seen_at=now,
    )
    session["device_id"] = device.pk
    audit_record(
        now=now, action="user.login", actor=user, target=device, ip=ip, data={"kind": "web"}
    )
    return device


def device_open_app(
    *, user: User, name: str, ip: str | None, user_agent: str, now: datetime
) -> tuple[Device, str]:
    """Issue a bearer token for a phone; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        device = Device.objects.create(
            user=user,
            kind=DeviceKind.APP,
            name=(name or "").strip()[:120] or _device_name(user_agent, _("Приложение")),
            token_hash=_hash_secret(token),
            ip=ip,
            user_agent=user_agent[:300],
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=settings.DEVICE_TOKEN_IDLE_DAYS),
        )
        audit_record(
            now=now, action="user.login", actor=user, target=device, ip=ip, data={"kind": "app"}
        )
    return device, token


# Every API request of an app runs this: one statement written once (see core/sql.py).
_BY_TOKEN = (
    f"SELECT {sql.columns(Device, 'd')}, {sql.columns(User, 'u')} "  # noqa: S608 — column lists from model metadata; values bound  # nosec B608
    f"FROM {sql.table(Device)} d JOIN {sql.table(User)} u ON u.id = d.user_id "
    "WHERE d.token_hash = %s AND d.revoked_at IS NULL AND d.expires_at > %s"
)


def device_by_token(*, token: str, now: datetime) -> Device | None:
    """The live device for a bearer token; sliding expiry is refreshed at most hourly."""
    rows = sql.fetch(_BY_TOKEN, [_hash_secret(token), now], Device, User)
    if not rows:
        return None
    device, user = rows[0]
    if not user.is_active:
        return None
    Device.user.field.set_cached_value(device, user)
    if now - device.last_seen_at > timedelta(hours=1):
        device.last_seen_at = now
        device.expires_at = now + timedelta(days=settings.DEVICE_TOKEN_IDLE_DAYS)
        Device.objects.filter(pk=device.pk).update(
            last_seen_at=device.last_seen_at, expires_at=device.expires_at
        )
    return device


def device_touch(*, device_id: int, now: datetime) -> bool:
    """Mark a web session as seen; False when it was revoked meanwhile."""
    return bool(
        Device.objects.filter(pk=device_id, revoked_at__isnull=True).update(last_seen_at=now)
    )


def _devices_revoke(devices: Any, *, now: datetime) -> int:
    engine = import_module(settings.SESSION_ENGINE)
    count = 0
    for device in list(devices.filter(revoked_at__isnull=True)):
        if device.session_key:
            engine.SessionStore(session_key=device.session_key).delete()
        count += Device.objects.filter(pk=device.pk, revoked_at__isnull=True).update(
            revoked_at=now, session_key=None, token_hash=None, pin_hash="", pin_failures=0
        )
    return count


def device_revoke(*, user: User, device_id: int, now: datetime, ip: str | None = None) -> None:
    devices = Device.objects.filter(user=user, pk=device_id, revoked_at__isnull=True)
    if not devices.exists():
        raise NotFound(_("Устройство не найдено."), code="device_not_found")
    with transaction.atomic():
        _devices_revoke(devices, now=now)
        audit_record(now=now, action="device.revoke", actor=user, ip=ip, data={"device": device_id})


def devices_revoke_others(
    *, user: User, keep_device_id: int | None, now: datetime, ip: str | None = None
) -> int:
    """«Завершить все другие сеансы»: every browser and app but the one asking."""
    with transaction.atomic():
        count = _devices_revoke(
            Device.objects.filter(user=user).exclude(pk=keep_device_id or 0), now=now
        )
        audit_record(
            now=now, action="device.revoke_others", actor=user, ip=ip, data={"count": count}
        )
    return count


def device_revoke_current(*, device_id: int, now: datetime) -> None:
    """Sign-out of the current device (its session is being flushed by the caller)."""
    Device.objects.filter(pk=device_id, revoked_at__isnull=True).update(
        revoked_at=now, session_key=None, token_hash=None, pin_hash="", pin_failures=0
    )


def device_session_rotated(*, device_id: int, session_key: str) -> None:
    Device.objects.filter(pk=device_id, kind=DeviceKind.WEB).update(session_key=session_key)


def device_pin_set(*, device: Device, pin: str, now: datetime) -> None:
    if device.kind != DeviceKind.APP:
        raise ValidationFailed(_("Цифровой пароль задаётся в приложении."), code="pin_app_only")
    if not PIN_RE.match(pin or ""):
        msg = _("Цифровой пароль — от 4 до 6 цифр.")
        raise ValidationFailed(msg, code="invalid_pin", fields={"pin": [msg]})
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        msg = _(
            "Слишком простой цифровой пароль: не используйте одинаковые цифры или цифры подряд."
        )
        raise ValidationFailed(msg, code="weak_pin", fields={"pin": [msg]})
    Device.objects.filter(pk=device.pk).update(pin_hash=make_password(pin), pin_failures=0)
    audit_record(now=now, action="device.pin_set", actor=device.user, target=device)


def device_pin_remove(*, device: Device, now: datetime) -> None:
    Device.objects.filter(pk=device.pk).update(pin_hash="", pin_failures=0)
    audit_record(now=now, action="device.pin_remove", actor=device.user, target=device)


def device_pin_login(*, token: str, pin: str, now: datetime, ip: str | None) -> tuple[Device, str]:
    """Unlock a device with its PIN: the old token (even idle-expired) is swapped for a new one.

    Five wrong PINs drop the PIN and sign the device out, so the password is needed.
    """
    error: DomainError | None = None
    new_token = secrets.token_urlsafe(32)
    with transaction.atomic():
        device = (
            Device.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=_hash_secret(token or ""), revoked_at__isnull=True, kind="app")
            .first()
        )
        if device is None or not device.user.is_active:
            error = _unauthorized(_("Устройство не найдено. Войдите с паролем."))
        elif not device.pin_hash:
            error = _unauthorized(_("Цифровой пароль не задан. Войдите с паролем."), "pin_not_set")
        elif not check_password(pin or "", device.pin_hash):
            device.pin_failures += 1
            if device.pin_failures >= settings.PIN_MAX_ATTEMPTS:
                _devices_revoke(Device.objects.filter(pk=device.pk), now=now)
                audit_record(
                    now=now, action="device.pin_locked", actor=device.user, target=device, ip=ip
                )
                error = _unauthorized(
                    _("Цифровой пароль введён неверно 5 раз и сброшен. Войдите с паролем."),
                    "pin_locked",
                )
            else:
                device.save(update_fields=["pin_failures"])
                left = settings.PIN_MAX_ATTEMPTS - device.pin_failures
                msg = (
                    _("Неверный цифровой пароль.")
                    + " "
                    + _("Осталось попыток: %(left)s.") % {"left": left}
                )
                error = ValidationFailed(msg, code="pin_invalid", fields={"pin": [msg]})
        else:
            device.token_hash = _hash_secret(new_token)
            device.pin_failures = 0
            device.last_seen_at = now
            device.expires_at = now + timedelta(days=settings.DEVICE_TOKEN_IDLE_DAYS)
            device.ip = ip
            device.save(
                update_fields=["token_hash", "pin_failures", "last_seen_at", "expires_at", "ip"]
            )
    if error is not None:
        raise error
    assert device is not None  # narrowing: set whenever error is None  # nosec B101
    return device, new_token


def _unauthorized(message: str, code: str = "device_not_found") -> DomainError:
    return NotAuthenticated(message, code=code)
