"""The «Счётчики» pages: the form for several meters, the confirm step, history, PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from abonent.meters.models import Reading, ReadingStatus
from abonent.meters.tests.factories import IN_WINDOW, NOVEMBER, customer_with_meter, meter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_the_window() -> Any:
    with time_machine.travel(IN_WINDOW, tick=False):
        yield


@pytest.fixture
def signed_in(client: Any, customer: Any) -> Any:
    client.force_login(customer)
    return client


def test_pages_need_a_signed_in_customer(client, customer):
    account, m = customer_with_meter(customer)
    for path in ("/meters/", f"/meters/{m.pk}/", f"/meters/accounts/{account.pk}/readings.pdf"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_another_customers_meter_and_pdf_are_404(client, customer, other_customer):
    account, m = customer_with_meter(customer)
    client.force_login(other_customer)
    assert client.get(f"/meters/{m.pk}/").status_code == 404
    assert client.get(f"/meters/accounts/{account.pk}/readings.pdf").status_code == 404


def test_the_page_lists_meters_with_window_and_last_reading(signed_in, customer):
    account, m = customer_with_meter(customer, next_verification=date(2026, 12, 20))
    html = signed_in.get("/meters/").content.decode()
    assert "Приём показаний с 15 по 25 число, осталось 5\u00a0дней" in html
    assert "№&nbsp;ГВС-1" in html
    assert "Последнее: 133,000 за октябрь 2026" in html
    assert "Поверка до 20.12.2026 — осталось 30\u00a0дней" in html
    assert f'name="v-{m.pk}-1"' in html
    assert f"/meters/accounts/{account.pk}/readings.pdf" in html


def test_submitting_two_meters_at_once(signed_in, customer):
    account, m = customer_with_meter(customer)
    second = meter(account, serial="ГВС-2")
    response = signed_in.post(
        "/meters/", {"account": account.pk, f"v-{m.pk}-1": "136,5", f"v-{second.pk}-1": "20"}
    )
    assert response.status_code == 302
    assert sorted(Reading.objects.filter(month=NOVEMBER).values_list("value", flat=True)) == [
        Decimal("20.0000"),
        Decimal("136.5000"),
    ]
    page = signed_in.get("/meters/").content.decode()
    assert "Показания за ноябрь 2026 приняты. Спасибо!" in page


def test_a_blank_meter_is_left_alone_and_an_empty_form_is_refused(signed_in, customer):
    account, m = customer_with_meter(customer)
    response = signed_in.post("/meters/", {"account": account.pk, f"v-{m.pk}-1": ""})
    assert response.status_code == 422
    assert "Введите показания хотя бы одного счётчика." in response.content.decode()
    assert not Reading.objects.filter(month=NOVEMBER).exists()


def test_a_bad_value_is_shown_next_to_its_field(signed_in, customer):
    account, m = customer_with_meter(customer)
    response = signed_in.post("/meters/", {"account": account.pk, f"v-{m.pk}-1": "12б"})
    html = response.content.decode()
    assert response.status_code == 422
    assert "Введите число: только цифры и запятая, например 12345,678." in html
    assert 'aria-invalid="true"' in html
    assert 'value="12б"' in html
    assert not Reading.objects.filter(month=NOVEMBER).exists()


def test_rollover_needs_the_confirm_step(signed_in, customer):
    account, m = customer_with_meter(customer, digits=3, start="965")
    first = signed_in.post("/meters/", {"account": account.pk, f"v-{m.pk}-1": "2"})
    html = first.content.decode()
    assert first.status_code == 409
    assert "Да, счётчик перешёл через ноль" in html
    assert "Подтвердить и передать" in html
    assert not Reading.objects.filter(month=NOVEMBER).exists()
    second = signed_in.post(
        "/meters/", {"account": account.pk, f"v-{m.pk}-1": "2", f"c-{m.pk}-rollover": "on"}
    )
    assert second.status_code == 302
    reading = Reading.objects.get(month=NOVEMBER, status=ReadingStatus.ACCEPTED)
    assert (reading.rollover, reading.consumption) == (True, Decimal("4.0000"))


def test_history_page_has_chart_and_every_version(signed_in, customer):
    account, m = customer_with_meter(customer)
    signed_in.post("/meters/", {"account": account.pk, f"v-{m.pk}-1": "136"})
    signed_in.post("/meters/", {"account": account.pk, f"v-{m.pk}-1": "137"})
    html = signed_in.get(f"/meters/{m.pk}/").content.decode()
    assert html.count('class="chart__bar') == 13
    assert 'data-month="2026-11"' in html
    assert "Ноябрь 2026: 4 м³" in html
    assert html.count('class="readings-table__old"') == 1
    assert "Заменено исправлением" in html
    assert "136,000" in html
    assert "137,000" in html


def test_pdf_download_from_the_page(signed_in, customer):
    account, _m = customer_with_meter(customer)
    response = signed_in.get(f"/meters/accounts/{account.pk}/readings.pdf?from=2026-01&to=")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    bad = signed_in.get(f"/meters/accounts/{account.pk}/readings.pdf?from=2026-99")
    assert bad.status_code == 302
