"""The audit log is kept AUDIT_RETENTION_DAYS, then purged by the daily task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from abonent.core.models import AuditEntry
from abonent.privacy.services import audit_purge

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def test_rows_past_the_retention_period_are_purged_and_the_rest_kept(settings: Any) -> None:
    settings.AUDIT_RETENTION_DAYS = 30
    old = AuditEntry.objects.create(at=NOW - timedelta(days=31), action="staff.viewed")
    edge = AuditEntry.objects.create(at=NOW - timedelta(days=30), action="staff.viewed")
    new = AuditEntry.objects.create(at=NOW, action="user.login")
    assert audit_purge(now=NOW) == 1
    assert set(AuditEntry.objects.values_list("pk", flat=True)) == {edge.pk, new.pk}
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert audit_purge(now=NOW) == 0


def test_the_purge_is_scheduled_daily(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-audit-purge"]
    assert entry == {"task": "abonent.privacy.tasks.audit_purge", "schedule": 86400}
