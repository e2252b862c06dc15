"""Specialists' working time per branch: open or not, the next opening, working-hours SLA.

Pure functions over a `Schedule` (a branch's hours, working days, time zone and the holiday
overrides), so the rules are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

MAX_DAYS_AHEAD = 400


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    opens: time
    closes: time
    weekdays: frozenset[int]  # ISO: 1 = Monday
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.holidays:
            return False
        return day.isoweekday() in self.weekdays

    def span(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.opens, tzinfo=self.tz),
            datetime.combine(day, self.closes, tzinfo=self.tz),
        )


def schedule_for(branch: Any, overrides: Iterable[tuple[date, bool]] = ()) -> Schedule:
    """A branch's schedule; `overrides` are (date, is_workday) rows of BranchHoliday."""
    holidays: set[date] = set()
    extra: set[date] = set()
    for day, is_workday in overrides:
        (extra if is_workday else holidays).add(day)
    weekdays = frozenset(int(d) for d in str(branch.working_days).split(",") if d.strip())
    return Schedule(
        tz=ZoneInfo(branch.timezone),
        opens=branch.hours_open,
        closes=branch.hours_close,
        weekdays=weekdays or frozenset({1, 2, 3, 4, 5}),
        holidays=frozenset(holidays),
        extra_workdays=frozenset(extra),
    )


def is_open(schedule: Schedule, at: datetime) -> bool:
    local = at.astimezone(schedule.tz)
    if not schedule.is_workday(local.date()):
        return False
    start, end = schedule.span(local.date())
    return start <= local < end


def next_opening(schedule: Schedule, at: datetime) -> datetime:
    """`at` itself when specialists work then, else the start of their next working day."""
    local = at.astimezone(schedule.tz)
    day = local.date()
    for _i in range(MAX_DAYS_AHEAD):
        if schedule.is_workday(day):
            start, end = schedule.span(day)
            if local < start:
                return start
            if local < end:
                return local
        day += timedelta(days=1)
    return local  # no working day within a year: answer «now» rather than never


def add_working_hours(schedule: Schedule, start: datetime, hours: int) -> datetime:
    """The moment `hours` working hours after `start` (counting only open time)."""
    left = timedelta(hours=hours)
    at = next_opening(schedule, start)
    for _i in range(MAX_DAYS_AHEAD):
        _day_start, day_end = schedule.span(at.date())
        available = day_end - at
        if left <= available:
            return at + left
        left -= available
        at = next_opening(schedule, day_end)
    return at


# ---------------------------------------------------------------- words


def _tz_adjectives() -> dict[str, str]:
    return {
        "Europe/Moscow": _("московскому"),
        "Asia/Krasnoyarsk": _("красноярскому"),
        "Asia/Novosibirsk": _("новосибирскому"),
        "Asia/Novokuznetsk": _("кемеровскому"),
        "Asia/Barnaul": _("барнаульскому"),
        "Asia/Tomsk": _("томскому"),
        "Asia/Omsk": _("омскому"),
        "Asia/Irkutsk": _("иркутскому"),
        "Asia/Chita": _("читинскому"),
        "Asia/Yekaterinburg": _("екатеринбургскому"),
        "Asia/Yakutsk": _("якутскому"),
        "Asia/Vladivostok": _("владивостокскому"),
    }


def timezone_phrase(schedule: Schedule, at: datetime) -> str:
    """«по красноярскому времени», or «по местному времени (UTC+7)» for an unnamed zone."""
    adjective = _tz_adjectives().get(schedule.tz.key)
    if adjective:
        return _("по %(adjective)s времени") % {"adjective": adjective}
    offset = at.astimezone(schedule.tz).utcoffset() or timedelta(0)
    hours = int(offset.total_seconds() // 3600)
    return _("по местному времени (UTC%(offset)+d)") % {"offset": hours}


def _on_weekday(day: date) -> str:
    return [
        pgettext("on weekday", "в понедельник"),
        pgettext("on weekday", "во вторник"),
        pgettext("on weekday", "в среду"),
        pgettext("on weekday", "в четверг"),
        pgettext("on weekday", "в пятницу"),
        pgettext("on weekday", "в субботу"),
        pgettext("on weekday", "в воскресенье"),
    ][day.weekday()]


_MONTHS_GENITIVE = [
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
]  # fmt: skip


def day_phrase(opening: datetime, now: datetime) -> str:
    """«сегодня», «завтра» or «в понедельник, 24 ноября» (in the opening's own time zone)."""
    tz = opening.tzinfo
    today = now.astimezone(tz).date()
    day = opening.date()
    if day == today:
        return _("сегодня")
    if day == today + timedelta(days=1):
        return _("завтра")
    month = _(_MONTHS_GENITIVE[day.month - 1])
    return f"{_on_weekday(day)}, {day.day} {month}"


def back_at_phrase(schedule: Schedule, now: datetime) -> str:
    """«завтра с 08:00 по красноярскому времени»: when specialists are back."""
    opening = next_opening(schedule, now)
    return _("%(day)s с %(time)s %(zone)s") % {
        "day": day_phrase(opening, now),
        "time": f"{opening:%H:%M}",
        "zone": timezone_phrase(schedule, now),
    }


def outside_hours_reply(schedule: Schedule, now: datetime) -> str:
    return _(
        "Здравствуйте! Сейчас специалисты не работают. Мы получили ваше обращение: "
        "специалисты ответят %(when)s."
    ) % {"when": back_at_phrase(schedule, now)}


def local_deadline(schedule: Schedule, deadline: datetime, now: datetime) -> str:
    """«сегодня до 12:00», «завтра до 09:30», «в пятницу, 28 ноября до 17:00»."""
    local = deadline.astimezone(schedule.tz)
    return _("%(day)s до %(time)s") % {"day": day_phrase(local, now), "time": f"{local:%H:%M}"}


def callback_slots(
    schedule: Schedule,
    now: datetime,
    *,
    days: int = 3,
    hours: int = 2,
    lead: timedelta = timedelta(minutes=30),
) -> list[tuple[datetime, datetime]]:
    """Call-back windows of `hours` within working time on the next `days` working days that
    start at least `lead` from now (the last one of a day may be shorter)."""
    slots: list[tuple[datetime, datetime]] = []
    day = now.astimezone(schedule.tz).date()
    found = 0
    for _i in range(MAX_DAYS_AHEAD):
        if found >= days:
            break
        if schedule.is_workday(day):
            start, end = schedule.span(day)
            day_slots = []
            at = start
            while at < end:
                until = min(at + timedelta(hours=hours), end)
                if at >= now + lead:
                    day_slots.append((at, until))
                at = until
            if day_slots:
                slots.extend(day_slots)
                found += 1
        day += timedelta(days=1)
    return slots
