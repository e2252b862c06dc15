"""Quiet hours: when a non-urgent message may leave, in the customer's branch time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(*, now: datetime, tz: ZoneInfo, start: time, end: time) -> datetime | None:
    """If `now` falls in the quiet window [start, end) local time, the aware moment it ends
    (the next `end` local time); otherwise None. A window may wrap midnight (22:00–08:00)."""
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    # A window that wraps midnight (start after end) is the two ends of the day.
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date()
    if clock >= end:  # in the evening part: the window ends tomorrow morning
        day += timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz)
