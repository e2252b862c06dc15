"""reading_submit: every check, corrections, confirmations, the window in UTC+7."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from abonent.accounts.tests.factories import period
from abonent.core.errors import Conflict, NotFound, ValidationFailed
from abonent.core.models import AuditEntry
from abonent.meters.models import MeterStatus, Reading, ReadingSource, ReadingStatus
from abonent.meters.services import (
    ConfirmationRequired,
    ReadingInput,
    reading_enter,
    reading_submit,
)
from abonent.meters.tests.factories import (
    IN_WINDOW,
    NOVEMBER,
    customer_with_meter,
    electricity,
    meter,
)

pytestmark = pytest.mark.django_db


def submit(user: Any, meter_id: int, *values: str, confirm: tuple[str, ...] = (), now=IN_WINDOW):
    return reading_submit(
        user=user,
        items=[
            ReadingInput(
                meter_id=meter_id,
                values={i + 1: v for i, v in enumerate(values)},
                confirm=frozenset(confirm),
            )
        ],
        source=ReadingSource.WEB,
        now=now,
    )


def test_accepts_a_reading_in_the_window_with_its_consumption(customer):
    # given a meter read at 133.000 in October
    _account, m = customer_with_meter(customer)
    # when the customer sends 136,5 on 20 November
    result = submit(customer, m.pk, "136,5")
    # then it is accepted for November with 3.5 m³ consumed, and audited
    reading = Reading.objects.get(meter=m, month=NOVEMBER)
    assert (reading.value, reading.consumption, reading.status) == (
        Decimal("136.5000"),
        Decimal("3.5000"),
        ReadingStatus.ACCEPTED,
    )
    assert reading.source == ReadingSource.WEB
    assert reading.entered_by == customer
    assert result.period == NOVEMBER
    assert result.out_of_window is False
    assert result.message == "Показания за ноябрь 2026 приняты. Спасибо!"
    assert AuditEntry.objects.filter(action="reading.submit", actor=customer).count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12a", "Введите число: только цифры и запятая, например 12345,678."),
        ("abc", "Введите число: только цифры и запятая, например 12345,678."),
        ("-5", "Показание не может быть отрицательным."),
        ("123456", "Слишком много цифр: у счётчика 5 знаков до запятой."),
        ("136,1234", "Не больше 3 знаков после запятой."),
        ("1,2,3", "Введите число: только цифры и запятая, например 12345,678."),
        ("", "Введите показание."),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(customer, text, message):
    _account, m = customer_with_meter(customer)
    before = Reading.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        submit(customer, m.pk, text)
    assert caught.value.status == 422
    assert caught.value.fields == {f"{m.pk}.1": [message]}
    assert Reading.objects.count() == before
    assert not AuditEntry.objects.filter(action="reading.submit").exists()


def test_leading_zeros_and_spaces_are_fine(customer):
    _account, m = customer_with_meter(customer)
    submit(customer, m.pk, " 00 136,500 ")
    assert Reading.objects.get(meter=m, month=NOVEMBER).value == Decimal("136.5")


def test_a_two_scale_meter_needs_both_scales(customer):
    account, _m = customer_with_meter(customer)
    power = meter(account, electricity(), serial="Э-1", scales=2, digits=6, decimals=1)
    with pytest.raises(ValidationFailed) as caught:
        submit(customer, power.pk, "1200,5")
    assert caught.value.fields == {
        f"{power.pk}.2": ["Введите показания всех зон счётчика: не хватает зоны «ночь»."]
    }
    assert not Reading.objects.filter(meter=power).exists()
    # and a scale it does not have is refused too
    with pytest.raises(ValidationFailed) as caught:
        reading_submit(
            user=customer,
            items=[ReadingInput(meter_id=power.pk, values={1: "1", 2: "2", 3: "3"})],
            source=ReadingSource.WEB,
            now=IN_WINDOW,
        )
    assert caught.value.fields == {f"{power.pk}.3": ["У счётчика № Э-1 нет зоны 3."]}


def test_several_meters_in_one_go_and_two_scales(customer):
    account, m = customer_with_meter(customer)
    power = meter(account, electricity(), serial="Э-1", scales=2, digits=6, decimals=1)
    result = reading_submit(
        user=customer,
        items=[
            ReadingInput(meter_id=m.pk, values={1: "136"}),
            ReadingInput(meter_id=power.pk, values={1: "1200,5", 2: "800"}),
        ],
        source=ReadingSource.APP,
        now=IN_WINDOW,
    )
    assert [len(r.readings) for r in result.meters] == [1, 2]
    assert sorted(
        Reading.objects.filter(month=NOVEMBER).values_list("meter__serial", "scale", "value")
    ) == [("ГВС-1", 1, Decimal("136")), ("Э-1", 1, Decimal("1200.5")), ("Э-1", 2, Decimal("800"))]
    # the first reading of a scale has no consumption
    assert set(Reading.objects.filter(meter=power).values_list("consumption", flat=True)) == {None}


def test_one_bad_meter_stops_the_whole_batch(customer):
    account, m = customer_with_meter(customer)
    other = meter(account, serial="ГВС-2")
    with pytest.raises(ValidationFailed):
        reading_submit(
            user=customer,
            items=[
                ReadingInput(meter_id=m.pk, values={1: "136"}),
                ReadingInput(meter_id=other.pk, values={1: "x"}),
            ],
            source=ReadingSource.WEB,
            now=IN_WINDOW,
        )
    assert not Reading.objects.filter(month=NOVEMBER).exists()


def test_someone_elses_meter_is_not_found(customer, other_customer):
    _account, m = customer_with_meter(customer)
    with pytest.raises(NotFound) as caught:
        submit(other_customer, m.pk, "136")
    assert caught.value.code == "meter_not_found"
    assert not Reading.objects.filter(month=NOVEMBER).exists()


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (
            {"status": MeterStatus.REMOVED},
            "meter_removed",
            "Счётчик № ГВС-1 снят: показания по нему не принимаются.",
        ),
        (
            {"next_verification": date(2026, 11, 20)},
            "meter_expired",
            "Срок поверки счётчика № ГВС-1 истёк 20.11.2026: показания по нему не принимаются, "
            "расход считается по нормативу. Поверьте или замените счётчик и пришлите акт через "
            "«Обращения».",
        ),
        (
            {"status": MeterStatus.EXPIRED, "next_verification": None},
            "meter_expired",
            "Срок поверки счётчика № ГВС-1 истёк: показания по нему не принимаются, расход "
            "считается по нормативу. Поверьте или замените счётчик и пришлите акт через "
            "«Обращения».",
        ),
        (
            {"remote": True},
            "meter_remote",
            "Счётчик № ГВС-1 передаёт показания автоматически: вводить их вручную не нужно.",
        ),
    ],
)
def test_meters_that_take_no_manual_reading(customer, kwargs, code, message):
    _account, m = customer_with_meter(customer, **kwargs)
    with pytest.raises(Conflict) as caught:
        submit(customer, m.pk, "136")
    assert (caught.value.status, caught.value.code, caught.value.message) == (409, code, message)
    assert not Reading.objects.filter(month=NOVEMBER).exists()


def test_a_closed_period_takes_no_reading(customer):
    account, m = customer_with_meter(customer)
    period(account.branch, NOVEMBER, closed=True)
    with pytest.raises(Conflict) as caught:
        submit(customer, m.pk, "136")
    assert caught.value.code == "period_closed"
    assert caught.value.message == (
        "Расчётный период за ноябрь 2026 закрыт: показания за него не принимаются."
    )
    assert not Reading.objects.filter(month=NOVEMBER).exists()


def test_below_the_previous_value_asks_to_confirm_a_rollover(customer):
    _account, m = customer_with_meter(customer, digits=3, start="965")
    # the counter shows 2.000 after 998.000: did it roll over 999.999?
    with pytest.raises(ConfirmationRequired) as caught:
        submit(customer, m.pk, "2")
    warning = caught.value.warnings[0]
    assert (caught.value.status, warning["code"], warning["meter_id"]) == (409, "rollover", m.pk)
    assert caught.value.as_dict()["warnings"] == caught.value.warnings
    assert not Reading.objects.filter(month=NOVEMBER).exists()
    # when confirmed, consumption counts through zero: 1000 − 998 + 2
    submit(customer, m.pk, "2", confirm=("rollover",))
    reading = Reading.objects.get(meter=m, month=NOVEMBER)
    assert (reading.consumption, reading.rollover) == (Decimal("4.0000"), True)


def test_more_than_three_times_the_average_asks_to_confirm(customer):
    _account, m = customer_with_meter(customer)  # 3 m³ a month
    # 9 m³ is exactly 3×: fine
    submit(customer, m.pk, "142")
    Reading.objects.filter(month=NOVEMBER).delete()
    with pytest.raises(ConfirmationRequired) as caught:
        submit(customer, m.pk, "142,1")
    assert caught.value.warnings[0]["code"] == "high"
    assert "в среднем 3,00 в месяц" in caught.value.warnings[0]["message"]
    assert not Reading.objects.filter(month=NOVEMBER).exists()
    submit(customer, m.pk, "142,1", confirm=("high",))
    assert Reading.objects.get(meter=m, month=NOVEMBER).confirmed_high is True


def test_a_correction_supersedes_and_keeps_the_history(customer):
    _account, m = customer_with_meter(customer)
    first = submit(customer, m.pk, "136").meters[0].readings[0]
    later = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    result = submit(customer, m.pk, "135,5", now=later)
    assert result.message == (
        "Показания за ноябрь 2026 исправлены. Прежние значения остались в истории."
    )
    versions = list(
        Reading.objects.filter(meter=m, month=NOVEMBER)
        .order_by("pk")
        .values_list("value", "status", "supersedes_id", "consumption")
    )
    assert versions == [
        (Decimal("136.0000"), ReadingStatus.SUPERSEDED, None, Decimal("3.0000")),
        (Decimal("135.5000"), ReadingStatus.ACCEPTED, first.pk, Decimal("2.5000")),
    ]


def test_the_same_values_again_change_nothing(customer):
    _account, m = customer_with_meter(customer)
    submit(customer, m.pk, "136")
    again = submit(customer, m.pk, "136,000")
    assert again.created is False
    assert again.message == "Эти показания уже переданы за ноябрь 2026."
    assert Reading.objects.filter(meter=m, month=NOVEMBER).count() == 1
    assert AuditEntry.objects.filter(action="reading.submit").count() == 1


# ---------------------------------------------------------------- the window in UTC+7


@pytest.mark.parametrize(
    ("utc", "period_month", "out_of_window"),
    [
        # 14 Nov 23:59 local (16:59 UTC) — before the window: counted for November
        (datetime(2026, 11, 14, 16, 59, tzinfo=UTC), date(2026, 11, 1), True),
        # 15 Nov 00:00 local (14 Nov 17:00 UTC) — the window opens
        (datetime(2026, 11, 14, 17, 0, tzinfo=UTC), date(2026, 11, 1), False),
        # 25 Nov 23:59 local (16:59 UTC) — the last minute of the window
        (datetime(2026, 11, 25, 16, 59, tzinfo=UTC), date(2026, 11, 1), False),
        # 26 Nov 00:00 local (25 Nov 17:00 UTC), still the 25th in UTC — next period
        (datetime(2026, 11, 25, 17, 0, tzinfo=UTC), date(2026, 12, 1), True),
        # 1 Dec 00:30 local (30 Nov 17:30 UTC) — before December's window
        (datetime(2026, 11, 30, 17, 30, tzinfo=UTC), date(2026, 12, 1), True),
    ],
)
def test_window_edges_in_the_branch_time_zone(customer, utc, period_month, out_of_window):
    _account, m = customer_with_meter(customer)
    result = submit(customer, m.pk, "136", now=utc)
    assert (result.period, result.out_of_window) == (period_month, out_of_window)
    assert Reading.objects.get(meter=m, value=Decimal("136")).month == period_month
    assert Reading.objects.get(meter=m, value=Decimal("136")).out_of_window is out_of_window


def test_outside_the_window_the_customer_is_told_which_period(customer):
    _account, m = customer_with_meter(customer)
    result = submit(customer, m.pk, "136", now=datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    assert result.message == (
        "Сейчас показания не принимаются: приём с 15 по 25 число. Переданные показания "
        "сохранятся и будут учтены в расчёте за декабрь 2026."
    )


# ---------------------------------------------------------------- operator entry


def test_an_operator_enters_a_reading_taken_by_phone(customer, make_customer):
    _account, m = customer_with_meter(customer)
    operator = make_customer(phone="+79130000001", is_staff=True)
    reading_enter(
        operator=operator,
        item=ReadingInput(meter_id=m.pk, values={1: "136"}),
        now=IN_WINDOW,
    )
    reading = Reading.objects.get(meter=m, month=NOVEMBER)
    assert (reading.source, reading.entered_by) == (ReadingSource.OPERATOR, operator)
    entry = AuditEntry.objects.get(action="reading.submit")
    assert entry.actor == operator


def test_an_operator_may_name_an_open_past_period_but_not_a_closed_one(customer, make_customer):
    account, m = customer_with_meter(customer)
    operator = make_customer(phone="+79130000001", is_staff=True)
    period(account.branch, date(2026, 10, 1), closed=True)
    with pytest.raises(Conflict):
        reading_enter(
            operator=operator,
            item=ReadingInput(meter_id=m.pk, values={1: "134"}),
            now=IN_WINDOW,
            month=date(2026, 10, 1),
        )
    assert Reading.objects.filter(meter=m, month=date(2026, 10, 1)).count() == 1
