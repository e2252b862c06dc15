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


def test_demo_customer_links_two_accounts_opens_a_month_and_downloads_its_bill(
    page: Any, live_url: Any, tmp_path: Any
) -> None:
    # given the demo data, with the demo customer's two ЛС not linked yet
    from django.core.management import call_command

    from abonent.accounts.models import AccountLink

    call_command("seed_demo", verbosity=0)
    AccountLink.objects.filter(user__phone="+79000000001").delete()

    # when the demo customer signs in and links both ЛС from their bills
    page.goto(live_url("/login/"))
    page.locator("input[name=username]").fill("+7 900 000-00-01")
    page.locator("input[name=password]").fill("demo-pass-2026")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(live_url("/"))
    for number, street, house, flat in (
        ("240100123456", "ул. Ленина", "15", "42"),
        ("240100654321", "ул. Карла Маркса", "7А", "3"),
    ):
        page.goto(live_url("/accounts/link/"))
        page.get_by_label("Город").select_option(label="Красноярск")
        page.get_by_label("Номер лицевого счёта").fill(number)
        page.get_by_label("Фамилия собственника").fill("Иванова")
        page.get_by_label("Населённый пункт").fill("Красноярск")
        page.get_by_label("Улица").fill(street)
        page.get_by_label(re.compile(r"^Дом")).fill(house)
        page.get_by_label("Квартира").fill(flat)
        page.get_by_role("button", name="Найти лицевой счёт").click()
        page.get_by_text("Иванова А. П.").wait_for()
        page.get_by_role("button", name="Да, добавить").click()
        page.wait_for_url(re.compile(r"/accounts/\d+/$"))

    # then the accounts page shows one ЛС in debt (red) and one overpaid (green)
    page.goto(live_url("/"))
    totals = page.locator(".account__total")
    assert totals.count() == 2
    assert page.locator(".account__total .amount--due").count() == 1
    assert page.locator(".account__total .amount--overpaid").count() == 1

    # when the indebted ЛС is opened and an earlier month chosen
    due = page.locator("li.account", has=page.locator(".account__total .amount--due"))
    due.get_by_role("link", name=re.compile("Подробнее")).click()
    page.wait_for_url(re.compile(r"/accounts/\d+/"))
    options = page.locator("select#month option")
    assert options.count() >= 2
    earlier = options.nth(1)
    label, value = earlier.inner_text(), earlier.get_attribute("value")
    page.locator("select#month").select_option(value)
    page.get_by_role("button", name="Показать").click()
    page.wait_for_url(re.compile(rf"month={value}"))

    # then the month's breakdown is shown line by line
    assert page.get_by_role("heading", name=f"Начисления за {label.lower()}").is_visible()
    assert page.locator("table.charges tbody tr").count() >= 2

    # and its bill downloads as a PDF with the ЛС and the payee on it
    page.get_by_role("link", name="Квитанции и выписка").click()
    with page.expect_download() as download_info:
        page.locator("a[download]").first.click()
    path = tmp_path / "bill.pdf"
    download_info.value.save_as(path)
    import pymupdf

    text = "".join(p.get_text() for p in pymupdf.open(path).pages())
    assert path.read_bytes().startswith(b"%PDF")
    assert "240100123456" in text
    assert "Иванова Анна Петровна" in text
