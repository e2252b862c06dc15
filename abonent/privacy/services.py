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
