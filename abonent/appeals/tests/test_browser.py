"""Done when: in two browser contexts, the demo customer opens an appeal with a photo, an
operator answers it in the console, and the answer appears on the customer's page without a
reload. Both talk to one uvicorn (HTTP and /ws/) that the test starts on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from abonent.accounts.management.commands.seed_demo import (
    DEMO_PASSWORD,
    DEMO_PHONE,
    STAFF_PASSWORD,
    STAFF_PHONE,
)
from abonent.accounts.tests.factories import make_branch
from abonent.appeals import services
from abonent.appeals.models import Appeal, AppealStatus
from abonent.appeals.tests.factories import image_bytes, make_category
from abonent.core.tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_sees_the_operators_answer_live(
    browser: Any, page: Any, asgi_url: str, make_customer: Any
) -> None:
    make_branch()
    user_model = get_user_model()
    customer = make_customer(
        phone=DEMO_PHONE, password=DEMO_PASSWORD, first_name="Анна", last_name="Иванова"
    )
    staff = user_model.objects.create_user(
        phone=STAFF_PHONE, password=STAFF_PASSWORD, first_name="Ольга", is_staff=True
    )
    staff.groups.add(services.operators_group_ensure())
    make_category("Качество услуг", sla_hours=4)

    # The customer writes, with a photo.
    sign_in(page, asgi_url, DEMO_PHONE, DEMO_PASSWORD)
    page.goto(f"{asgi_url}/appeals/")
    page.get_by_role("link", name="Написать обращение").click()
    page.locator("#id_category").select_option(label="Качество услуг")
    page.locator("#id_subject").fill("Холодная батарея в спальне")
    page.locator("#id_body").fill("Третий день батарея чуть тёплая. Фото прилагаю.")
    page.locator("#id_attachments").set_input_files(
        [{"name": "батарея.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}]
    )
    page.get_by_role("button", name="Отправить обращение").click()
    appeal = Appeal.objects.get()
    page.wait_for_url(f"{asgi_url}/appeals/{appeal.pk}/")
    page.locator("[data-thread][data-live='on']").wait_for()
    page.evaluate("window.__notReloaded = true")

    # An operator answers in the console, in a second browser context.
    console = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    console.set_default_timeout(10_000)
    try:
        operator = console.new_page()
        sign_in(operator, asgi_url, STAFF_PHONE, STAFF_PASSWORD)
        operator.goto(f"{asgi_url}/operator/")
        operator.get_by_role("link", name=f"№ {appeal.pk} · Холодная батарея в спальне").click()
        assert operator.locator(".file__name", has_text="батарея.jpg").is_visible()
        operator.locator("[data-thread][data-live='on']").wait_for()
        operator.locator("#id_body").fill("Здравствуйте! Мастер придёт завтра с 10 до 12.")
        operator.get_by_role("button", name="Ответить").click()
        operator.locator(".msg--mine .msg__body", has_text="Мастер придёт").wait_for()
    finally:
        console.close()

    # The answer appears on the customer's page, without a reload.
    answer = page.locator(".msg__body", has_text="Мастер придёт завтра с 10 до 12.")
    answer.wait_for()
    assert page.evaluate("window.__notReloaded") is True
    assert page.locator("[data-status]").first.inner_text() == "Есть ответ"
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.ANSWERED
    assert appeal.assignee == staff
    assert appeal.user == customer
