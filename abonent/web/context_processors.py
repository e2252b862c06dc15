from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from abonent.accounts.selectors import branch_for_user
from abonent.notices.selectors import notification_unread_count

NAV = [
    ("accounts", _("Счета"), "web:home", "wallet"),
    ("meters", _("Счётчики"), "web:meters", "gauge"),
    ("appeals", _("Обращения"), "web:appeals", "chat"),
    ("info", _("Информация"), "web:info", "bell"),
    ("profile", _("Профиль"), "identity:profile", "user"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    """The frame every page lives in: the five sections and the branch's call centre."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "shell_branch": branch_for_user(user_id=None)}
    match = getattr(request, "resolver_match", None)
    here = f"{match.namespace}:{match.url_name}" if match else ""
    section = getattr(request, "section", None)
    items = []
    # The «Информация» badge (kept live by notices JS); a notices page has counted already.
    unread = getattr(request, "notices_unread", None)
    if unread is None:
        unread = notification_unread_count(user=user)
    for key, label, url_name, icon in NAV:
        active = (
            section == key
            or here == url_name
            or (key == "profile" and here.startswith("identity:"))
        )
        items.append(
            {
                "key": key,
                "label": label,
                "url": reverse(url_name),
                "icon": icon,
                "active": active,
                "badge": unread if key == "info" else None,
            }
        )
    return {"nav_items": items, "shell_branch": branch_for_user(user_id=user.pk)}
