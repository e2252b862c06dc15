"""The customer's choices: channels per kind, quiet hours, and push subscriptions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from abonent.core.errors import NotFound, ValidationFailed
from abonent.core.services import audit_record
from abonent.notices import push
from abonent.notices.models import (
    Channel,
    ChannelPreference,
    NotificationKind,
    NotificationSettings,
    PushSubscription,
)

TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(:00)?$")


def _parse_time(value: Any) -> time | None:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    match = TIME_RE.match(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def notification_settings_update(
    *,
    user: Any,
    now: datetime,
    channels: Mapping[str, Sequence[str]] | None = None,
    quiet_enabled: bool | None = None,
    quiet_from: str | time | None = None,
    quiet_to: str | time | None = None,
    ip: str | None = None,
) -> None:
    """Replace the channels of each kind given (kinds not given keep theirs; in-app is
    always on) and the quiet hours. Everything is checked first: on a bad value nothing is
    written and each field gets its Russian message."""
    fields: dict[str, list[str]] = {}
    chosen: dict[str, set[str]] = {}
    for kind, names in (channels or {}).items():
        key = f"channels.{kind}"
        if kind not in NotificationKind.values:
            fields[key] = [_("Неизвестный вид оповещений «%(kind)s».") % {"kind": kind}]
            continue
        if isinstance(names, str) or not isinstance(names, Sequence):
            fields[key] = [_("Укажите список каналов.")]
            continue
        bad = [str(n) for n in names if n not in Channel.values]
        if bad:
            fields[key] = [
                _("Неизвестный канал «%(name)s». Можно: %(allowed)s.")
                % {"name": bad[0], "allowed": ", ".join(Channel.values)}
            ]
            continue
        chosen[kind] = set(names)
    current = NotificationSettings.objects.filter(user_id=user.pk).first()
    start = current.quiet_from if current else None
    end = current.quiet_to if current else None
    if quiet_from is not None:
        start = _parse_time(quiet_from)
        if start is None:
            fields["quiet_hours.start"] = [_("Время в формате ЧЧ:ММ, например 22:00.")]
    if quiet_to is not None:
        end = _parse_time(quiet_to)
        if end is None:
            fields["quiet_hours.end"] = [_("Время в формате ЧЧ:ММ, например 08:00.")]
    defaults = NotificationSettings(user_id=user.pk, updated_at=now)
    start = start or defaults.quiet_from
    end = end or defaults.quiet_to
    if start == end and "quiet_hours.end" not in fields and "quiet_hours.start" not in fields:
        fields["quiet_hours.end"] = [_("Конец тихих часов должен отличаться от начала.")]
    if fields:
        raise ValidationFailed(
            _("Настройки не сохранены: проверьте выделенные значения."),
            code="notification_settings_invalid",
            fields=fields,
        )
    with transaction.atomic():
        rows = [
            ChannelPreference(user_id=user.pk, kind=kind, channel=channel, enabled=channel in on)
            for kind, on in chosen.items()
            for channel in Channel.values
        ]
        if rows:
            ChannelPreference.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["user", "kind", "channel"],
                update_fields=["enabled"],
            )
        settings_row = current or defaults
        if quiet_enabled is not None:
            settings_row.quiet_enabled = quiet_enabled
        settings_row.quiet_from, settings_row.quiet_to = start, end
        settings_row.updated_at = now
        settings_row.save()
        audit_record(
            now=now,
            action="notices.settings_update",
            actor=user,
            target=settings_row,
            ip=ip,
            data={
                "channels": {k: sorted(v) for k, v in chosen.items()},
                "quiet": [settings_row.quiet_enabled, f"{start:%H:%M}", f"{end:%H:%M}"],
            },
        )


def push_subscribe(
    *,
    user: Any,
    endpoint: str,
    p256dh: str,
    auth: str,
    now: datetime,
    user_agent: str = "",
    ip: str | None = None,
) -> PushSubscription:
    """Save this browser's subscription (the same endpoint again: refreshed and, after
    another sign-in on that browser, moved to this customer)."""
    fields: dict[str, list[str]] = {}
    if not push.endpoint_allowed(endpoint):
        fields["endpoint"] = [_("Адрес подписки должен вести на push-сервис браузера (https).")]
    if not push.keys_valid(p256dh=p256dh, auth=auth):
        fields["keys"] = [_("Ключи подписки повреждены: разрешите уведомления ещё раз.")]
    if push.vapid_keys() is None:
        raise ValidationFailed(
            _("Push-уведомления сейчас недоступны."), code="push_unavailable", status=409
        )
    if fields:
        raise ValidationFailed(
            _("Подписку на уведомления не удалось сохранить."),
            code="push_subscription_invalid",
            fields=fields,
        )
    with transaction.atomic():
        sub, created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={
                "user_id": user.pk,
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": user_agent[:300],
            },
            create_defaults={
                "user_id": user.pk,
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": user_agent[:300],
                "created_at": now,
            },
        )
        audit_record(
            now=now,
            action="notices.push_subscribe",
            actor=user,
            target=sub,
            ip=ip,
            data={"created": created},
        )
    return sub


def push_unsubscribe(
    *, user: Any, subscription_id: int, now: datetime, ip: str | None = None
) -> None:
    with transaction.atomic():
        sub = PushSubscription.objects.filter(pk=subscription_id, user_id=user.pk).first()
        if sub is None:
            raise NotFound(_("Подписка не найдена."), code="push_subscription_not_found")
        audit_record(now=now, action="notices.push_unsubscribe", actor=user, target=sub, ip=ip)
        sub.delete()
