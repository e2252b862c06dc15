"""Back office: operator entry, filters, CSV export (the billing export) and import."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command

from abonent.meters.models import Reading, ReadingSource, ReadingStatus
from abonent.meters.tests.factories import IN_WINDOW, NOVEMBER, customer_with_meter

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Any, make_customer: Any) -> Any:
    staff = make_customer(phone="+79130000009", is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def test_operator_enters_a_reading_by_phone(staff_client, customer):
    _account, m = customer_with_meter(customer)
    url = f"/admin/meters/meter/{m.pk}/reading/"
    with time_machine.travel(IN_WINDOW, tick=False):
        assert staff_client.get(url).status_code == 200
        bad = staff_client.post(url, {"scale_1": "12x"})
        assert bad.status_code == 200
        assert "Введите число" in bad.content.decode()
        assert not Reading.objects.filter(month=NOVEMBER).exists()
        response = staff_client.post(url, {"scale_1": "136,5"})
    assert response.status_code == 302
    reading = Reading.objects.get(month=NOVEMBER)
    assert (reading.source, reading.entered_by, reading.value) == (
        ReadingSource.OPERATOR,
        staff_client.staff,
        Decimal("136.5"),
    )


def test_customers_cannot_reach_operator_entry(client, customer):
    _account, m = customer_with_meter(customer)
    client.force_login(customer)
    response = client.get(f"/admin/meters/meter/{m.pk}/reading/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_admin_lists_and_filters(staff_client, customer):
    customer_with_meter(customer)
    for path in (
        "/admin/meters/meter/",
        "/admin/meters/reading/?status__exact=accepted&source__exact=web",
        "/admin/meters/reading/?rollover__exact=1",
    ):
        assert staff_client.get(path).status_code == 200


def test_export_action_reuses_the_billing_export(staff_client, customer):
    _account, m = customer_with_meter(customer)
    ids = list(Reading.objects.filter(meter=m).values_list("pk", flat=True)[:2])
    response = staff_client.post(
        "/admin/meters/reading/",
        {"action": "export_csv", "_selected_action": ids},
    )
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0] == "account;service;serial;scale;value;month;source"
    assert len(text.splitlines()) == 3  # header + the two chosen months


def test_import_all_or_nothing(customer, tmp_path: Path):
    account, _m = customer_with_meter(customer)
    good = tmp_path / "good.csv"
    good.write_text(
        "account;service;serial;scale;value;month\n"
        f"{account.number};hot-water;ГВС-1;1;136,5;2026-11\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "account;service;serial;scale;value;month\n"
        f"{account.number};hot-water;ГВС-1;1;140;2026-12\n"
        f"{account.number};hot-water;НЕТ;1;1;2026-12\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError):
        call_command("meters_import", "--branch", "krasnoyarsk", str(bad))
    assert not Reading.objects.filter(month__gte=NOVEMBER).exists()
    call_command("meters_import", "--branch", "krasnoyarsk", str(good))
    reading = Reading.objects.get(month=NOVEMBER)
    assert (reading.value, reading.source, reading.status, reading.consumption) == (
        Decimal("136.5000"),
        ReadingSource.IMPORT,
        ReadingStatus.ACCEPTED,
        Decimal("3.5000"),
    )
