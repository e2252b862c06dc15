"""In Chromium against the live server: the demo customer pays two ЛС with a new card on
the sandbox acquirer's page (3-D Secure step, card saved), then again with the saved card;
balances and the receipt are right. The acquirer is reached over real HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pymupdf
import pytest
from django.core.management import call_command

from abonent.accounts.models import PersonalAccount
from abonent.billing.models import LedgerEntry, Service
from abonent.payments.models import Payment, SavedCard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _balance(number: str, code: str) -> Decimal:
    entries = LedgerEntry.objects.filter(account__number=number, service__code=code)
    return sum((e.amount for e in entries), Decimal("0.00"))


def test_demo_customer_pays_two_accounts_then_again_with_the_saved_card(
    page: Any, live_server: Any, live_url: Any, settings: Any
) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.PAYMENTS_SANDBOX_URL = live_url("/sandbox-acquirer")
    settings.PAYMENTS_SANDBOX_NOTIFY_URL = live_url("/api/v1/payments/webhooks/sandbox")
    owing, ahead = "240100123456", "240100654321"
    heating = Service.objects.get(code="heating")
    ahead_account = PersonalAccount.objects.get(number=ahead)
    before = {(n, c): _balance(n, c) for n in (owing, ahead) for c in ("heating", "hot-water")}
    assert before[(owing, "heating")] > 0

    page.goto(live_url("/login/"))
    page.locator("input[name=username]").fill("+7 900 000-00-01")
    page.locator("input[name=password]").fill("demo-pass-2026")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(live_url("/"))

    # «Оплата»: the owing ЛС is pre-filled with its dues; 500 ₽ ahead on the other one
    page.get_by_role("link", name="Оплатить").first.click()
    page.wait_for_url(live_url("/pay/"))
    due = before[(owing, "heating")] + before[(owing, "hot-water")]
    expected_total = due + Decimal("500.00")
    page.locator(f"#amount_{ahead_account.pk}_{heating.pk}").fill("500")
    total = f"{expected_total:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0₽"
    assert page.locator("[data-pay-total]").inner_text() == total
    page.get_by_label("Новая карта").check()
    page.get_by_label("Сохранить карту для следующих оплат").check()
    page.get_by_label("Согласен с").check()
    page.get_by_role("button", name="Оплатить").last.click()

    # the bank's page, then its 3-D Secure step
    page.wait_for_url("**/sandbox-acquirer/pay/**")
    page.get_by_label("Номер карты").fill("4000 0000 0000 3220")
    page.get_by_label("Срок действия").fill("12/30")
    page.get_by_label("CVC/CVV").fill("123")
    page.get_by_role("button", name="Оплатить").click()
    page.wait_for_url("**/sandbox-acquirer/3ds/**")
    page.get_by_label("Код из SMS").fill("12345")
    page.get_by_role("button", name="Подтвердить").click()

    # back in the cabinet: paid, posted to both ЛС, card saved
    page.wait_for_url("**/pay/result/**")
    page.get_by_text("Оплата прошла").wait_for()
    first = Payment.objects.get(status="succeeded", idempotency_key__regex=r"^[0-9a-f]{32}$")
    assert first.amount == expected_total
    assert _balance(owing, "heating") == Decimal("0.00")
    assert _balance(owing, "hot-water") == Decimal("0.00")
    assert _balance(ahead, "heating") == before[(ahead, "heating")] - Decimal("500.00")
    card = SavedCard.objects.get(last4="3220")
    assert card.brand == "Visa"

    # the receipt
    receipt = page.request.get(live_url(f"/payments/{first.pk}/receipt.pdf"))
    assert receipt.status == 200
    text = pymupdf.open(stream=receipt.body(), filetype="pdf")[0].get_text()
    assert owing in text
    assert ahead in text
    assert first.gateway_payment_id in text
    assert f"{expected_total:,.2f}".replace(",", "\u00a0").replace(".", ",") in text

    # again, with the saved card: no bank page this time
    page.goto(live_url("/pay/"))
    page.locator(f"#amount_{ahead_account.pk}_{heating.pk}").fill("250,50")
    page.locator(f"input[name=method][value='{card.pk}']").check()
    page.get_by_label("Согласен с").check()
    page.get_by_role("button", name="Оплатить").last.click()
    page.wait_for_url("**/pay/result/**")
    page.get_by_text("Оплата прошла").wait_for()
    assert _balance(ahead, "heating") == before[(ahead, "heating")] - Decimal("750.50")
    assert Payment.objects.filter(card=card, status="succeeded").count() == 2

    page.goto(live_url("/payments/"))
    assert page.locator(".pay-history__item").count() == 5  # 3 demo payments + 2 new
