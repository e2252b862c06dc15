"""Customer pages and the operator console: access rules, forms, statuses, unread counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from abonent.accounts.tests.factories import link, make_account
from abonent.appeals import services
from abonent.appeals.models import Appeal, AppealStatus, Message
from abonent.appeals.tests.factories import (
    NOW,
    exe_bytes,
    image_bytes,
    make_appeal,
    make_canned,
    make_category,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="abonent.identity.backends.LoginBackend")
    return client


@pytest.fixture
def appeal(customer: Any, branch: Any, operator: Any) -> Appeal:
    appeal = make_appeal(customer, subject="Холодные батареи")
    services.message_send(
        appeal_id=appeal.pk, user=operator, body="Проверим", files=[], now=NOW, as_operator=True
    )
    services.message_send(
        appeal_id=appeal.pk,
        user=operator,
        body="секретная заметка",
        files=[],
        now=NOW,
        as_operator=True,
        internal=True,
    )
    return appeal


# ---------------------------------------------------------------- customer pages


@pytest.mark.parametrize(
    "path", ["/appeals/", "/appeals/new/", "/appeals/1/", "/appeals/callback/"]
)
def test_pages_need_sign_in(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_list_shows_status_and_unread(appeal: Appeal, customer: Any) -> None:
    html = signed_in(customer).get("/appeals/").content.decode()

    assert "Холодные батареи" in html
    assert "Есть ответ" in html
    assert "1 новое сообщение" in html
    assert 'href="tel:+73912280000"' in html
    assert "Заказать звонок" in html


def test_thread_page_hides_internal_notes_and_marks_read(appeal: Appeal, customer: Any) -> None:
    client = signed_in(customer)

    html = client.get(f"/appeals/{appeal.pk}/").content.decode()

    assert "Проверим" in html
    assert "секретная заметка" not in html
    assert f'data-ws="/ws/appeals/{appeal.pk}/"' in html
    assert "1 новое сообщение" not in client.get("/appeals/").content.decode()


@pytest.mark.parametrize("path", ["/appeals/{id}/", "/appeals/callback/?appeal={id}"])
def test_another_customer_gets_404(appeal: Appeal, other_customer: Any, path: str) -> None:
    response = signed_in(other_customer).get(path.format(id=appeal.pk))

    assert response.status_code == 404


@pytest.mark.parametrize("action", ["messages", "close", "reopen", "rate"])
def test_another_customers_posts_are_404_and_change_nothing(
    appeal: Appeal, other_customer: Any, action: str
) -> None:
    before = (Message.objects.count(), Appeal.objects.get().status)

    response = signed_in(other_customer).post(
        f"/appeals/{appeal.pk}/{action}/", {"body": "x", "rating": 5}
    )

    assert response.status_code == 404
    assert (Message.objects.count(), Appeal.objects.get().status) == before


def test_new_appeal_form_with_a_photo(customer: Any, branch: Any) -> None:
    category = make_category()
    client = signed_in(customer)
    assert "Специалисты сейчас на связи" in client.get("/appeals/new/").content.decode()

    response = client.post(
        "/appeals/new/",
        {
            "category": category.pk,
            "subject": "Протечка",
            "body": "Течёт",
            "attachments": [upload("фото.jpg", image_bytes())],
        },
    )

    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appeals/{appeal.pk}/"
    assert appeal.messages.get().attachments.get().name == "фото.jpg"


def test_account_is_asked_only_with_several(customer: Any, branch: Any) -> None:
    client = signed_in(customer)
    link(customer, make_account(number="240100000001", flat="1"))
    assert 'name="account"' not in client.get("/appeals/new/").content.decode()

    link(customer, make_account(number="240100000002", flat="2"))
    html = client.get("/appeals/new/").content.decode()

    assert 'name="account"' in html
    assert "240100000002" in html


def test_new_appeal_with_a_disguised_exe_shows_the_error(customer: Any, branch: Any) -> None:
    category = make_category()

    response = signed_in(customer).post(
        "/appeals/new/",
        {
            "category": category.pk,
            "subject": "Счёт",
            "body": "См. файл",
            "attachments": [upload("счёт.pdf", exe_bytes())],
        },
    )

    assert response.status_code == 422
    assert "нельзя приложить" in response.content.decode()
    assert Appeal.objects.count() == 0


def test_message_by_fetch_returns_json(appeal: Appeal, customer: Any) -> None:
    response = signed_in(customer).post(
        f"/appeals/{appeal.pk}/messages/",
        {"body": "Спасибо"},
        headers={"X-Requested-With": "fetch"},
    )

    assert response.status_code == 201
    assert response.json()["message"]["body"] == "Спасибо"


def test_message_without_script_redirects_to_the_message(appeal: Appeal, customer: Any) -> None:
    response = signed_in(customer).post(f"/appeals/{appeal.pk}/messages/", {"body": "Ещё"})

    message = Message.objects.get(body="Ещё")
    assert response.status_code == 302
    assert response["Location"] == f"/appeals/{appeal.pk}/#m{message.pk}"


def test_empty_message_by_fetch_is_422(appeal: Appeal, customer: Any) -> None:
    response = signed_in(customer).post(
        f"/appeals/{appeal.pk}/messages/", {"body": ""}, headers={"X-Requested-With": "fetch"}
    )

    assert response.status_code == 422
    assert response.json()["message"] == "Напишите сообщение или приложите файл."


def test_close_rate_reopen_pages(appeal: Appeal, customer: Any) -> None:
    client = signed_in(customer)

    client.post(f"/appeals/{appeal.pk}/rate/", {"rating": "4"})
    client.post(f"/appeals/{appeal.pk}/close/")
    closed_html = client.get(f"/appeals/{appeal.pk}/").content.decode()
    client.post(f"/appeals/{appeal.pk}/reopen/")

    appeal.refresh_from_db()
    assert appeal.rating == 4
    assert "Открыть снова" in closed_html
    assert appeal.status == AppealStatus.IN_PROGRESS


def test_callback_page(appeal: Appeal, customer: Any) -> None:
    client = signed_in(customer)
    html = client.get(f"/appeals/callback/?appeal={appeal.pk}").content.decode()
    assert "понедельник, 23 ноября, 12:00–14:00" in html

    response = client.post(
        "/appeals/callback/", {"appeal": appeal.pk, "slot": "2026-11-23T12:00:00+07:00"}
    )

    assert response.status_code == 302
    assert appeal.callbacks.get().phone == customer.phone


# ---------------------------------------------------------------- operator console


@pytest.mark.parametrize("path", ["/operator/", "/operator/report/", "/operator/appeals/{id}/"])
def test_console_is_404_for_customers_and_staff_outside_the_group(
    appeal: Appeal, customer: Any, make_customer: Any, path: str
) -> None:
    staff = make_customer(phone="+79130000009", is_staff=True)

    assert signed_in(customer).get(path.format(id=appeal.pk)).status_code == 404
    assert signed_in(staff).get(path.format(id=appeal.pk)).status_code == 404
    assert Client().get(path.format(id=appeal.pk)).status_code == 302


def test_queue_sorted_by_deadline_with_filters(customer: Any, branch: Any, operator: Any) -> None:
    slow = make_category("Переоформление", sla_hours=24)
    fast = make_category("Качество услуг", sla_hours=4)
    make_appeal(customer, category=slow, subject="Медленная")
    make_appeal(customer, category=fast, subject="Срочная")
    client = signed_in(operator)

    with CaptureQueriesContext(connection) as two:
        html = client.get("/operator/").content.decode()
    for n in range(3):
        make_appeal(customer, subject=f"Ещё {n}")
    with CaptureQueriesContext(connection) as five:
        client.get("/operator/")
    filtered = client.get(f"/operator/?category={slow.pk}").content.decode()

    assert len(five.captured_queries) == len(two.captured_queries)  # not one more per row
    assert html.index("Срочная") < html.index("Медленная")
    assert "Срочная" not in filtered
    assert "Медленная" in filtered


def test_operator_thread_shows_notes_balances_and_canned(appeal: Appeal, operator: Any) -> None:
    make_canned("Приветствие", "Здравствуйте!")

    html = signed_in(operator).get(f"/operator/appeals/{appeal.pk}/").content.decode()

    assert "секретная заметка" in html
    assert "Лицевые счета и баланс" in html
    assert 'data-body="Здравствуйте!"' in html
    assert 'data-side="operator"' in html


def test_operator_thread_shows_the_customers_recent_payments(
    appeal: Appeal, operator: Any, customer: Any
) -> None:
    # given a succeeded payment of the customer for an ЛС
    from decimal import Decimal

    from abonent.billing.models import Service
    from abonent.payments.models import Payment, PaymentLine

    account = make_account(branch=appeal.branch, number="240100999001", flat="77")
    at = appeal.created_at
    payment = Payment.objects.create(
        user=customer,
        idempotency_key="k-1",
        request_hash="h",
        status="succeeded",
        amount=Decimal("1234.50"),
        gateway="sandbox",
        created_at=at,
        updated_at=at,
        paid_at=at,
    )
    PaymentLine.objects.create(
        payment=payment,
        account=account,
        service=Service.objects.get(code="heating"),
        amount=Decimal("1234.50"),
    )

    # when the operator opens the thread
    html = signed_in(operator).get(f"/operator/appeals/{appeal.pk}/").content.decode()

    # then the payment is listed beside it with its ЛС, state and amount
    assert "Последние платежи" in html
    assert "240100999001" in html
    assert "1\u202f234,50\u00a0₽" in html


def test_operator_answers_takes_hands_over_and_closes(
    customer: Any, branch: Any, operator: Any
) -> None:
    from abonent.appeals.tests.factories import make_operator

    colleague = make_operator(phone="+79130000002", first_name="Игорь")
    appeal = make_appeal(customer)
    client = signed_in(operator)

    client.post(f"/operator/appeals/{appeal.pk}/take/")
    answer = client.post(
        f"/operator/appeals/{appeal.pk}/messages/",
        {"body": "Ответ", "waiting": "on"},
        headers={"X-Requested-With": "fetch"},
    )
    client.post(f"/operator/appeals/{appeal.pk}/hand-over/", {"to": colleague.pk, "note": "ГВС"})
    appeal.refresh_from_db()
    assert (appeal.status, appeal.assignee) == (AppealStatus.WAITING_CUSTOMER, colleague)
    client.post(f"/operator/appeals/{appeal.pk}/close/")

    appeal.refresh_from_db()
    assert answer.status_code == 201
    assert appeal.status == AppealStatus.CLOSED


def test_report_counts_answer_times(appeal: Appeal, operator: Any) -> None:
    html = (
        signed_in(operator).get("/operator/report/?from=2026-11-01&to=2026-11-30").content.decode()
    )

    assert "Все обращения" in html
    assert "Начисления" in html
