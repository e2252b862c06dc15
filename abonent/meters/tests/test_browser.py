"""In Chromium: a demo-like customer submits readings for two meters, confirms a rollover,
sees them in the history chart and downloads the PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import time_machine

from abonent.meters.models import Reading, ReadingStatus
from abonent.meters.tests.factories import IN_WINDOW, NOVEMBER, customer_with_meter, history, meter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_submit_two_meters_confirm_rollover_see_chart_download_pdf(
    page: Any, live_url: Any, customer: Any
) -> None:
    # given an ЛС with a hot-water meter at 133.000 and a 3-digit one at 998.000 (it rolls over)
    account, kitchen = customer_with_meter(customer)
    bathroom = meter(account, serial="ГВС-2", digits=3)
    history(bathroom, last=NOVEMBER.replace(month=10), months=12, start="965", step="3")

    with time_machine.travel(IN_WINDOW, tick=True):
        page.goto(live_url("/login/"))
        page.locator("input[name=username]").fill("+7 913 111-22-33")
        page.locator("input[name=password]").fill("correct-horse-2026")
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(live_url("/"))

        # when both are typed in one form
        page.get_by_role("link", name="Счётчики").first.click()
        page.wait_for_url(live_url("/meters/"))
        assert "осталось 5\u00a0дней" in page.locator(".window").first.inner_text()
        page.locator(f"#v-{kitchen.pk}-1").fill("136,5")
        page.locator(f"#v-{bathroom.pk}-1").fill("2")
        page.get_by_role("button", name="Передать показания").click()

        # then the rollover has to be confirmed, and nothing is stored yet
        page.get_by_text("Да, счётчик перешёл через ноль").wait_for()
        assert Reading.objects.filter(month=NOVEMBER).count() == 0
        assert page.locator(f"#v-{kitchen.pk}-1").input_value() == "136,5"
        page.get_by_label("Да, счётчик перешёл через ноль").check()
        page.get_by_role("button", name="Подтвердить и передать").click()
        page.get_by_text("Показания за ноябрь 2026 приняты. Спасибо!").wait_for()
        assert sorted(
            Reading.objects.filter(month=NOVEMBER, status=ReadingStatus.ACCEPTED).values_list(
                "meter__serial", "consumption"
            )
        ) == [("ГВС-1", 3.5), ("ГВС-2", 4)]

        # and the history chart shows November's consumption
        page.locator(f"#meter-{bathroom.pk}").get_by_role("link", name="История и график").click()
        page.wait_for_url(live_url(f"/meters/{bathroom.pk}/"))
        bar = page.locator('svg.chart__svg rect[data-month="2026-11"]')
        assert bar.count() == 1
        assert bar.locator("title").text_content() == "Ноябрь 2026: 4 м³"
        assert "через ноль" in page.locator(".readings-table").inner_text()

        # and the PDF downloads
        with page.expect_download() as download_info:
            page.get_by_role("link", name="PDF за 12 месяцев").click()
        download = download_info.value
        assert download.suggested_filename == f"Показания {account.number} 2025-12 — 2026-11.pdf"
        assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
