from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from abonent.identity.models import User
from abonent.identity.selectors import login_normalize, user_by_login


class LoginBackend(ModelBackend):
    """Password sign-in by phone (any common spelling) or e-mail."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        user = user_by_login(login=username)
        if user is None:
            # Same work as a real check, so the answer's timing does not tell who exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Axes counts failures per normalized login, so "8 999…" and "+7 999…" are one."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return login_normalize(str(raw))
