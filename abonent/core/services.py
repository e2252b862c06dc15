from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models

from abonent.core.models import AuditEntry


def audit_record(
    *,
    now: datetime,
    action: str,
    actor: Any | None = None,
    subject_user_id: int | None = None,
    target: models.Model | None = None,
    ip: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    return AuditEntry.objects.create(
        at=now,
        actor_id=actor_id,
        action=action,
        subject_user_id=subject_user_id if subject_user_id is not None else actor_id,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        ip=ip,
        data=data or {},
    )
