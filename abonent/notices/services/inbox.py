"""The customer's own list: mark one or all notifications read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from abonent.core.errors import NotFound
from abonent.notices.models import Notification
from abonent.notices.services import live


def notification_mark_read(*, user: Any, notification_id: int, now: datetime) -> Notification:
    """Mark one of the customer's notifications read (again: no change). Another
    customer's is simply not found."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, user_id=user.pk)
            .first()
        )
        if notification is None:
            raise NotFound(_("Оповещение не найдено."), code="notification_not_found")
        if notification.read_at is None:
            notification.read_at = now
            notification.save(update_fields=["read_at"])
            live.badge_after_commit(user.pk)
    return notification


def notifications_mark_all_read(*, user: Any, now: datetime, kind: str | None = None) -> int:
    """Mark every unread notification read (of one kind, when given); returns how many."""
    with transaction.atomic():
        unread = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
        if kind:
            unread = unread.filter(kind=kind)
        marked = unread.update(read_at=now)
        if marked:
            live.badge_after_commit(user.pk)
    return marked
