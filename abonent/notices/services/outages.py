"""Outages: publication by staff and the notices to customers whose linked ЛС are at the
affected houses or streets.

The fan-out never runs in the web request: saving in the admin schedules a job after
commit; the job splits the recipients into user-id ranges and each range is one batch (its
own transaction, a job of its own): one INSERT … SELECT of the notices with the address
match in SQL, one INSERT … SELECT of their deliveries. Every notice has a key per outage
and event, so a re-run or a retried batch notifies nobody twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import dateformat
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink, Address, PersonalAccount
from abonent.core.services import audit_record
from abonent.notices.models import (
    Notification,
    NotificationKind,
    Outage,
    OutageAddress,
    OutageKind,
    OutageUpdate,
)
from abonent.notices.services import live
from abonent.notices.services.create import _db_time, deliveries_plan, dispatch_after_commit

FAN_OUT_BATCH = 20000  # recipients per batch (one transaction, one job)
EVENTS = ("published", "reminder", "finished", "cancelled")  # and "update:<id>"


def _recipients_sql() -> str:
    """Distinct users linked to an ЛС at an address the outage covers (params: outage id)."""
    return f"""
SELECT DISTINCT l.user_id AS user_id
FROM {AccountLink._meta.db_table} l
JOIN {PersonalAccount._meta.db_table} a ON a.id = l.account_id
JOIN {Address._meta.db_table} ad ON ad.id = a.address_id
JOIN {Outage._meta.db_table} o ON o.id = %s AND ad.branch_id = o.branch_id
JOIN {OutageAddress._meta.db_table} t ON t.outage_id = o.id
  AND ad.settlement = t.settlement AND ad.street = t.street
  AND (t.house = '' OR (ad.house = t.house AND (t.building = '' OR ad.building = t.building)))
"""  # noqa: S608 (table names from models)  # nosec B608


def outage_recipient_ranges(*, outage_id: int, batch: int = FAN_OUT_BATCH) -> list[tuple[int, int]]:
    """[lo, hi] user-id ranges of at most `batch` recipients each."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.user_id FROM ({_recipients_sql()}) r ORDER BY r.user_id",  # noqa: S608  # nosec B608
            [outage_id],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return [(ids[i], ids[min(i + batch, len(ids)) - 1]) for i in range(0, len(ids), batch)]


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    return value.astimezone(tz)


def _when(value: datetime, tz: ZoneInfo) -> str:
    return dateformat.format(_local(value, tz), "j E в H:i")


def _places(outage: Outage) -> str:
    parts = [str(a).split(", ", 1)[-1] for a in outage.addresses.all()[:4]]
    more = outage.addresses.count() - len(parts)
    text = "; ".join(parts)
    if more > 0:
        text += _(" и ещё %(n)d") % {"n": more}
    return text


@dataclass(frozen=True)
class OutageMessage:
    title: str
    body: str
    emergency: bool


def outage_message(*, outage: Outage, event: str) -> OutageMessage:
    tz = ZoneInfo(outage.branch.timezone)
    service = outage.service.name
    emergency = outage.kind == OutageKind.EMERGENCY
    span = _("с %(start)s до %(end)s") % {
        "start": _when(outage.starts_at, tz),
        "end": _when(outage.expected_end_at, tz),
    }
    places = _places(outage)
    if event == "published":
        if emergency:
            title = _("Аварийное отключение: %(service)s") % {"service": service.lower()}
            body = _("%(places)s. Восстановим ориентировочно к %(end)s.") % {
                "places": places,
                "end": _when(outage.expected_end_at, tz),
            }
        else:
            title = _("Плановое отключение: %(service)s, %(date)s") % {
                "service": service.lower(),
                "date": dateformat.format(_local(outage.starts_at, tz), "j E"),
            }
            body = f"{places}. " + span.capitalize() + "."
    elif event == "reminder":
        title = _("Завтра отключение: %(service)s") % {"service": service.lower()}
        body = f"{places}. " + span.capitalize() + "."
    elif event == "finished":
        emergency = False  # good news can wait for the morning
        title = _("%(service)s: подача восстановлена") % {"service": service}
        body = _("%(places)s. Работы завершены %(at)s.") % {
            "places": places,
            "at": _when(outage.ended_at or outage.expected_end_at, tz),
        }
    elif event == "cancelled":
        emergency = False
        title = _("Отключение отменено: %(service)s") % {"service": service.lower()}
        body = _("%(places)s. Отключение %(span)s не состоится.") % {"places": places, "span": span}
    elif event.startswith("update:"):
        update = OutageUpdate.objects.get(pk=int(event.split(":", 1)[1]), outage=outage)
        title = _("Обновление: %(title)s") % {"title": outage.title}
        body = _("%(text)s Ожидаемое окончание — %(end)s.") % {
            "text": update.text.rstrip(".") + ".",
            "end": _when(outage.expected_end_at, tz),
        }
    else:
        raise ValueError(f"unknown outage event {event!r}")
    if outage.description and event in ("published", "reminder"):
        body += " " + outage.description
    return OutageMessage(title=title[:200], body=body, emergency=emergency)


def outage_notify_batch(
    *, outage_id: int, event: str, user_from: int, user_to: int, now: datetime
) -> int:
    """One batch of the fan-out: notices and their deliveries for recipients with ids in
    [user_from, user_to]. Returns how many notices are new."""
    outage = Outage.objects.select_related("branch", "service").get(pk=outage_id)
    message = outage_message(outage=outage, event=event)
    key = f"outage:{outage_id}:{event}"
    link = reverse("notices:outage", args=[outage_id])
    at = _db_time(now)
    table = Notification._meta.db_table
    sql = f"""
INSERT INTO {table}
  (user_id, kind, title, body, link, created_at, read_at, emergency, dedupe_key)
SELECT r.user_id, %s, %s, %s, %s, %s, NULL, %s, %s
FROM ({_recipients_sql()}) r
WHERE r.user_id BETWEEN %s AND %s
ON CONFLICT (user_id, dedupe_key) DO NOTHING
RETURNING id, user_id, title, body, link, kind"""  # noqa: S608  # nosec B608
    params = [
        NotificationKind.OUTAGE.value,
        message.title,
        message.body,
        link,
        at,
        message.emergency,
        key,
        outage_id,
        user_from,
        user_to,
    ]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            created = list(cursor.fetchall())
        if created:
            deliveries = deliveries_plan(
                where="n.dedupe_key = %s AND n.user_id BETWEEN %s AND %s",
                params=[key, user_from, user_to],
                now=now,
            )
            dispatch_after_commit(deliveries)
            live.announce_after_commit(created)
    return len(created)


def outage_notify(*, outage_id: int, event: str, now: datetime, batch: int = FAN_OUT_BATCH) -> int:
    """The whole fan-out in this process, batch after batch (jobs split it instead)."""
    return sum(
        outage_notify_batch(outage_id=outage_id, event=event, user_from=lo, user_to=hi, now=now)
        for lo, hi in outage_recipient_ranges(outage_id=outage_id, batch=batch)
    )


def _fan_out_after_commit(outage_id: int, events: list[str]) -> None:
    def enqueue() -> None:
        from abonent.notices.tasks import outage_fan_out  # tasks import services

        for event in events:
            outage_fan_out.delay(outage_id, event)

    if events:
        transaction.on_commit(enqueue)


def outage_save(*, outage_id: int, actor: Any, now: datetime, publish: bool = False) -> list[str]:
    """After staff saved an outage (with its addresses and updates): publish it when asked,
    and schedule the notices its state calls for — publication, each new update, the early
    finish or cancellation. Each goes out once. Returns the events scheduled."""
    with transaction.atomic():
        outage = Outage.objects.select_for_update().get(pk=outage_id)
        events: list[str] = []
        if publish and outage.published_at is None and outage.cancelled_at is None:
            outage.published_at = outage.updated_at = now
            outage.save(update_fields=["published_at", "updated_at"])
            if outage.ended_at is None:
                events.append("published")
        if outage.published_at is not None:
            fresh = list(
                OutageUpdate.objects.filter(outage=outage, notified_at__isnull=True).order_by("pk")
            )
            for update in fresh:
                if outage.ended_at is None and outage.cancelled_at is None:
                    events.append(f"update:{update.pk}")
            OutageUpdate.objects.filter(pk__in=[u.pk for u in fresh]).update(notified_at=now)
            if outage.cancelled_at is not None:
                events.append("cancelled")
            elif outage.ended_at is not None:
                events.append("finished")
        audit_record(
            now=now,
            action="notices.outage_save",
            actor=actor,
            target=outage,
            data={"events": events, "published": outage.published_at is not None},
        )
        _fan_out_after_commit(outage.pk, events)
    return events


def outage_reminders_send(*, now: datetime) -> list[int]:
    """A day before a planned outage (once), unless it was published less than a day before
    its start (the publication notice was the warning). Returns the outages reminded."""
    ahead = timedelta(hours=settings.NOTICES_OUTAGE_REMIND_HOURS)
    with transaction.atomic():
        due = list(
            Outage.objects.select_for_update()
            .filter(
                kind=OutageKind.PLANNED,
                published_at__isnull=False,
                cancelled_at__isnull=True,
                ended_at__isnull=True,
                reminded_at__isnull=True,
                starts_at__gt=now,
                starts_at__lte=now + ahead,
            )
            .values_list("pk", "published_at", "starts_at")
        )
        ids = [pk for pk, published, starts in due if published and published <= starts - ahead]
        Outage.objects.filter(pk__in=[pk for pk, _p, _s in due]).update(reminded_at=now)
        for pk in ids:
            _fan_out_after_commit(pk, ["reminder"])
    return ids
