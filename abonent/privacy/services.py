"""Personal data: staff access to a customer's data is audited (reads included), a customer
exports everything held about them (152-ФЗ), and the audit log is kept for a set time."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from abonent.core.errors import TooManyRequests
from abonent.core.models import AuditEntry
from abonent.core.services import audit_record
from abonent.privacy.export import Export, export_collect, export_zip

log = logging.getLogger(__name__)

STAFF_VIEWED = "staff.viewed"
STAFF_SEARCHED = "staff.searched"
STAFF_EXPORTED = "staff.exported"
STAFF_CREATED = "staff.created"
STAFF_CHANGED = "staff.changed"
STAFF_DELETED = "staff.deleted"
STAFF_ACTION = "staff.action"
# One audit row per subject; past this many customers in one listing or action, one summary
# row stands for the rest (the count is in its data).
MAX_SUBJECT_ROWS = 100


def view_throttle() -> timedelta:
    return timedelta(seconds=settings.AUDIT_VIEW_THROTTLE_SECONDS)


def staff_access_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: str = "",
    subject_user_ids: Iterable[int] = (),
    ip: str | None,
    now: datetime,
    data: dict[str, Any] | None = None,
    throttle: bool = False,
) -> int:
    """Write who (a staff member) looked at or changed whose data: one row per customer whose
    data it is (a shared ЛС is several customers' data), one row without a subject when it is
    nobody's in particular. With `throttle`, the same staff member opening the same object
    again within AUDIT_VIEW_THROTTLE_SECONDS adds nothing. Returns the number of rows."""
    subjects: list[int | None] = [*sorted(set(subject_user_ids))] or [None]
    extra = dict(data or {})
    if len(subjects) > MAX_SUBJECT_ROWS:
        extra["subjects_total"] = len(subjects)
        subjects = [*subjects[:MAX_SUBJECT_ROWS], None]
    actor_id = getattr(actor, "pk", None)
    if (
        throttle
        and AuditEntry.objects.filter(
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            at__gt=now - view_throttle(),
        ).exists()
    ):
        return 0
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            action=action,
            subject_user_id=subject,
            object_type=object_type,
            object_id=object_id,
            ip=ip,
            data=extra,
        )
        for subject in subjects
    )
    return len(subjects)


def staff_access_record_safely(**kwargs: Any) -> int:
    """Record a staff READ without ever breaking the page that shows the data: a failure is
    logged as an error (with the traceback, so monitoring sees it) and rolled back to a
    savepoint, and the page is served. Changes are recorded in their own transaction instead
    (`staff_access_record`): a change that cannot be audited does not happen."""
    try:
        with transaction.atomic():
            return staff_access_record(**kwargs)
    except Exception:
        log.exception(
            "audit: could not record %s of %s %s by staff #%s",
            kwargs.get("action"),
            kwargs.get("object_type"),
            kwargs.get("object_id"),
            getattr(kwargs.get("actor"), "pk", None),
        )
        return 0


def audit_purge(*, now: datetime) -> int:
    """Delete audit rows older than AUDIT_RETENTION_DAYS (decision 0012); returns how many."""
    before = now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEntry.objects.filter(at__lt=before).delete()
    return deleted


# ---------------------------------------------------------------- the customer's own export

DATA_EXPORTED = "user.data_export"
EXPORT_WINDOW = timedelta(days=1)


def data_export_create(*, user: Any, fmt: str, now: datetime, ip: str | None) -> tuple[str, bytes]:
    """Everything held about the customer, as "json" or "zip" (JSON + summary + attachments):
    (content type, bytes). Heavy, so DATA_EXPORT_MAX_PER_DAY a day, counted in the audit log
    (it survives a cache flush or restart); the export itself is audited."""
    with transaction.atomic():
        recent = list(
            AuditEntry.objects.select_for_update()
            .filter(actor_id=user.pk, action=DATA_EXPORTED, at__gt=now - EXPORT_WINDOW)
            .order_by("at")
            .values_list("at", flat=True)
        )
        if len(recent) >= settings.DATA_EXPORT_MAX_PER_DAY:
            wait = int((recent[0] + EXPORT_WINDOW - now).total_seconds()) + 1
            hours = max(1, (wait + 3599) // 3600)
            raise TooManyRequests(
                _(
                    "Выгрузку данных можно получить не чаще %(n)s раз в сутки. "
                    "Следующая будет доступна примерно через %(hours)s ч."
                )
                % {"n": settings.DATA_EXPORT_MAX_PER_DAY, "hours": hours},
                code="export_limit_reached",
                retry_after=wait,
            )
        export: Export = export_collect(user=user, now=now)
        audit_record(
            now=now,
            action=DATA_EXPORTED,
            actor=user,
            target=user,
            ip=ip,
            data={"format": fmt, "attachments": len(export.attachments)},
        )
    if fmt == "zip":
        return "application/zip", export_zip(export)
    return "application/json", export.json_bytes()


# ---------------------------------------------------------------- erasure on account deletion

ERASED_SUBJECT = "Обращение удалено по запросу клиента"
# Audit details that carry personal values (the old and new name, phone or e-mail).
_PERSONAL_AUDIT_KEYS = ("before", "after", "phone", "email", "name", "target")


def personal_data_erase(*, user: Any, now: datetime) -> dict[str, int]:
    """What account deletion does to the rest of a customer's data (decision 0012), in the
    caller's transaction; the user row itself is anonymised by `identity.user_delete`.

    Erased: saved cards (the acquirer's tokens) and autopay, notifications and their settings,
    push subscriptions, callback requests, the text and files of appeals, the card digits on
    payments, personal values in audit details, sign-in attempts under their logins.
    Kept, depersonalised (they point at the anonymous user row): payments with their lines and
    refunds, the ledger, readings and charges of the ЛС (money and metering records the
    utility must keep), the appeals' dates, category, status and rating (service statistics),
    and the audit log itself (security, AUDIT_RETENTION_DAYS)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from abonent.appeals.models import Appeal, Attachment, CallbackRequest, Message
    from abonent.notices.models import (
        ChannelPreference,
        Notification,
        NotificationSettings,
        PushSubscription,
    )
    from abonent.payments.models import AutopaySetting, Payment, SavedCard

    counts: dict[str, int] = {}
    counts["autopay"], _ = AutopaySetting.objects.filter(user=user).delete()
    counts["cards"], _ = SavedCard.objects.filter(user=user).delete()
    counts["payments_depersonalised"] = (
        Payment.objects.filter(user=user)
        .exclude(card_last4="", card_brand="")
        .update(card_last4="", card_brand="", confirmation_url="")
    )
    counts["notifications"], _ = Notification.objects.filter(user=user).delete()
    NotificationSettings.objects.filter(user=user).delete()
    ChannelPreference.objects.filter(user=user).delete()
    counts["push"], _ = PushSubscription.objects.filter(user=user).delete()
    counts["callbacks"], _ = CallbackRequest.objects.filter(user=user).delete()

    appeals = Appeal.objects.filter(user=user)
    files = list(
        Attachment.objects.filter(message__appeal__in=appeals).values_list("path", flat=True)
    )
    Attachment.objects.filter(message__appeal__in=appeals).delete()
    Message.objects.filter(appeal__in=appeals).update(body="")
    counts["appeals"] = appeals.update(subject=ERASED_SUBJECT, rating_comment="", account=None)
    counts["attachments"] = len(files)
    if files:
        transaction.on_commit(lambda: _files_delete(files))

    scrubbed = 0
    for entry in AuditEntry.objects.filter(subject_user_id=user.pk).exclude(data={}):
        if any(key in entry.data for key in _PERSONAL_AUDIT_KEYS):
            entry.data = {
                k: ("[удалено]" if k in _PERSONAL_AUDIT_KEYS else v) for k, v in entry.data.items()
            }
            entry.save(update_fields=["data"])
            scrubbed += 1
    counts["audit_scrubbed"] = scrubbed

    logins = [x for x in (user.phone, user.email) if x]
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=logins).delete()
    return counts


def _files_delete(paths: list[str]) -> None:
    from django.core.files.storage import storages

    storage = storages["private"]
    for path in paths:
        try:
            storage.delete(path)
        except OSError:
            log.exception("erase: could not delete attachment file %s", path)
