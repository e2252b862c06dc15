"""Reminders: the window opens, a day before it closes, 60 and 30 days before verification."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from abonent.meters.models import ReadingSource
from abonent.meters.services import ReadingInput, reading_submit
from abonent.meters.tasks import reading_reminders, verification_reminders
from abonent.meters.tests.factories import customer_with_meter, meter
from abonent.notices.models import Notification

pytestmark = pytest.mark.django_db

# Local (UTC+7) dates: 15 Nov 00:30 is 14 Nov 17:30 UTC.
OPENS = datetime(2026, 11, 14, 17, 30, tzinfo=UTC)
DAY_BEFORE_CLOSE = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def titles(user) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(user=user).values_list("kind", "title"))


def test_window_opens_once_per_account_and_period(customer, time_machine):
    customer_with_meter(customer)
    time_machine.move_to(OPENS, tick=False)
    reading_reminders.delay()
    reading_reminders.delay()  # the hourly job again: nobody is told twice
    assert titles(customer) == [("reading", "Приём показаний за ноябрь 2026 открыт")]
    notice = Notification.objects.get(user=customer)
    assert notice.link == "/meters/"
    assert notice.body.endswith("Передайте показания счётчиков с 15 по 25 число.")


def test_nothing_between_the_reminder_days(customer, time_machine):
    customer_with_meter(customer)
    time_machine.move_to(datetime(2026, 11, 18, 3, 0, tzinfo=UTC), tick=False)
    assert reading_reminders.delay().get() == 0
    assert titles(customer) == []


def test_a_day_before_closing_only_without_a_reading(customer, other_customer, time_machine):
    _account, m = customer_with_meter(customer)
    _other_account, _other = customer_with_meter(other_customer)
    reading_submit(
        user=customer,
        items=[ReadingInput(meter_id=m.pk, values={1: "136"})],
        source=ReadingSource.WEB,
        now=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
    )
    time_machine.move_to(DAY_BEFORE_CLOSE, tick=False)
    reading_reminders.delay()
    assert titles(customer) == []
    assert titles(other_customer) == [("reading", "Завтра последний день приёма показаний")]


def test_remote_and_expired_meters_get_no_reading_reminder(customer, time_machine):
    customer_with_meter(customer, remote=True)
    time_machine.move_to(OPENS, tick=False)
    reading_reminders.delay()
    assert titles(customer) == []


def test_verification_60_and_30_days_before(customer, time_machine):
    account, _m = customer_with_meter(customer, next_verification=date(2027, 1, 14))
    meter(account, serial="ДАЛЕКО", next_verification=date(2027, 6, 1))
    # 15 Nov local: 60 days before 14 Jan
    time_machine.move_to(OPENS, tick=False)
    verification_reminders.delay()
    verification_reminders.delay()
    assert titles(customer) == [("verification", "Поверка счётчика № ГВС-1 до 14.01.2027")]
    # 15 Dec local: 30 days before
    time_machine.move_to(datetime(2026, 12, 14, 17, 30, tzinfo=UTC), tick=False)
    verification_reminders.delay()
    keys = sorted(Notification.objects.filter(user=customer).values_list("dedupe_key", flat=True))
    assert [k.split(":")[0] for k in keys] == ["verification-30", "verification-60"]
