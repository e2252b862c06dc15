"""In Chromium: sign in, link an ЛС through the pages, see its balance, open the month."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from abonent.accounts.tests.factories import charge, make_account, payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOV = date(2026, 11, 1)


def test_link_an_account_and_see_its_balance(page: Any, live_url: Any, customer: Any) -> None:
    acc = make_account()
    charge(acc, "heating", NOV, volume="1.2", tariff="2530", amount="3036.00")
    payment(acc, "hot_water", NOV, "150.00")

    page.goto(live_url("/login/"))
    page.locator("input[name=username]").fill("+7 913 111-22-33")
    page.locator("input[name=password]").fill("correct-horse-2026")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(live_url("/"))

    page.get_by_role("link", name="Добавить лицевой счёт").first.click()
    page.get_by_label("Город").select_option(label="Красноярск")
    page.get_by_label("Номер лицевого счёта").fill("240100123456")
    page.get_by_label("Фамилия собственника").fill("иванова")
    page.get_by_label("Населённый пункт").fill("Красноярск")
    page.get_by_label("Улица").fill("ул. Карла Маркса")
    page.get_by_label(re.compile(r"^Дом")).fill("7 А")
    page.get_by_label("Квартира").fill("12")
    page.get_by_label("Своё название").fill("Дача")
    page.get_by_role("button", name="Найти лицевой счёт").click()

    page.get_by_text("Иванова А. П.").wait_for()
    page.get_by_role("button", name="Да, добавить").click()
    page.wait_for_url(live_url(f"/accounts/{acc.pk}/"))

    assert page.get_by_role("heading", name="Дача", level=1).is_visible()
    assert page.locator(".account__total .amount--due").inner_text() == "2\u202f886,00\u00a0₽"
    assert "Начисления за ноябрь 2026" in page.content()
    assert page.locator("svg.chart__svg rect.chart__bar").count() == 1

    page.goto(live_url("/"))
    assert page.locator(".balances .amount--overpaid").inner_text().endswith("150,00\u00a0₽")
