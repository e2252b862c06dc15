"""Accounts pages: the list with red and green amounts, linking with a confirm step, the ЛС
page with its breakdown and chart, rename and unlink; someone else's ЛС is a 404."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.test import Client

from abonent.accounts.models import AccountLink
from abonent.accounts.tests.factories import charge, link, make_account, make_branch, payment

pytestmark = pytest.mark.django_db

NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)


@pytest.fixture
def signed_in(client: Client, customer: Any) -> Client:
    client.force_login(customer)
    return client


def form_data(account: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "branch": account.branch_id,
        "number": "240100123456",
        "owner_surname": "Иванова",
        "settlement": "Красноярск",
        "street": "Карла Маркса",
        "house": "7а",
        "flat": "12",
        "label": "Мамина квартира",
    }
    data.update(changes)
    return data


def test_list_shows_due_in_red_and_overpaid_in_green(signed_in: Client, customer: Any) -> None:
    acc = make_account()
    charge(acc, "heating", NOV, volume="1", tariff="1500", amount="1500.00")
    payment(acc, "hot_water", NOV, "250.50")
    link(customer, acc, label="Дача")
    credit = make_account(number="240100555555", flat="55")
    payment(credit, "heating", NOV, "99.90")
    link(customer, credit)

    html = signed_in.get("/").content.decode()

    assert "Дача" in html
    assert "240100123456" in html
    assert '<span class="amount amount--due">1\u202f500,00\u00a0₽</span>' in html
    assert '<span class="amount amount--overpaid"><span class="visually-hidden">' in html
    assert "250,50\u00a0₽" in html
    assert "К оплате" in html
    assert "Переплата" in html
    assert f'href="/pay/?account={acc.pk}"' in html
    assert f'href="/accounts/{acc.pk}/"' in html
    assert 'href="/accounts/link/"' in html


def test_empty_list_offers_linking(signed_in: Client) -> None:
    html = signed_in.get("/").content.decode()

    assert "Добавьте лицевой счёт" in html
    assert 'href="/accounts/link/"' in html


def test_link_flow_preview_then_confirm(signed_in: Client, customer: Any) -> None:
    acc = make_account()

    preview = signed_in.post("/accounts/link/", form_data(acc))
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Это ваш лицевой счёт?" in html
    assert "Иванова А. П." in html
    assert "Красноярск, ул. Карла Маркса, д. 7, корп. А, кв. 12" in html
    assert AccountLink.objects.count() == 0

    done = signed_in.post("/accounts/link/", {**form_data(acc), "confirm": "1"})

    assert done.status_code == 302
    assert done["Location"] == f"/accounts/{acc.pk}/"
    assert AccountLink.objects.get().label == "Мамина квартира"


def test_link_mismatch_shows_the_generic_message(signed_in: Client) -> None:
    acc = make_account()

    response = signed_in.post("/accounts/link/", form_data(acc, flat="13"))

    assert response.status_code == 422
    assert "Не нашли лицевой счёт с такими данными." in response.content.decode()
    assert AccountLink.objects.count() == 0


def test_link_missing_fields_are_shown_beside_them(signed_in: Client) -> None:
    make_branch()

    response = signed_in.post("/accounts/link/", {"number": "12"})
    html = response.content.decode()

    assert response.status_code == 400
    assert "Номер лицевого счёта — от 6 до 20 цифр." in html
    assert "Введите фамилию собственника." in html
    assert "id_street_error" in html


def test_link_edit_goes_back_to_the_filled_form(signed_in: Client) -> None:
    acc = make_account()

    response = signed_in.post("/accounts/link/", {**form_data(acc), "edit": "1"})

    assert response.status_code == 200
    assert 'value="Карла Маркса"' in response.content.decode()


def test_detail_shows_breakdown_why_and_chart(signed_in: Client, customer: Any) -> None:
    acc = make_account()
    charge(acc, "heating", OCT, volume="1.0", tariff="2300", amount="2300.00")
    charge(acc, "heating", NOV, volume="1.2", tariff="2530", amount="3036.00")
    charge(
        acc,
        "heating",
        NOV,
        volume="-0.1",
        tariff="2300",
        amount="-230.00",
        for_month=OCT,
        reason="Переданы показания",
    )
    payment(acc, "heating", NOV, "2300.00")
    link(customer, acc)

    response = signed_in.get(f"/accounts/{acc.pk}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Начисления за ноябрь 2026" in html
    assert "1,2 Гкал" in html
    assert "2530 ₽" in html
    assert "по счётчику" in html
    assert "3\u202f036,00\u00a0₽" in html
    assert "Переданы показания" in html
    assert "Почему такая сумма" in html
    assert "+736,00\u00a0₽" in html
    assert "Тариф: был 2300 ₽, стал 2530 ₽ за Гкал (+10 %)" in html
    assert "<svg" in html
    assert "<title" in html
    assert "chart__bar--current" in html
    assert 'style="' not in html
    assert "<script>" not in html
    # closing: 2300 + 3036 − 230 − 2300 = 2806 due
    assert '<dd class="amount amount--due">К оплате: 2\u202f806,00\u00a0₽</dd>' in html


def test_detail_other_month(signed_in: Client, customer: Any) -> None:
    acc = make_account()
    charge(acc, "heating", OCT, volume="1.0", tariff="2300", amount="2300.00")
    charge(acc, "heating", NOV, volume="1.2", tariff="2530", amount="3036.00")
    link(customer, acc)

    html = signed_in.get(f"/accounts/{acc.pk}/?month=2026-10").content.decode()

    assert "Начисления за октябрь 2026" in html
    assert '<option value="2026-10" selected>' in html


def test_detail_without_charges(signed_in: Client, customer: Any) -> None:
    acc = make_account()
    link(customer, acc)

    html = signed_in.get(f"/accounts/{acc.pk}/").content.decode()

    assert "Начислений пока нет" in html


def test_detail_links_to_the_bills_and_statement(signed_in: Client, customer: Any) -> None:
    acc = make_account()
    link(customer, acc)

    html = signed_in.get(f"/accounts/{acc.pk}/").content.decode()

    assert f'href="/accounts/{acc.pk}/bills/"' in html
    assert signed_in.get(f"/accounts/{acc.pk}/bills/").status_code == 200


def test_rename_page(signed_in: Client, customer: Any) -> None:
    acc = make_account()
    link(customer, acc, label="Дом")

    form = signed_in.get(f"/accounts/{acc.pk}/rename/")
    assert 'value="Дом"' in form.content.decode()
    response = signed_in.post(f"/accounts/{acc.pk}/rename/", {"label": "Дача"})

    assert response.status_code == 302
    assert AccountLink.objects.get().label == "Дача"


def test_unlink_page_confirms_first(signed_in: Client, customer: Any) -> None:
    acc = make_account()
    link(customer, acc)

    confirm = signed_in.get(f"/accounts/{acc.pk}/unlink/")
    assert "Убрать лицевой счёт из кабинета?" in confirm.content.decode()
    assert AccountLink.objects.count() == 1
    response = signed_in.post(f"/accounts/{acc.pk}/unlink/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert AccountLink.objects.count() == 0


PAGES = [
    ("get", "/accounts/{id}/"),
    ("get", "/accounts/{id}/rename/"),
    ("post", "/accounts/{id}/rename/"),
    ("get", "/accounts/{id}/unlink/"),
    ("post", "/accounts/{id}/unlink/"),
]


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_page_permission_matrix(
    client: Client, customer: Any, other_customer: Any, method: str, path: str
) -> None:
    acc = make_account()
    link(customer, acc, label="Моя")
    url = path.format(id=acc.pk)

    anonymous = getattr(client, method)(url)
    client.force_login(other_customer)
    foreign = getattr(client, method)(url, {"label": "Чужая"} if method == "post" else None)
    client.force_login(customer)
    own = getattr(client, method)(url, {"label": "Моя"} if method == "post" else None)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/?next=")
    assert foreign.status_code == 404
    assert own.status_code in (200, 302)
    assert AccountLink.objects.filter(label="Чужая").count() == 0


def test_link_page_needs_sign_in(client: Client) -> None:
    response = client.get("/accounts/link/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/accounts/link/"


def test_link_already_linked_says_so(signed_in: Client, customer: Any) -> None:
    acc = make_account()
    link(customer, acc)

    response = signed_in.post("/accounts/link/", {**form_data(acc), "confirm": "1"})

    assert response.status_code == 409
    assert "Этот лицевой счёт уже добавлен в ваш кабинет." in response.content.decode()
    assert AccountLink.objects.count() == 1


def test_link_too_many_failures_is_429_with_minutes(signed_in: Client) -> None:
    acc = make_account()
    for _ in range(10):
        assert signed_in.post("/accounts/link/", form_data(acc, flat="1")).status_code == 422

    response = signed_in.post("/accounts/link/", form_data(acc))

    assert response.status_code == 429
    assert "Слишком много неудачных попыток. Попробуйте снова через 60 мин." in (
        response.content.decode()
    )


def test_link_form_preselects_the_city_of_the_first_account(
    session_client: Any, customer: Any
) -> None:
    # given a customer with an ЛС in Красноярск
    link(customer, make_account())

    # when the link form opens
    page = session_client.get("/accounts/link/").content.decode()

    # then Красноярск is chosen already
    assert re.search(r'<option value="\d+" selected>Красноярск</option>', page)
