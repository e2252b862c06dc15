"""Outages: who is notified (houses, whole streets, buildings, other branches), once per event;
emergency vs planned; the day-before reminder; the admin (publish, updates, finish) and its
refusal of an end before the start."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction

from abonent.accounts.tests.factories import link, make_account, make_branch, make_service
from abonent.notices import services
from abonent.notices.models import Notification, Outage, OutageAddress, OutageUpdate
from abonent.notices.services.outages import outage_recipient_ranges
from abonent.notices.tests.factories import NOW, make_outage

pytestmark = pytest.mark.django_db


@pytest.fixture
def town(make_customer: Any) -> dict[str, Any]:
    """Five customers: two in house 7А (one ЛС shared), one in 7Б, one in another street,
    one at the same street name in another branch."""
    krs = make_branch()
    nsk = make_branch(code="nsk", name="Новосибирск")
    users = {
        n: make_customer(phone=f"+7913555000{i}")
        for i, n in enumerate(["a1", "a2", "b", "far", "nsk"])
    }
    shared = make_account(number="100000000001")  # ул. Карла Маркса, 7А
    link(users["a1"], shared)
    link(users["a2"], shared)
    link(users["b"], make_account(number="100000000002", building="Б"))
    link(users["far"], make_account(number="100000000003", street="ул. Мира", building=""))
    link(
        users["nsk"],
        make_account(number="100000000004", branch=nsk, settlement="Красноярск"),
    )
    return {"krs": krs, "users": users, "hot": make_service("hot_water")}


def recipients(outage: Outage, event: str = "published") -> list[Any]:
    keys = Notification.objects.filter(dedupe_key=f"outage:{outage.pk}:{event}")
    return sorted(keys.values_list("user__phone", flat=True))


def phones(town: dict[str, Any], *names: str) -> list[str]:
    return sorted(town["users"][n].phone for n in names)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (("Красноярск", "ул. Карла Маркса", "7", "А"), ["a1", "a2"]),
        (("Красноярск", "ул. Карла Маркса", "7", ""), ["a1", "a2", "b"]),  # every building
        (("Красноярск", "ул. Карла Маркса", "", ""), ["a1", "a2", "b"]),  # the whole street
        (("Красноярск", "ул. Мира", "7", ""), ["far"]),
        (("Красноярск", "ул. Ленина", "", ""), []),
    ],
)
def test_the_fan_out_reaches_customers_at_the_covered_addresses_once(
    town: dict[str, Any], target: tuple[str, str, str, str], expected: list[str]
) -> None:
    outage = make_outage(branch=town["krs"], service=town["hot"], addresses=[target])

    made = services.outage_notify(outage_id=outage.pk, event="published", now=NOW)

    assert recipients(outage) == phones(town, *expected)
    assert made == len(expected)


def test_a_rerun_and_overlapping_addresses_notify_nobody_twice(town: dict[str, Any]) -> None:
    outage = make_outage(
        branch=town["krs"],
        service=town["hot"],
        addresses=[
            ("Красноярск", "ул. Карла Маркса", "", ""),
            ("Красноярск", "ул. Карла Маркса", "7", "А"),
        ],
    )

    first = services.outage_notify(outage_id=outage.pk, event="published", now=NOW)
    again = services.outage_notify(outage_id=outage.pk, event="published", now=NOW, batch=1)

    assert (first, again) == (3, 0)
    assert recipients(outage) == phones(town, "a1", "a2", "b")


def test_batches_split_the_recipients_by_user_ranges(town: dict[str, Any]) -> None:
    outage = make_outage(
        branch=town["krs"],
        service=town["hot"],
        addresses=[("Красноярск", "ул. Карла Маркса", "", "")],
    )

    ranges = outage_recipient_ranges(outage_id=outage.pk, batch=2)
    made = services.outage_notify(outage_id=outage.pk, event="published", now=NOW, batch=2)

    users = town["users"]
    assert ranges == [(users["a1"].pk, users["a2"].pk), (users["b"].pk, users["b"].pk)]
    assert made == 3


def test_an_emergency_notice_is_marked_urgent_with_the_restore_time(town: dict[str, Any]) -> None:
    outage = make_outage(
        branch=town["krs"],
        service=town["hot"],
        kind="emergency",
        starts_at=NOW - timedelta(minutes=20),
        hours=5,
        addresses=[("Красноярск", "ул. Карла Маркса", "7", "А")],
    )

    services.outage_notify(outage_id=outage.pk, event="published", now=NOW)

    notice = Notification.objects.filter(user=town["users"]["a1"]).get()
    assert notice.emergency is True
    assert notice.kind == "outage"
    assert notice.title == "Аварийное отключение: горячая вода"
    assert notice.body == (
        "ул. Карла Маркса, д. 7, корп. А. Восстановим ориентировочно к 23 ноября в 14:40. "
        "Замена задвижки."
    )
    assert notice.link == f"/info/outages/{outage.pk}/"


def test_a_planned_notice_names_the_day_and_hours_in_local_time(town: dict[str, Any]) -> None:
    outage = make_outage(branch=town["krs"], service=town["hot"])  # 25.11 03:00 UTC = 10:00 local

    services.outage_notify(outage_id=outage.pk, event="published", now=NOW)

    notice = Notification.objects.filter(user=town["users"]["a1"]).get()
    assert notice.emergency is False
    assert notice.title == "Плановое отключение: горячая вода, 25 ноября"
    assert notice.body == (
        "ул. Карла Маркса, д. 7. С 25 ноября в 10:00 до 25 ноября в 18:00. Замена задвижки."
    )


def test_saving_publishes_then_updates_then_the_finish_each_once(
    town: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    staff = town["users"]["far"]
    outage = make_outage(
        branch=town["krs"],
        service=town["hot"],
        kind="emergency",
        starts_at=NOW - timedelta(hours=1),
        published=False,
        addresses=[("Красноярск", "ул. Карла Маркса", "7", "А")],
    )

    with django_capture_on_commit_callbacks(execute=True), time_machine.travel(NOW, tick=False):
        draft_save = services.outage_save(outage_id=outage.pk, actor=staff, now=NOW)
        published = services.outage_save(outage_id=outage.pk, actor=staff, now=NOW, publish=True)
        OutageUpdate.objects.create(outage=outage, text="Бригада на месте", created_at=NOW)
        updated = services.outage_save(outage_id=outage.pk, actor=staff, now=NOW, publish=True)
        nothing_new = services.outage_save(outage_id=outage.pk, actor=staff, now=NOW)
        Outage.objects.filter(pk=outage.pk).update(ended_at=NOW + timedelta(hours=1))
        finished = services.outage_save(outage_id=outage.pk, actor=staff, now=NOW)

    update = OutageUpdate.objects.get()
    assert draft_save == []
    assert published == ["published"]
    assert updated == [f"update:{update.pk}"]
    assert nothing_new == []
    assert finished == ["finished"]
    titles = list(
        Notification.objects.filter(user=town["users"]["a1"])
        .order_by("pk")
        .values_list("title", flat=True)
    )
    assert titles == [
        "Аварийное отключение: горячая вода",
        "Обновление: Ремонт теплотрассы",
        "Горячая вода: подача восстановлена",
    ]


def test_the_day_before_reminder_goes_once_and_not_for_late_publications(
    town: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    target = [("Красноярск", "ул. Карла Маркса", "7", "А")]
    early = make_outage(
        branch=town["krs"], service=town["hot"], starts_at=NOW + timedelta(days=2), addresses=target
    )
    late = make_outage(
        branch=town["krs"],
        service=town["hot"],
        starts_at=NOW + timedelta(hours=20),
        addresses=target,
    )
    Outage.objects.filter(pk=late.pk).update(published_at=NOW)  # published 20 h before: no reminder
    day_before = NOW + timedelta(days=1, minutes=5)

    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(day_before, tick=False),
    ):
        too_soon = services.outage_reminders_send(now=NOW)
        sent = services.outage_reminders_send(now=day_before)
        again = services.outage_reminders_send(now=day_before + timedelta(minutes=15))

    assert (too_soon, sent, again) == ([], [early.pk], [])
    assert recipients(early, "reminder") == phones(town, "a1", "a2")
    assert recipients(late, "reminder") == []


def test_the_database_refuses_an_outage_ending_before_it_starts(town: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Outage.objects.create(
            branch=town["krs"],
            kind="planned",
            service=town["hot"],
            title="Ошибка",
            starts_at=NOW,
            expected_end_at=NOW - timedelta(hours=1),
            created_at=NOW,
            updated_at=NOW,
        )

    assert Outage.objects.count() == 0


# ---------------------------------------------------------------- the admin


@pytest.fixture
def staff_client(client: Any, make_customer: Any) -> Any:
    staff = make_customer(phone="+79000000000", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def admin_post(staff_client: Any, town: dict[str, Any], **overrides: Any) -> Any:
    data = {
        "branch": town["krs"].pk,
        "kind": "emergency",
        "service": town["hot"].pk,
        "title": "Порыв на теплотрассе",
        "description": "Работает аварийная бригада.",
        "starts_at_0": "23.11.2026",
        "starts_at_1": "09:00",
        "expected_end_at_0": "23.11.2026",
        "expected_end_at_1": "15:00",
        "publish": "on",
        "addresses-TOTAL_FORMS": "1",
        "addresses-INITIAL_FORMS": "0",
        "addresses-0-settlement": "Красноярск",
        "addresses-0-street": "ул. Карла Маркса",
        "addresses-0-house": "7",
        "addresses-0-building": "",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return staff_client.post("/admin/notices/outage/add/", data)


def test_staff_publish_an_emergency_outage_in_the_admin_and_customers_are_notified(
    staff_client: Any, town: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), time_machine.travel(NOW, tick=False):
        response = admin_post(staff_client, town)

    assert response.status_code == 302
    outage = Outage.objects.get()
    assert outage.published_at == NOW
    assert recipients(outage) == phones(town, "a1", "a2", "b")


def test_the_admin_refuses_an_end_before_the_start_with_a_clear_message(
    staff_client: Any, town: dict[str, Any]
) -> None:
    response = admin_post(staff_client, town, expected_end_at_1="08:00")

    assert response.status_code == 200
    assert "Ожидаемое окончание должно быть позже начала отключения." in response.content.decode()
    assert Outage.objects.count() == 0
    assert Notification.objects.count() == 0


def test_the_admin_refuses_an_address_with_no_accounts(
    staff_client: Any, town: dict[str, Any]
) -> None:
    response = admin_post(staff_client, town, **{"addresses-0-street": "ул. Ленина"})

    assert response.status_code == 200
    assert "Нет лицевых счетов по этому адресу" in response.content.decode()
    assert Outage.objects.count() == 0
    assert OutageAddress.objects.count() == 0
