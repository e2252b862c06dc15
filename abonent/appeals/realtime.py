"""Live delivery of a thread over Channels: groups per appeal and side, presence counters.

A message is stored first; services call `broadcast` from `transaction.on_commit`, so a
socket never shows a message the database does not have. Each side has its own group: the
customer's never receives internal notes.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.layers import get_channel_layer
from django.core.cache import cache

from abonent.appeals.models import Side
from abonent.core.channels import group_send

log = logging.getLogger(__name__)

PRESENCE_TTL = 90  # seconds; the page pings every 30 s and refreshes it


def appeal_group(appeal_id: int, side: str) -> str:
    return f"appeal.{appeal_id}.{side}"


def _presence_key(appeal_id: int, side: str) -> str:
    return f"appeals:online:{appeal_id}:{side}"


def presence_join(appeal_id: int, side: str) -> None:
    key = _presence_key(appeal_id, side)
    cache.add(key, 0, PRESENCE_TTL)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, PRESENCE_TTL)
    cache.touch(key, PRESENCE_TTL)


def presence_touch(appeal_id: int, side: str) -> None:
    cache.touch(_presence_key(appeal_id, side), PRESENCE_TTL)


def presence_leave(appeal_id: int, side: str) -> None:
    key = _presence_key(appeal_id, side)
    try:
        if cache.decr(key) <= 0:
            cache.delete(key)
    except ValueError:
        pass


def is_online(appeal_id: int, side: str) -> bool:
    """Someone of that side has this thread open right now."""
    return (cache.get(_presence_key(appeal_id, side)) or 0) > 0


def broadcast(appeal_id: int, payload: dict[str, Any], *, internal: bool = False) -> None:
    """Send an event to the thread's open sockets (the operators' only when `internal`)."""
    layer = get_channel_layer()
    if layer is None:
        return
    sides = [Side.OPERATOR] if internal else [Side.CUSTOMER, Side.OPERATOR]
    try:
        for side in sides:
            group_send(
                layer, appeal_group(appeal_id, side), {"type": "appeal.event", "payload": payload}
            )
    except Exception:  # the message is stored: a client catches up on reconnect
        log.warning("appeal %s: live delivery failed", appeal_id, exc_info=True)


def user_event(user_id: int, payload: dict[str, Any]) -> None:
    """A badge event on the customer's own stream (/ws/events/)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        group_send(
            layer,
            f"user.{user_id}",
            {  # the group of abonent.web.consumers
                "type": "user.event",
                "payload": payload,
            },
        )
    except Exception:
        log.warning("user %s: live event failed", user_id, exc_info=True)
