"""Making notifications: the in-app rows, then one Delivery row per extra channel the customer
wants and can receive — all set-based SQL, so a fan-out to 100,000 customers is a few
statements per batch, never a loop of ORM saves. Sending happens after commit, in jobs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from abonent.notices.models import (
    DEFAULT_CHANNELS,
    Channel,
    ChannelPreference,
    Delivery,
    Notification,
    PushSubscription,
)
from abonent.notices.services import live

BATCH = 2000  # rows per INSERT (9 parameters each: under SQLite's and PostgreSQL's limits)
DISPATCH_CHUNK = 200  # deliveries per sending job


@dataclass(frozen=True)
class NotificationDraft:
    user_id: int
    kind: str
    title: str
    body: str
    link: str
    dedupe_key: str


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _insert(batch: Sequence[NotificationDraft], *, now: datetime, emergency: bool) -> list[tuple]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the rows that are new (id, user_id, title,
    body, link, kind); a draft already stored for that user and key is skipped."""
    table = Notification._meta.db_table
    row = "(%s, %s, %s, %s, %s, %s, NULL, %s, %s)"
    params: list[Any] = []
    at = _db_time(now)
    for d in batch:
        params += [d.user_id, d.kind, d.title[:200], d.body, d.link[:300], at, emergency]
        params.append(d.dedupe_key[:100])
    sql = (
        f"INSERT INTO {table} "  # noqa: S608 (table names from models, values bound)  # nosec B608
        "(user_id, kind, title, body, link, created_at, read_at, emergency, dedupe_key) "
        f"VALUES {', '.join([row] * len(batch))} "
        "ON CONFLICT (user_id, dedupe_key) DO NOTHING "
        "RETURNING id, user_id, title, body, link, kind"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _default_pairs() -> str:
    pairs = sorted(
        f"'{kind}:{channel}'" for kind, chans in DEFAULT_CHANNELS.items() for channel in chans
    )
    return ", ".join(pairs)


def deliveries_plan(*, where: str, params: Sequence[Any], now: datetime) -> list[int]:
    """One pending Delivery per notification matched by `where` (SQL on alias `n`) and per
    channel the customer chose (or the default) and can receive: push with a subscription,
    SMS with a phone, e-mail with an address. Existing rows are kept (the unique pair), so a
    re-run plans nothing twice. Returns the new deliveries' ids."""
    user = get_user_model()._meta.db_table
    channels = ", ".join(f"('{c}')" for c in Channel.values)
    at = _db_time(now)
    sql = f"""
WITH ch(channel) AS (VALUES {channels})
INSERT INTO {Delivery._meta.db_table}
  (notification_id, channel, state, attempts, due_at, queued_at, last_error)
SELECT n.id, ch.channel, 'pending', 0, %s, %s, ''
FROM {Notification._meta.db_table} n
JOIN {user} u ON u.id = n.user_id
CROSS JOIN ch
LEFT JOIN {ChannelPreference._meta.db_table} p
  ON p.user_id = n.user_id AND p.kind = n.kind AND p.channel = ch.channel
WHERE ({where})
  AND u.is_active AND u.deleted_at IS NULL
  AND COALESCE(p.enabled, (n.kind || ':' || ch.channel) IN ({_default_pairs()}))
  AND CASE ch.channel
    WHEN 'push' THEN EXISTS (
      SELECT 1 FROM {PushSubscription._meta.db_table} s WHERE s.user_id = n.user_id)
    WHEN 'sms' THEN u.phone IS NOT NULL
    ELSE u.email IS NOT NULL END
ON CONFLICT (notification_id, channel) DO NOTHING
RETURNING id"""  # noqa: S608 (identifiers from models and code, values bound)  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [at, at, *params])
        return [r[0] for r in cursor.fetchall()]


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def dispatch_after_commit(delivery_ids: Sequence[int]) -> None:
    """Queue the sending jobs once the rows are committed (a job never sees a missing row)."""
    if not delivery_ids:
        return
    ids = list(delivery_ids)

    def enqueue() -> None:
        from abonent.notices.tasks import deliveries_send  # tasks import services

        for chunk in _chunks(ids, DISPATCH_CHUNK):
            deliveries_send.delay(chunk)

    transaction.on_commit(enqueue)


def notifications_create(
    *, drafts: Iterable[NotificationDraft], now: datetime, emergency: bool = False
) -> int:
    """Store in-app notices in batches and plan their deliveries; one already stored (same
    user and key) is skipped, so a retried job notifies nobody twice. After commit the
    deliveries go to the sending jobs and each recipient's open pages get a live badge
    event. `emergency` ignores quiet hours (an emergency outage). Returns how many drafts
    were offered."""
    offered = 0
    iterator: Iterator[NotificationDraft] = iter(drafts)
    while batch := list(islice(iterator, BATCH)):
        with transaction.atomic():
            created = _insert(batch, now=now, emergency=emergency)
            if created:
                ids = [r[0] for r in created]
                marks = ", ".join(["%s"] * len(ids))
                deliveries = deliveries_plan(where=f"n.id IN ({marks})", params=ids, now=now)
                dispatch_after_commit(deliveries)
                live.announce_after_commit(created)
        offered += len(batch)
    return offered
