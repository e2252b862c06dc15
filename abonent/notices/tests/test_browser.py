"""Done when, in Chromium: the demo customer pays with the saved card and finds the payment in
«Квитанции» with its PDF; then, with «Информация» open, an operator publishes an emergency
outage for the customer's house in the admin and it appears live — as the badge in the
navigation and in the list — without a reload; the news page shows a published item.

The payment runs against pytest-django's live server (the sandbox acquirer is called over
HTTP, so it needs a threaded WSGI server); the live part against one uvicorn (HTTP + /ws/)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pymupdf
import pytest
from django.core.management import call_command

from abonent.accounts.management.commands.seed_demo import (
    DEMO_PASSWORD,
    DEMO_PHONE,
    STAFF_PASSWORD,
    STAFF_PHONE,
)
from abonent.accounts.models import PersonalAccount
from abonent.billing.models import Service
from abonent.core.tests.browser import sign_in
from abonent.notices.models import Notification, Outage
from abonent.payments.models import Payment, SavedCard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_receipts_news_and_a_live_outage_for_the_demo_customer(
    browser: Any, page: Any, live_server: Any, live_url: Any, asgi_url: str, settings: Any
) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.PAYMENTS_SANDBOX_URL = live_url("/sandbox-acquirer")
    settings.PAYMENTS_SANDBOX_NOTIFY_URL = live_url("/api/v1/payments/webhooks/sandbox")
    account = PersonalAccount.objects.get(number="240100654321")
    heating = Service.objects.get(code="heating")
    card = SavedCard.objects.get(last4="0004")

    # A payment with the saved card…
    sign_in(page, live_server.url, DEMO_PHONE, DEMO_PASSWORD)
    page.goto(live_url("/pay/"))
    page.locator(f"#amount_{account.pk}_{heating.pk}").fill("321,50")
    page.locator(f"input[name=method][value='{card.pk}']").check()
    page.get_by_label("Согласен с").check()
    page.get_by_role("button", name="Оплатить").last.click()
    page.wait_for_url("**/pay/result/**")
    page.get_by_text("Оплата прошла").wait_for()
    payment = Payment.objects.filter(card=card, status="succeeded").latest("pk")

    # …is in «Квитанции» with its PDF, next to the monthly bills.
    page.goto(live_url("/info/"))
    page.get_by_role("link", name="Квитанции").first.click()
    page.wait_for_url(live_url("/info/receipts/"))
    row = page.locator(".receipt", has_text=f"Оплата № {payment.pk}")
    amount = f"{payment.amount:,.2f}".replace(",", "\u202f").replace(".", ",")
    assert amount in row.inner_text()  # the owing ЛС's dues (pre-filled) + 321,50
    assert page.locator(".receipt--bill").count() > 0
    with page.expect_download() as download:
        row.get_by_role("link", name="PDF").click()
    path = download.value.path()
    text = pymupdf.open(path)[0].get_text()
    assert "240100654321" in text
    assert payment.gateway_payment_id in text

    # The live part: the customer has «Информация» open…
    live = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    live.set_default_timeout(10_000)
    operator_context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    operator_context.set_default_timeout(15_000)
    try:
        customer = live.new_page()
        sign_in(customer, asgi_url, DEMO_PHONE, DEMO_PASSWORD)
        customer.goto(f"{asgi_url}/info/")
        customer.locator("body[data-events-live='on']").wait_for()
        badge = customer.locator("nav [data-unread-count]")
        before = int(badge.inner_text())
        customer.evaluate("window.__notReloaded = true")

        # …when an operator publishes an emergency outage for her house in the admin.
        operator = operator_context.new_page()
        sign_in(operator, asgi_url, STAFF_PHONE, STAFF_PASSWORD)
        operator.goto(f"{asgi_url}/admin/notices/outage/add/")
        local = datetime.now(ZoneInfo("Asia/Krasnoyarsk"))
        start, end = local - timedelta(minutes=30), local + timedelta(hours=5)
        operator.locator("#id_branch").select_option(label="Красноярск")
        operator.locator("#id_kind").select_option("emergency")
        operator.locator("#id_service").select_option(label="Горячее водоснабжение")
        operator.locator("#id_title").fill("Порыв на ул. Ленина")
        operator.locator("#id_description").fill("Аварийная бригада на месте.")
        operator.locator("#id_starts_at_0").fill(f"{start:%d.%m.%Y}")
        operator.locator("#id_starts_at_1").fill(f"{start:%H:%M:%S}")
        operator.locator("#id_expected_end_at_0").fill(f"{end:%d.%m.%Y}")
        operator.locator("#id_expected_end_at_1").fill(f"{end:%H:%M:%S}")
        operator.locator("#id_publish").check()
        operator.locator("#id_addresses-0-settlement").fill("Красноярск")
        operator.locator("#id_addresses-0-street").fill("ул. Ленина")
        operator.locator("#id_addresses-0-house").fill("15")
        operator.locator("input[name=_save]").click()
        operator.get_by_text("Жителям отправляются оповещения").wait_for()
    finally:
        operator_context.close()

    try:
        outage = Outage.objects.get(title="Порыв на ул. Ленина")
        assert outage.published_at is not None
        customer.wait_for_function(
            "n => document.querySelector('nav [data-unread-count]').textContent === String(n)",
            arg=before + 1,
        )
        item = customer.locator("[data-notices-live] .notice", has_text="Аварийное отключение")
        item.first.wait_for()
        assert customer.evaluate("window.__notReloaded") is True
        assert Notification.objects.filter(dedupe_key=f"outage:{outage.pk}:published").count() == 1

        # The news page shows a published item, with its picture.
        customer.goto(f"{asgi_url}/info/news/")
        customer.get_by_role("link", name="Отопительный сезон начался во всех районах").click()
        customer.get_by_role(
            "heading", name="Отопительный сезон начался во всех районах"
        ).wait_for()
        assert customer.get_by_text("Тепло подано в 100 % жилых домов").is_visible()
        assert customer.evaluate("document.querySelector('.news-article__img').naturalWidth") > 0
    finally:
        live.close()
