"""The appeals API: every access rule, multipart uploads and their checks, downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from abonent.appeals import services
from abonent.appeals.models import Appeal, Attachment, Message
from abonent.appeals.tests.factories import (
    NOW,
    OPERATOR_PASSWORD,
    docx_bytes,
    exe_bytes,
    image_bytes,
    make_appeal,
    make_category,
    pdf_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def appeal(customer: Any, branch: Any, operator: Any) -> Appeal:
    appeal = make_appeal(customer, files=[upload("квитанция.pdf", pdf_bytes())])
    services.message_send(
        appeal_id=appeal.pk, user=operator, body="Ответ", files=[], now=NOW, as_operator=True
    )
    services.message_send(
        appeal_id=appeal.pk,
        user=operator,
        body="Внутренняя заметка",
        files=[upload("акт.pdf", pdf_bytes())],
        now=NOW,
        as_operator=True,
        internal=True,
    )
    return appeal


@pytest.fixture
def operator_client(operator: Any) -> Client:
    client = Client()
    client.force_login(operator, backend="abonent.identity.backends.LoginBackend")
    return client


def _post(client: Any, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data)  # multipart/form-data


# ---------------------------------------------------------------- access rules


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/appeals"),
        ("get", "/api/v1/appeals/{id}"),
        ("post", "/api/v1/appeals/{id}/messages"),
        ("post", "/api/v1/appeals/{id}/close"),
        ("get", "/api/v1/attachments/{att}"),
    ],
)
def test_anonymous_gets_401(appeal: Appeal, method: str, path: str) -> None:
    att = Attachment.objects.first()
    url = path.format(id=appeal.pk, att=att.pk if att else 0)

    response = getattr(Client(), method)(url)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/appeals/{id}"),
        ("post", "/api/v1/appeals/{id}/messages"),
        ("post", "/api/v1/appeals/{id}/close"),
        ("post", "/api/v1/appeals/{id}/reopen"),
        ("post", "/api/v1/appeals/{id}/read"),
        ("get", "/api/v1/attachments/{att}"),
    ],
)
def test_another_customer_gets_404_and_changes_nothing(
    appeal: Appeal, other_api_client: Any, method: str, path: str
) -> None:
    att = Attachment.objects.get(message__is_internal=False)
    url = path.format(id=appeal.pk, att=att.pk)
    before = (Message.objects.count(), Appeal.objects.get().status)

    if url.endswith("/read"):
        response = other_api_client.post(url, {}, content_type="application/json")
    elif method == "post":
        response = other_api_client.post(url, {"body": "чужое"})
    else:
        response = other_api_client.get(url)

    assert response.status_code == 404
    assert response.json()["code"] in {"appeal_not_found", "attachment_not_found"}
    assert (Message.objects.count(), Appeal.objects.get().status) == before


def test_another_customers_list_is_empty(appeal: Appeal, other_api_client: Any) -> None:
    response = other_api_client.get("/api/v1/appeals")

    assert response.json() == {"items": [], "count": 0}


def test_owner_sees_the_thread_without_internal_notes(appeal: Appeal, api_client: Any) -> None:
    response = api_client.get(f"/api/v1/appeals/{appeal.pk}")

    assert response.status_code == 200
    body = response.json()
    assert [(m["is_operator"], m["body"]) for m in body["messages"]] == [
        (False, "Почему выросла сумма за отопление?"),
        (True, "Ответ"),
    ]
    assert body["status"] == "answered"
    assert body["status_label"] == "есть ответ"
    assert body["unread"] == 1
    assert body["specialists_working_now"] is True
    assert body["call_centre_phone"] == "+73912280000"
    [attachment] = body["messages"][0]["attachments"]
    assert attachment["name"] == "квитанция.pdf"
    assert attachment["url"] == f"/api/v1/attachments/{attachment['id']}"
    assert "is_internal" not in body["messages"][0]


def test_owner_cannot_download_an_internal_notes_file(appeal: Appeal, api_client: Any) -> None:
    internal = Attachment.objects.get(message__is_internal=True)

    response = api_client.get(f"/api/v1/attachments/{internal.pk}")

    assert response.status_code == 404


def test_operator_downloads_any_attachment(appeal: Appeal, operator_client: Client) -> None:
    for attachment in Attachment.objects.all():
        response = operator_client.get(f"/api/v1/attachments/{attachment.pk}")
        assert response.status_code == 200
        assert response.getvalue() == pdf_bytes()


def test_staff_without_the_operators_group_gets_404(appeal: Appeal, make_customer: Any) -> None:
    staff = make_customer(phone="+79130000009", is_staff=True)
    client = Client()
    client.force_login(staff, backend="abonent.identity.backends.LoginBackend")
    attachment = Attachment.objects.get(message__is_internal=False)

    assert client.get(f"/api/v1/attachments/{attachment.pk}").status_code == 404
    assert client.get(f"/api/v1/appeals/{appeal.pk}").status_code == 404


def test_download_headers(appeal: Appeal, api_client: Any) -> None:
    attachment = Attachment.objects.get(message__is_internal=False)

    response = api_client.get(f"/api/v1/attachments/{attachment.pk}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%D0%BA%D0%B2%D0%B8%D1%82%D0%B0%D0%BD%D1%86%D0%B8%D1%8F.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Length"] == str(len(pdf_bytes()))


# ---------------------------------------------------------------- list


def test_list_is_paginated_with_a_fixed_number_of_queries(
    customer: Any, branch: Any, api_client: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(4):
        make_appeal(customer, subject=f"Тема {n}")

    with django_assert_max_num_queries(5):  # auth (device + user) + count + one page
        response = api_client.get("/api/v1/appeals?limit=3")

    body = response.json()
    assert body["count"] == 4
    assert [a["subject"] for a in body["items"]] == ["Тема 3", "Тема 2", "Тема 1"]
    assert body["items"][0]["status"] == "new"
    assert body["items"][0]["category"] == "Начисления"
    assert body["items"][0]["unread"] == 0


# ---------------------------------------------------------------- creating and writing


def test_create_with_a_photo_multipart(customer: Any, branch: Any, api_client: Any) -> None:
    category = make_category()

    response = api_client.post(
        "/api/v1/appeals",
        {
            "category_id": category.pk,
            "subject": "Протечка",
            "body": "Течёт батарея",
            "files": [upload("IMG_0001.JPG", image_bytes(), "image/jpeg")],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["subject"] == "Протечка"
    [message] = body["messages"]
    assert message["attachments"][0]["name"] == "IMG_0001.jpg"
    assert message["attachments"][0]["content_type"] == "image/jpeg"


def test_create_without_category_is_422_and_stores_nothing(
    customer: Any, branch: Any, api_client: Any, private_storage: Path
) -> None:
    response = api_client.post(
        "/api/v1/appeals",
        {"category_id": 999, "subject": "x", "body": "y", "files": [upload("a.pdf", pdf_bytes())]},
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"category": ["Выберите тему обращения."]}
    assert Appeal.objects.count() == 0
    assert not private_storage.exists() or not any(private_storage.rglob("*.pdf"))


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([("setup.pdf", exe_bytes())], "file_type_not_allowed"),
        ([("notes.txt", b"just text")], "file_type_not_allowed"),
        ([(f"{n}.pdf", pdf_bytes()) for n in range(6)], "too_many_files"),
        ([("big.pdf", pdf_bytes() + b"0" * (10 * 1024 * 1024))], "file_too_large"),
    ],
)
def test_upload_checks_on_a_message(
    appeal: Appeal,
    api_client: Any,
    private_storage: Path,
    files: list[tuple[str, bytes]],
    code: str,
) -> None:
    before_files = sorted(private_storage.rglob("*"))
    before = Message.objects.count()

    response = api_client.post(
        f"/api/v1/appeals/{appeal.pk}/messages",
        {"body": "смотрите файл", "files": [upload(n, d) for n, d in files]},
    )

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert Message.objects.count() == before
    assert sorted(private_storage.rglob("*")) == before_files


def test_message_with_a_document(appeal: Appeal, api_client: Any) -> None:
    response = api_client.post(
        f"/api/v1/appeals/{appeal.pk}/messages",
        {"body": "", "files": [upload("Договор (копия).docx", docx_bytes())]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_operator"] is False
    assert body["author"] == "Вы"
    assert body["attachments"][0]["name"] == "Договор (копия).docx"


def test_empty_and_too_long_messages_are_422(appeal: Appeal, api_client: Any) -> None:
    before = Message.objects.count()

    empty = api_client.post(f"/api/v1/appeals/{appeal.pk}/messages", {"body": "   "})
    long = api_client.post(f"/api/v1/appeals/{appeal.pk}/messages", {"body": "а" * 4001})

    assert (empty.status_code, long.status_code) == (422, 422)
    assert empty.json()["message"] == "Напишите сообщение или приложите файл."
    assert long.json()["fields"] == {"body": ["Не больше 4000 символов (сейчас 4001)."]}
    assert Message.objects.count() == before


def test_session_client_needs_csrf(appeal: Appeal, customer: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer, backend="abonent.identity.backends.LoginBackend")

    response = client.post(f"/api/v1/appeals/{appeal.pk}/messages", {"body": "Привет"})

    assert response.status_code == 403
    assert Message.objects.filter(body="Привет").count() == 0


# ---------------------------------------------------------------- close, reopen, rate, read


def test_close_rate_reopen_and_read(appeal: Appeal, api_client: Any) -> None:
    closed = api_client.post(f"/api/v1/appeals/{appeal.pk}/close")
    rated = api_client.post(
        f"/api/v1/appeals/{appeal.pk}/rating",
        {"rating": 5, "comment": "Быстро"},
        content_type="application/json",
    )
    reopened = api_client.post(f"/api/v1/appeals/{appeal.pk}/reopen")
    read = api_client.post(f"/api/v1/appeals/{appeal.pk}/read", {}, content_type="application/json")

    assert closed.json()["status"] == "closed"
    assert closed.json()["can_reopen"] is True
    assert rated.json()["rating"] == 5
    assert reopened.json()["status"] == "in_progress"
    assert read.json() == {"last_read_id": Message.objects.filter(appeal=appeal).latest("pk").pk}


def test_reopen_of_an_open_appeal_is_409(appeal: Appeal, api_client: Any) -> None:
    response = api_client.post(f"/api/v1/appeals/{appeal.pk}/reopen")

    assert response.status_code == 409
    assert response.json()["code"] == "appeal_not_closed"


def test_categories_and_callback_slots(customer: Any, branch: Any, api_client: Any) -> None:
    make_category("Оплата", sla_hours=4, ordering=1)
    make_category("Начисления", sla_hours=8, ordering=2)

    categories = api_client.get("/api/v1/appeals/categories").json()
    slots = api_client.get("/api/v1/appeals/callback-slots").json()
    booked = api_client.post(
        "/api/v1/appeals/callbacks",
        {"starts_at": slots[0]["starts_at"]},
        content_type="application/json",
    )

    assert [(c["name"], c["sla_hours"]) for c in categories] == [("Оплата", 4), ("Начисления", 8)]
    assert slots[0] == {
        "starts_at": "2026-11-23T12:00:00+07:00",
        "ends_at": "2026-11-23T14:00:00+07:00",
    }
    assert booked.status_code == 201
    assert booked.json()["phone"] == customer.phone


def test_operator_logs_in_like_everyone(operator: Any) -> None:
    client = Client()
    response = client.post("/login/", {"username": operator.phone, "password": OPERATOR_PASSWORD})

    assert response.status_code == 302
