"""Working time of a branch in its own zone (Красноярск, UTC+7): open, next opening, SLA."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from abonent.appeals import hours

KRS = ZoneInfo("Asia/Krasnoyarsk")
BRANCH = SimpleNamespace(
    timezone="Asia/Krasnoyarsk",
    hours_open=time(8, 0),
    hours_close=time(20, 0),
    working_days="1,2,3,4,5",
)


def local(day: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=KRS)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(23, 7, 59), False),  # Monday, a minute before opening
        (local(23, 8, 0), True),
        (local(23, 19, 59), True),
        (local(23, 20, 0), False),  # closing time is outside
        (local(28, 12, 0), False),  # Saturday
    ],
)
def test_open_at_the_edges_of_the_day(at: datetime, expected: bool) -> None:
    assert hours.is_open(hours.schedule_for(BRANCH), at) is expected


def test_open_is_judged_in_the_branch_zone_not_utc() -> None:
    # 01:00 UTC is 08:00 in Krasnoyarsk.
    schedule = hours.schedule_for(BRANCH)
    assert hours.is_open(schedule, datetime(2026, 11, 23, 1, 0, tzinfo=UTC)) is True
    assert hours.is_open(schedule, datetime(2026, 11, 23, 0, 59, tzinfo=UTC)) is False


def test_next_opening_skips_the_weekend_and_a_holiday() -> None:
    schedule = hours.schedule_for(BRANCH, [(date(2026, 11, 30), False)])

    assert hours.next_opening(schedule, local(27, 20, 0)) == local(1, 8, 0, month=12)


def test_a_moved_working_saturday_counts() -> None:
    schedule = hours.schedule_for(BRANCH, [(date(2026, 11, 28), True)])

    assert hours.next_opening(schedule, local(27, 21, 0)) == local(28, 8, 0)


def test_sla_counts_only_working_hours() -> None:
    schedule = hours.schedule_for(BRANCH)

    # Friday 18:00 + 8 working hours: 2 on Friday, 6 on Monday → Monday 14:00.
    assert hours.add_working_hours(schedule, local(27, 18, 0), 8) == local(30, 14, 0)
    # Written at night: the clock starts at the next opening.
    assert hours.add_working_hours(schedule, local(23, 22, 0), 4) == local(24, 12, 0)
    # Exactly the rest of the day.
    assert hours.add_working_hours(schedule, local(23, 12, 0), 8) == local(23, 20, 0)


@pytest.mark.parametrize(
    ("at", "text"),
    [
        (local(23, 7, 59), "сегодня с 08:00 по красноярскому времени"),
        (local(23, 20, 0), "завтра с 08:00 по красноярскому времени"),
        (local(23, 23, 59), "завтра с 08:00 по красноярскому времени"),
        (local(24, 0, 0), "сегодня с 08:00 по красноярскому времени"),
        (local(27, 20, 0), "в понедельник, 30 ноября с 08:00 по красноярскому времени"),
    ],
)
def test_back_at_phrase(at: datetime, text: str) -> None:
    assert hours.back_at_phrase(hours.schedule_for(BRANCH), at) == text


def test_an_unnamed_zone_is_given_as_utc_offset() -> None:
    branch = SimpleNamespace(**{**vars(BRANCH), "timezone": "Asia/Magadan"})
    schedule = hours.schedule_for(branch)

    assert hours.timezone_phrase(schedule, local(23, 12)) == "по местному времени (UTC+11)"


def test_callback_slots_are_two_hour_windows_of_working_time_from_now() -> None:
    schedule = hours.schedule_for(BRANCH)

    slots = hours.callback_slots(schedule, local(27, 15, 30), days=2)

    starts = [s.astimezone(KRS).strftime("%a %H:%M") for s, _e in slots]
    assert starts == [
        "Fri 16:00",
        "Fri 18:00",
        "Mon 08:00",
        "Mon 10:00",
        "Mon 12:00",
        "Mon 14:00",
        "Mon 16:00",
        "Mon 18:00",
    ]
    assert all((e - s).total_seconds() == 7200 for s, e in slots)
