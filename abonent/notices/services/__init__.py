"""Writes of the notices app. `notifications_create` is the one entry point every app uses."""

from abonent.notices.services.create import (
    NotificationDraft,
    deliveries_plan,
    notifications_create,
)
from abonent.notices.services.delivery import (
    DispatchResult,
    deliveries_dispatch,
    deliveries_due,
    retry_delay,
)
from abonent.notices.services.inbox import (
    notification_mark_read,
    notifications_mark_all_read,
)
from abonent.notices.services.outages import (
    outage_notify,
    outage_reminders_send,
    outage_save,
)
from abonent.notices.services.preferences import (
    notification_settings_update,
    push_subscribe,
    push_unsubscribe,
)

__all__ = [
    "DispatchResult",
    "NotificationDraft",
    "deliveries_dispatch",
    "deliveries_due",
    "deliveries_plan",
    "notification_mark_read",
    "notification_settings_update",
    "notifications_create",
    "notifications_mark_all_read",
    "outage_notify",
    "outage_reminders_send",
    "outage_save",
    "push_subscribe",
    "push_unsubscribe",
    "retry_delay",
]
