from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from abonent.notices.models import Notification

BATCH = 5000


@dataclass(frozen=True)
class NotificationDraft:
    user_id: int
    kind: str
    title: str
    body: str
    link: str
    dedupe_key: str


def notifications_create(*, drafts: Iterable[NotificationDraft], now: datetime) -> int:
    """Store in-app notices in batches; one already stored (same user and key) is skipped, so a
    retried job notifies nobody twice. Returns how many drafts were offered."""
    offered = 0
    iterator: Iterator[NotificationDraft] = iter(drafts)
    while batch := list(islice(iterator, BATCH)):
        rows = [
            Notification(
                user_id=d.user_id,
                kind=d.kind,
                title=d.title,
                body=d.body,
                link=d.link,
                created_at=now,
                dedupe_key=d.dedupe_key,
            )
            for d in batch
        ]
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        offered += len(rows)
    return offered
