from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from abonent.identity.models import Device, User
from abonent.identity.phones import normalize_phone


def login_normalize(login: str) -> str:
    """A phone becomes E.164, an e-mail lower case; anything else is returned stripped."""
    login = (login or "").strip()
    if "@" in login:
        return login.lower()
    try:
        return normalize_phone(login)
    except Exception:
        return login


def user_by_login(*, login: str) -> User | None:
    value = login_normalize(login)
    if not value:
        return None
    field = Q(email=value) if "@" in value else Q(phone=value)
    return User.objects.filter(field, deleted_at__isnull=True).first()


def device_list(*, user: User, now: datetime) -> QuerySet[Device]:
    """Live devices: not revoked, an app token not expired (or revivable by its PIN), a browser
    session not past its cookie's age."""
    session_cutoff = now - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return (
        Device.objects.filter(user=user, revoked_at__isnull=True)
        .exclude(kind="app", expires_at__lte=now, pin_hash="")
        .exclude(kind="web", last_seen_at__lte=session_cutoff)
    )
