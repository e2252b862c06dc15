"""Sending deliveries: push, SMS and e-mail, each on its own, exactly once where the channel
takes an idempotency key (decision 0015, which supersedes the at-most-once of 0009).

A delivery is claimed (pending → sending, a conditional UPDATE) before its message leaves,
and is marked sent after. The claim is a lease: a job that dies between the two (a worker
SIGKILLed, a lost node) leaves the row «sending»; once the lease has run out
(`NOTICES_SENDING_LEASE_SECONDS`) the sweeper puts it back to pending and it is sent again
— with the same idempotency key (`delivery:<id>`: the SMS provider's key, the e-mail's
Message-ID, the push message's topic/tag), so a provider that has it already does not
deliver it twice. A retried job meanwhile cannot claim it, so two live jobs never send the
same row. A channel that fails goes back to pending with a later due time (exponential
backoff) and never holds up the others; outside the customer's quiet hours only —
non-urgent messages wait for the morning instead.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection
from django.utils.translation import gettext as _

from abonent.core.sms import SmsError, get_sms_backend
from abonent.notices import push
from abonent.notices.models import (
    QUIET_FROM,
    QUIET_TO,
    Channel,
    Delivery,
    DeliveryState,
    NotificationSettings,
    PushSubscription,
)
from abonent.notices.quiet import quiet_until
from abonent.notices.selectors import user_timezones

log = logging.getLogger(__name__)

LOST_JOB = timedelta(minutes=10)  # a queued row untouched this long is queued again
SMS_MAX = 300
CLAIM_GROUP = 20  # deliveries claimed (and marked sent) per statement


class Retry(Exception):
    """Not delivered this time; try again later."""


class Undeliverable(Exception):
    """Will never be delivered on this channel (refused for good)."""


class NoAddress(Undeliverable):
    """Nowhere to send it any more (phone or e-mail removed, no push subscription left)."""


def retry_delay(attempts: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, ~2 h, then every 4 h."""
    return timedelta(seconds=min(30 * 4 ** max(attempts - 1, 0), 4 * 60 * 60))


@dataclass
class DispatchResult:
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _absolute(link: str) -> str:
    if link.startswith(("http://", "https://")):
        return link
    return settings.SITE_URL.rstrip("/") + (link or "/info/notifications/")


def _sms_text(title: str, body: str) -> str:
    text = f"{title}. {body}".strip() if body else title
    return text if len(text) <= SMS_MAX else text[: SMS_MAX - 1] + "…"


def delivery_key(delivery: Delivery) -> str:
    """The message's idempotency key: the same for every attempt of this delivery."""
    return f"delivery:{delivery.pk}"


def _send_sms(delivery: Delivery) -> None:
    n = delivery.notification
    phone = n.user.phone
    if not phone:
        raise NoAddress("no phone")
    try:
        get_sms_backend().send(
            phone=phone, text=_sms_text(n.title, n.body), key=delivery_key(delivery)
        )
    except SmsError as exc:
        raise Retry(str(exc)) from exc


def _send_email(delivery: Delivery) -> None:
    n = delivery.notification
    if not n.user.email:
        raise NoAddress("no e-mail")
    body = "\n\n".join(
        part
        for part in (
            n.body,
            _("Подробнее: %(url)s") % {"url": _absolute(n.link)},
            _("Настроить оповещения: %(url)s") % {"url": _absolute("/info/settings/")},
        )
        if part
    )
    try:
        # One Message-ID for every attempt: mail systems drop a second copy of it.
        domain = settings.NOTICES_MESSAGE_ID_DOMAIN
        headers = {"Message-ID": f"<abonent-delivery-{delivery.pk}@{domain}>"}
        EmailMessage(subject=n.title, body=body, to=[n.user.email], headers=headers).send()
    except (smtplib.SMTPException, OSError) as exc:
        raise Retry(f"{exc.__class__.__name__}: {exc}") from exc


def _send_push(delivery: Delivery, subscriptions: list[PushSubscription], now: datetime) -> None:
    """To every browser of the customer. Sent when at least one took it; the ones the push
    service no longer knows (404/410) are dropped."""
    n = delivery.notification
    message = push.PushMessage(
        title=n.title, body=n.body[:300], url=n.link or "/info/notifications/", tag=n.dedupe_key
    )
    delivered = retry = 0
    errors: list[str] = []
    for sub in subscriptions:
        try:
            push.push_send(endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth, message=message)
        except push.PushGone as exc:
            PushSubscription.objects.filter(pk=sub.pk).delete()
            errors.append(str(exc))
        except push.PushRetry as exc:
            retry += 1
            errors.append(str(exc))
        except push.PushRejected as exc:
            errors.append(str(exc))
        else:
            delivered += 1
            PushSubscription.objects.filter(pk=sub.pk).update(last_success_at=now)
    if delivered:
        return
    if retry:
        raise Retry("; ".join(errors))
    if not errors:
        raise NoAddress("no push subscription")
    raise Undeliverable("; ".join(errors))


def _quiet_map(user_ids: set[int]) -> dict[int, NotificationSettings]:
    return {s.user_id: s for s in NotificationSettings.objects.filter(user_id__in=user_ids)}


def _claim(ids: list[int], now: datetime) -> set[int]:
    """pending → sending for those still pending and due (one UPDATE … RETURNING); a row
    another job claimed first is simply not returned."""
    if not ids:
        return set()
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET state = %s, claimed_at = %s, "  # noqa: S608  # nosec B608
            f"attempts = attempts + 1 WHERE id IN ({marks}) AND state = %s AND due_at <= %s "
            "RETURNING id",
            [DeliveryState.SENDING, _db_time(now), *ids, DeliveryState.PENDING, _db_time(now)],
        )
        return {row[0] for row in cursor.fetchall()}


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _quiet_deferrals(
    rows: list[Delivery], *, now: datetime
) -> tuple[list[Delivery], dict[datetime, list[int]]]:
    """Split into what may go now and what waits for the morning (by its end of quiet)."""
    users = {r.notification.user_id for r in rows if not r.notification.emergency}
    quiet = _quiet_map(users)
    zones = user_timezones(user_ids=users) if users else {}
    ready: list[Delivery] = []
    deferred: dict[datetime, list[int]] = {}
    for delivery in rows:
        n = delivery.notification
        until = None
        if not n.emergency:
            prefs = quiet.get(n.user_id)
            if prefs is None or prefs.quiet_enabled:
                until = quiet_until(
                    now=now,
                    tz=ZoneInfo(zones[n.user_id]),
                    start=prefs.quiet_from if prefs else QUIET_FROM,
                    end=prefs.quiet_to if prefs else QUIET_TO,
                )
        if until is None:
            ready.append(delivery)
        else:
            deferred.setdefault(until, []).append(delivery.pk)
    return ready, deferred


def deliveries_dispatch(*, delivery_ids: Sequence[int], now: datetime) -> DispatchResult:
    """Send the given deliveries that are pending and due; see the module docstring.

    Claims go in small groups (CLAIM_GROUP rows per UPDATE) and the sent e-mails and pushes
    are marked per group: two statements per group instead of two per message. A crash
    mid-group leaves at most that group «sending»; the sweeper re-sends it, with the same
    keys, once the lease has run out. An SMS is marked sent on its own right after its send:
    its provider honours no key, so a crash re-sends at most the one in flight."""
    result = DispatchResult()
    rows = list(
        Delivery.objects.filter(pk__in=list(delivery_ids), state=DeliveryState.PENDING)
        .filter(due_at__lte=now)
        .select_related("notification__user")
        .order_by("pk")
    )
    if not rows:
        return result
    ready, deferred = _quiet_deferrals(rows, now=now)
    for until, ids in deferred.items():
        result.deferred += Delivery.objects.filter(pk__in=ids, state=DeliveryState.PENDING).update(
            due_at=until, queued_at=None
        )
    push_users = {r.notification.user_id for r in ready if r.channel == Channel.PUSH}
    subs: dict[int, list[PushSubscription]] = {}
    for sub in PushSubscription.objects.filter(user_id__in=push_users).order_by("pk"):
        subs.setdefault(sub.user_id, []).append(sub)
    max_attempts = settings.NOTICES_DELIVERY_MAX_ATTEMPTS

    for start in range(0, len(ready), CLAIM_GROUP):
        group = ready[start : start + CLAIM_GROUP]
        claimed = _claim([d.pk for d in group], now)
        sent: list[int] = []
        for delivery in group:
            if delivery.pk not in claimed:
                continue  # another job has it
            attempts = delivery.attempts + 1
            done = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING)
            try:
                if delivery.channel == Channel.SMS:
                    _send_sms(delivery)
                elif delivery.channel == Channel.EMAIL:
                    _send_email(delivery)
                else:
                    _send_push(delivery, subs.get(delivery.notification.user_id, []), now)
            except NoAddress as exc:
                done.update(state=DeliveryState.SKIPPED, last_error=str(exc)[:300])
                result.skipped += 1
            except Undeliverable as exc:
                done.update(state=DeliveryState.FAILED, last_error=str(exc)[:300])
                result.failed += 1
            except Exception as exc:  # Retry, or anything unexpected: this channel only
                reason = f"{exc.__class__.__name__}: {exc}"[:300]
                if not isinstance(exc, Retry):
                    log.exception("delivery %s (%s) failed", delivery.pk, delivery.channel)
                if attempts >= max_attempts:
                    done.update(state=DeliveryState.FAILED, last_error=reason)
                    result.failed += 1
                else:
                    done.update(
                        state=DeliveryState.PENDING,
                        due_at=now + retry_delay(attempts),
                        queued_at=None,
                        last_error=reason,
                    )
                    result.retried += 1
                result.errors.append(reason)
            else:
                if delivery.channel == Channel.SMS:
                    # SMS.ru takes no idempotency key: mark each SMS as it leaves, so a crash
                    # can re-send only the one in flight (the send costs far more than this).
                    result.sent += done.update(state=DeliveryState.SENT, sent_at=now, last_error="")
                else:
                    sent.append(delivery.pk)
        if sent:
            result.sent += Delivery.objects.filter(pk__in=sent, state=DeliveryState.SENDING).update(
                state=DeliveryState.SENT, sent_at=now, last_error=""
            )
    return result


@dataclass
class DueResult:
    queued: list[list[int]]
    reclaimed: int  # claims of dead jobs put back to pending (sent again, same key)
    abandoned: int  # … and those out of attempts, failed instead


def sending_lease() -> timedelta:
    """How long a claim holds: longer than a job takes to send a group (CLAIM_GROUP messages
    at the channels' timeouts); a claim older than this belongs to a dead job."""
    return timedelta(seconds=settings.NOTICES_SENDING_LEASE_SECONDS)


def deliveries_due(*, now: datetime, limit: int = 20000, chunk: int = 200) -> DueResult:
    """The sweeper: rows due again (retries, mornings after quiet hours) and rows whose job
    was lost are returned in chunks to queue. Claims of dead jobs (the lease ran out) go
    back to pending and are sent again with the same idempotency key; out of attempts,
    they fail."""
    expired = Delivery.objects.filter(
        state=DeliveryState.SENDING, claimed_at__lt=now - sending_lease()
    )
    max_attempts = settings.NOTICES_DELIVERY_MAX_ATTEMPTS
    abandoned = expired.filter(attempts__gte=max_attempts).update(
        state=DeliveryState.FAILED,
        last_error=_("Отправка прервана, попытки исчерпаны."),
    )
    reclaimed = expired.filter(attempts__lt=max_attempts).update(
        state=DeliveryState.PENDING,
        due_at=now,
        queued_at=None,
        last_error=_("Отправка прервана (обработчик остановлен); повторяется с тем же ключом."),
    )
    ids = list(
        Delivery.objects.filter(state=DeliveryState.PENDING, due_at__lte=now)
        .exclude(queued_at__gt=now - LOST_JOB)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    chunks = [ids[i : i + chunk] for i in range(0, len(ids), chunk)]
    for part in chunks:
        Delivery.objects.filter(pk__in=part).update(queued_at=now)
    return DueResult(queued=chunks, reclaimed=reclaimed, abandoned=abandoned)
