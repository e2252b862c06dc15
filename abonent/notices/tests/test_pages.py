"""«Информация» pages: the section front page, notifications (unread first, read, all read),
news, an outage, the receipts archive, settings; access and query counts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from abonent.accounts.tests.factories import link, make_account, make_service
from abonent.billing.models import Bill, BillingPeriod, PeriodStatus
from abonent.notices.models import ChannelPreference, News, Notification, NotificationSettings
from abonent.notices.tests.factories import NOW, make_outage
from abonent.payments.models import Payment, PaymentLine

pytestmark = pytest.mark.django_db

PAGES = [
    "/info/",
    "/info/notifications/",
    "/info/news/",
    "/info/receipts/",
    "/info/settings/",
    "/info/news/1/",
    "/info/outages/1/",
]


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def signed_in(client: Any, customer: Any) -> Any:
    client.force_login(customer)
    return client


def notice(
    user: Any, key: str, *, minutes: int = 0, read: bool = False, kind: str = "bill"
) -> Notification:
    at = NOW - timedelta(minutes=minutes)
    return Notification.objects.create(
        user=user,
        kind=kind,
        title=f"Оповещение {key}",
        body="Текст",
        link="/meters/",
        created_at=at,
        read_at=at if read else None,
        dedupe_key=key,
    )


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_signed_in_customer(client: Any, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_front_page_shows_my_outage_notices_and_news(signed_in: Any, customer: Any) -> None:
    account = make_account()
    link(customer, account)
    make_outage(branch=account.branch, service=make_service("hot_water"))
    notice(customer, "a")
    News.objects.create(
        title="Отопительный сезон начался",
        body="…",
        published_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )

    html = signed_in.get("/info/").content.decode()

    assert "Отключения по вашим адресам" in html
    assert "Ремонт теплотрассы" in html
    assert (
        "25 ноября, 18:00" in html
    )  # restore time, Krasnoyarsk (the session's zone is Moscow here)
    assert "Оповещение a" in html
    assert "Отопительный сезон начался" in html
    assert "data-unread-badge" in html
    assert "<span data-unread-count>1</span>" in html


def test_front_page_without_outages_says_so(signed_in: Any) -> None:
    html = signed_in.get("/info/").content.decode()

    assert "Отключений по вашим адресам не запланировано." in html
    assert "data-unread-badge hidden" in html


def test_notifications_unread_first_filtered_with_fixed_queries(
    signed_in: Any, customer: Any, django_assert_max_num_queries: Any
) -> None:
    notice(customer, "old-unread", minutes=90)
    notice(customer, "new-read", minutes=1, read=True)
    notice(customer, "outage", minutes=5, kind="outage")
    for i in range(30):
        notice(customer, f"bulk{i}", minutes=200 + i, read=True)

    # session, user, the shell's branch (middleware + header), unread, count, page…
    with django_assert_max_num_queries(13):
        html = signed_in.get("/info/notifications/").content.decode()
    outages = signed_in.get("/info/notifications/?kind=outage").content.decode()

    assert (
        html.index("Оповещение outage")
        < html.index("Оповещение old-unread")
        < html.index("Оповещение new-read")
    )
    assert "Страница 1 из 2" in html
    assert "Оповещение outage" in outages
    assert "Оповещение old-unread" not in outages


def test_the_list_fragment_for_the_live_refresh(signed_in: Any, customer: Any) -> None:
    notice(customer, "a")

    html = signed_in.get("/info/notifications/", headers={"HX-Request": "true"}).content.decode()

    assert html.startswith('<div class="notices-live" data-notices-live')
    assert "<html" not in html


def test_open_marks_read_and_follows_the_link(signed_in: Any, customer: Any) -> None:
    n = notice(customer, "a")

    response = signed_in.post(f"/info/notifications/{n.pk}/read/", {"open": "1"})

    n.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == "/meters/"
    assert n.read_at == NOW


def test_marking_anothers_notification_is_404_and_changes_nothing(
    signed_in: Any, other_customer: Any
) -> None:
    theirs = notice(other_customer, "a")

    response = signed_in.post(f"/info/notifications/{theirs.pk}/read/")

    theirs.refresh_from_db()
    assert response.status_code == 404
    assert theirs.read_at is None


def test_all_read(signed_in: Any, customer: Any) -> None:
    notice(customer, "a")
    notice(customer, "b")

    response = signed_in.post("/info/notifications/read-all/", {"next": "https://evil.example/"})

    assert response["Location"] == "/info/notifications/"
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_news_list_and_page(signed_in: Any) -> None:
    item = News.objects.create(
        title="Оплата без комиссии",
        lead="Коротко",
        body="Первый абзац.\n\nВторой абзац.",
        published_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    draft = News.objects.create(title="Черновик", body="…", created_at=NOW, updated_at=NOW)

    listing = signed_in.get("/info/news/").content.decode()
    page = signed_in.get(f"/info/news/{item.pk}/").content.decode()

    assert "Оплата без комиссии" in listing
    assert "Черновик" not in listing
    assert "<p>Первый абзац.</p>" in page
    assert "<p>Второй абзац.</p>" in page
    assert signed_in.get(f"/info/news/{draft.pk}/").status_code == 404


def test_an_outage_page_for_my_address_only(
    signed_in: Any, customer: Any, other_customer: Any
) -> None:
    mine = make_account()
    link(customer, mine)
    outage = make_outage(branch=mine.branch, service=make_service("hot_water"))
    elsewhere = make_outage(
        branch=mine.branch,
        service=make_service("heating"),
        addresses=[("Красноярск", "ул. Мира", "", "")],
    )

    assert "Ремонт теплотрассы" in signed_in.get(f"/info/outages/{outage.pk}/").content.decode()
    assert signed_in.get(f"/info/outages/{elsewhere.pk}/").status_code == 404


def test_receipts_archive_lists_paid_payments_and_bills(
    signed_in: Any, customer: Any, other_customer: Any, django_assert_max_num_queries: Any
) -> None:
    account = make_account()
    link(customer, account)
    heating = make_service("heating")
    period = BillingPeriod.objects.create(
        branch=account.branch, month=date(2026, 10, 1), status=PeriodStatus.CLOSED, closed_at=NOW
    )
    Bill.objects.create(
        account=account,
        period=period,
        number="KRS-202610-1",
        opening_balance=Decimal("0"),
        charged=Decimal("3100.00"),
        recalculated=Decimal("0"),
        paid=Decimal("0"),
        total_due=Decimal("3100.00"),
        issued_at=NOW - timedelta(days=20),
    )
    paid = _payment(customer, account, heating, status="succeeded")
    _payment(customer, account, heating, status="failed", key="k2")
    _payment(other_customer, account, heating, status="succeeded", key="k3")

    with django_assert_max_num_queries(10):
        html = signed_in.get("/info/receipts/").content.decode()
    only_bills = signed_in.get("/info/receipts/?kind=bill").content.decode()

    assert f"Оплата № {paid.pk}" in html
    assert f'href="/payments/{paid.pk}/receipt.pdf"' in html
    assert "Квитанция за октябрь 2026" in html
    assert html.count('class="receipt receipt--') == 2
    assert "Чек 54-ФЗ" in html
    assert "Оплата №" not in only_bills


def _payment(user: Any, account: Any, service: Any, *, status: str, key: str = "k1") -> Payment:
    payment = Payment.objects.create(
        user=user,
        purpose="dues",
        idempotency_key=key,
        request_hash="x",
        status=status,
        amount=Decimal("1500.00"),
        gateway="sandbox",
        fiscal_receipt_url="https://ofd.example/check/1" if status == "succeeded" else "",
        created_at=NOW - timedelta(days=3),
        updated_at=NOW,
        paid_at=NOW - timedelta(days=3) if status == "succeeded" else None,
    )
    PaymentLine.objects.create(
        payment=payment, account=account, service=service, amount=Decimal("1500.00")
    )
    return payment


def test_settings_page_saves_channels_and_quiet_hours(signed_in: Any, customer: Any) -> None:
    page = signed_in.get("/info/settings/").content.decode()
    data = {
        "ch_bill_email": "1",
        "ch_outage_sms": "1",
        "quiet_enabled": "1",
        "quiet_from": "23:00",
        "quiet_to": "07:30",
    }

    response = signed_in.post("/info/settings/", data)

    assert 'name="ch_outage_sms" value="1" checked' in page
    assert response.status_code == 302
    enabled = ChannelPreference.objects.filter(user=customer, enabled=True)
    assert sorted(enabled.values_list("kind", "channel")) == [("bill", "email"), ("outage", "sms")]
    row = NotificationSettings.objects.get(user=customer)
    assert (f"{row.quiet_from:%H:%M}", f"{row.quiet_to:%H:%M}") == ("23:00", "07:30")


def test_settings_page_shows_the_error_and_writes_nothing(signed_in: Any, customer: Any) -> None:
    response = signed_in.post("/info/settings/", {"quiet_from": "08:00", "quiet_to": "08:00"})

    html = response.content.decode()
    assert response.status_code == 422
    assert "Конец тихих часов должен отличаться от начала." in html
    assert ChannelPreference.objects.count() == 0
    assert NotificationSettings.objects.count() == 0
