"""The meters API: permissions, shapes, errors, confirmations, query counts, the PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pymupdf
import pytest
import time_machine

from abonent.meters.models import MeterStatus, Reading, ReadingSource
from abonent.meters.tests.factories import (
    IN_WINDOW,
    NOVEMBER,
    customer_with_meter,
    electricity,
    meter,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_the_window() -> Any:
    with time_machine.travel(IN_WINDOW, tick=False):
        yield


def post(
    client: Any, meter_id: int, values: list[dict[str, Any]], confirm: list[str] | None = None
):
    return client.post(
        f"/api/v1/meters/{meter_id}/readings",
        {"values": values, "confirm": confirm or []},
        content_type="application/json",
    )


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/accounts/{account}/meters",
        "/api/v1/meters/{meter}/readings",
        "/api/v1/accounts/{account}/readings.pdf",
    ],
)
def test_reads_need_a_signed_in_owner(client, customer, other_api_client, api_client, path):
    account, m = customer_with_meter(customer)
    url = path.format(account=account.pk, meter=m.pk)
    assert client.get(url).status_code == 401
    foreign = other_api_client.get(url)
    assert foreign.status_code == 404
    assert foreign.json()["code"] in {"account_not_found", "meter_not_found"}
    assert api_client.get(url).status_code == 200


def test_submitting_needs_a_signed_in_owner(client, customer, other_api_client, api_client):
    _account, m = customer_with_meter(customer)
    assert post(client, m.pk, [{"scale": 1, "value": "136"}]).status_code == 401
    foreign = post(other_api_client, m.pk, [{"scale": 1, "value": "136"}])
    assert (foreign.status_code, foreign.json()["code"]) == (404, "meter_not_found")
    assert not Reading.objects.filter(month=NOVEMBER).exists()
    assert post(api_client, m.pk, [{"scale": 1, "value": "136"}]).status_code == 201


def test_an_unknown_meter_is_404(api_client):
    response = post(api_client, 999999, [{"scale": 1, "value": "1"}])
    assert (response.status_code, response.json()["code"]) == (404, "meter_not_found")


def test_the_web_session_submits_with_csrf(customer, session_client):
    _account, m = customer_with_meter(customer)
    response = post(session_client, m.pk, [{"value": "136"}])
    assert response.status_code == 201
    assert Reading.objects.get(month=NOVEMBER).source == ReadingSource.WEB


# ---------------------------------------------------------------- meters list


def test_meters_list_shows_window_last_reading_and_verification(customer, api_client):
    account, m = customer_with_meter(customer, next_verification=date(2026, 12, 20))
    response = api_client.get(f"/api/v1/accounts/{account.pk}/meters")
    body = response.json()
    assert body["window"] == {
        "period": "2026-11-01",
        "is_open": True,
        "day_from": 15,
        "day_to": 25,
        "opens_on": "2026-11-15",
        "closes_on": "2026-11-25",
        "closes_at": "2026-11-26T00:00:00+07:00",
        "days_left": 5,
        "text": "Приём показаний с 15 по 25 число, осталось 5\u00a0дней",
    }
    item = body["items"][0]
    assert body["count"] == 1
    assert (item["id"], item["serial"], item["service"], item["unit"]) == (
        m.pk,
        "ГВС-1",
        "Горячее водоснабжение",
        "м³",
    )
    assert item["scales"] == [
        {
            "scale": 1,
            "name": "",
            "last_value": "133.0000",
            "last_period": "2026-10-01",
            "last_taken_at": "2026-10-20T05:00:00+00:00",
            "submitted": False,
        }
    ]
    assert (item["verification_state"], item["verification_text"]) == (
        "soon",
        "Поверка до 20.12.2026 — осталось 30\u00a0дней",
    )
    assert (item["accepts_readings"], item["refusal_code"]) == (True, None)


def test_meters_list_hides_removed_meters_and_explains_refusals(customer, api_client):
    account, _m = customer_with_meter(customer)
    meter(account, serial="СНЯТ", status=MeterStatus.REMOVED)
    meter(account, serial="АВТО", remote=True)
    body = api_client.get(f"/api/v1/accounts/{account.pk}/meters").json()
    assert [(i["serial"], i["refusal_code"]) for i in body["items"]] == [
        ("АВТО", "meter_remote"),
        ("ГВС-1", None),
    ]


def test_meters_list_takes_a_fixed_number_of_queries(
    customer, api_client, django_assert_num_queries
):
    account, _m = customer_with_meter(customer)
    # auth (device with user) + link + meters + latest readings + period state
    with django_assert_num_queries(5):
        assert api_client.get(f"/api/v1/accounts/{account.pk}/meters").status_code == 200
    for n in range(4):
        meter(account, electricity(), serial=f"Э-{n}", scales=2)
    with django_assert_num_queries(5):
        body = api_client.get(f"/api/v1/accounts/{account.pk}/meters").json()
    assert body["count"] == 5


# ---------------------------------------------------------------- submitting


def test_submit_returns_the_reading_and_a_repeat_is_200(customer, api_client):
    _account, m = customer_with_meter(customer)
    response = post(api_client, m.pk, [{"scale": 1, "value": "136,5"}])
    assert response.status_code == 201
    body = response.json()
    assert (body["period"], body["created"], body["out_of_window"]) == ("2026-11-01", True, False)
    assert body["message"] == "Показания за ноябрь 2026 приняты. Спасибо!"
    assert [(r["value"], r["consumption"], r["source"], r["status"]) for r in body["readings"]] == [
        ("136.5000", "3.5000", "app", "accepted")
    ]
    again = post(api_client, m.pk, [{"scale": 1, "value": 136.5}])
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert Reading.objects.filter(month=NOVEMBER).count() == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("двадцать", "Введите число: только цифры и запятая, например 12345,678."),
        ("-1", "Показание не может быть отрицательным."),
        ("1234567", "Слишком много цифр: у счётчика 5 знаков до запятой."),
    ],
)
def test_bad_input_is_422_with_a_russian_message(customer, api_client, value, message):
    _account, m = customer_with_meter(customer)
    response = post(api_client, m.pk, [{"scale": 1, "value": value}])
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_reading",
        "message": message,
        "fields": {f"{m.pk}.1": [message]},
    }
    assert not Reading.objects.filter(month=NOVEMBER).exists()


def test_a_missing_scale_is_422(customer, api_client):
    account, _m = customer_with_meter(customer)
    power = meter(account, electricity(), serial="Э-1", scales=2)
    response = post(api_client, power.pk, [{"scale": 1, "value": "100"}])
    assert response.status_code == 422
    assert response.json()["fields"] == {
        f"{power.pk}.2": ["Введите показания всех зон счётчика: не хватает зоны «ночь»."]
    }
    assert not Reading.objects.filter(meter=power).exists()


def test_a_malformed_body_is_422(customer, api_client):
    _account, m = customer_with_meter(customer)
    response = post(api_client, m.pk, [{"scale": 9, "value": "1"}])
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_a_removed_meter_is_409(customer, api_client):
    _account, m = customer_with_meter(customer, status=MeterStatus.REMOVED)
    response = post(api_client, m.pk, [{"value": "136"}])
    assert (response.status_code, response.json()["code"]) == (409, "meter_removed")
    assert not Reading.objects.filter(month=NOVEMBER).exists()


def test_rollover_is_confirmed_through_the_api(customer, api_client):
    _account, m = customer_with_meter(customer, digits=3, start="965")
    response = post(api_client, m.pk, [{"value": "2"}])
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "confirmation_required"
    assert [(w["meter_id"], w["scale"], w["code"]) for w in body["warnings"]] == [
        (m.pk, 1, "rollover")
    ]
    assert not Reading.objects.filter(month=NOVEMBER).exists()
    confirmed = post(api_client, m.pk, [{"value": "2"}], confirm=["rollover"])
    assert confirmed.status_code == 201
    assert confirmed.json()["readings"][0]["rollover"] is True


def test_history_lists_every_version_with_consumption(customer, api_client):
    _account, m = customer_with_meter(customer)
    post(api_client, m.pk, [{"value": "136"}])
    post(api_client, m.pk, [{"value": "137"}])
    body = api_client.get(f"/api/v1/meters/{m.pk}/readings?limit=3").json()
    assert body["count"] == 14
    assert [(r["period"], r["value"], r["status"], r["consumption"]) for r in body["items"]] == [
        ("2026-11-01", "137.0000", "accepted", "4.0000"),
        ("2026-11-01", "136.0000", "superseded", "3.0000"),
        ("2026-10-01", "133.0000", "accepted", "3.0000"),
    ]
    assert body["items"][0]["supersedes_id"] == body["items"][1]["id"]


def test_readings_pdf_lists_the_readings(customer, api_client):
    account, m = customer_with_meter(customer)
    post(api_client, m.pk, [{"value": "136,5"}])
    response = api_client.get(f"/api/v1/accounts/{account.pk}/readings.pdf?from=2026-10&to=2026-11")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"readings-{account.number}-2026-10-2026-11.pdf" in response["Content-Disposition"]
    text = "".join(p.get_text() for p in pymupdf.open(stream=response.content, filetype="pdf"))
    assert "Переданные показания счётчиков" in text
    assert "ГВС-1" in text
    assert "136,500" in text
    assert "133,000" in text
    assert "130,000" not in text  # September is out of range


def test_readings_pdf_refuses_a_bad_range(customer, api_client):
    account, _m = customer_with_meter(customer)
    response = api_client.get(f"/api/v1/accounts/{account.pk}/readings.pdf?from=2026-13")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_month"


def test_decimal_volume_in_the_billing_sense(customer, api_client):
    """The submitted value is stored exactly (no float rounding)."""
    _account, m = customer_with_meter(customer)
    post(api_client, m.pk, [{"value": 136.123}])
    assert Reading.objects.get(month=NOVEMBER).value == Decimal("136.123")
