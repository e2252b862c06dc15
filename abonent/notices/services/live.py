"""Live badge events on the customer's own stream (/ws/events/, abonent.web.consumers).

Sent after commit, so a page never shows a notice the database does not have. A small batch
is announced at once; a fan-out's recipients are announced by background jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Count

from abonent.notices.models import Notification

log = logging.getLogger(__name__)

DIRECT_MAX = 50  # recipients announced inside the committing process; more go to jobs
ANNOUNCE_CHUNK = 1000


def _group(user_id: int) -> str:
    return f"user.{user_id}"  # the group of abonent.web.consumers.UserEventsConsumer


def unread_counts(user_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Notification.objects.filter(user_id__in=list(user_ids), read_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r["user_id"]: r["n"] for r in rows}


def user_event(user_id: int, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(_group(user_id), {"type": "user.event", "payload": payload})
    except Exception:  # the notice is stored: the badge catches up on the next page
        log.warning("user %s: live event failed", user_id, exc_info=True)


def announce(*, user_ids: Sequence[int], latest: dict[int, tuple] | None = None) -> int:
    """Send each user their unread count (and the newest notice when known)."""
    counts = unread_counts(user_ids)
    for user_id in user_ids:
        payload: dict[str, Any] = {"kind": "notifications", "unread": counts.get(user_id, 0)}
        row = (latest or {}).get(user_id)
        if row is not None:
            payload["latest"] = {
                "id": row[0],
                "title": row[2],
                "body": row[3][:300],
                "link": row[4],
                "kind": row[5],
            }
        user_event(user_id, payload)
    return len(user_ids)


def announce_after_commit(rows: Sequence[tuple]) -> None:
    """rows: (id, user_id, title, body, link, kind) of notices just stored."""
    latest: dict[int, tuple] = {}
    for row in rows:
        latest[row[1]] = row
    users = list(latest)
    if len(users) <= DIRECT_MAX:
        transaction.on_commit(lambda: announce(user_ids=users, latest=latest))
        return

    def enqueue() -> None:
        from abonent.notices.tasks import notifications_announce

        for start in range(0, len(users), ANNOUNCE_CHUNK):
            notifications_announce.delay(users[start : start + ANNOUNCE_CHUNK])

    transaction.on_commit(enqueue)


def badge_after_commit(user_id: int) -> None:
    """The count changed (read, all read): update the user's other open pages."""
    transaction.on_commit(lambda: announce(user_ids=[user_id]))
