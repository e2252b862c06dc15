"""Appeals services: opening, messages both ways, statuses, deadlines, read marks, closing,
reopening within the period, rating, call-back requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from abonent.accounts.tests.factories import link, make_account
from abonent.appeals import realtime, selectors, services
from abonent.appeals.models import (
    Appeal,
    AppealStatus,
    Attachment,
    CallbackRequest,
    Message,
    ReadMark,
    Side,
)
from abonent.appeals.tests.factories import (
    NOW,
    exe_bytes,
    image_bytes,
    make_appeal,
    make_category,
    make_operator,
    pdf_bytes,
    upload,
)
from abonent.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from abonent.core.models import AuditEntry
from abonent.notices.models import Notification

pytestmark = pytest.mark.django_db
KRS = ZoneInfo("Asia/Krasnoyarsk")


def krs(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=KRS)


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---------------------------------------------------------------- opening


def test_create_in_working_hours_sets_deadline_by_sla_and_no_auto_reply(
    customer: Any, branch: Any, private_storage: Path
) -> None:
    category = make_category("Квитанции", sla_hours=8)

    appeal = make_appeal(
        customer,
        category=category,
        files=[upload("фото.jpg", image_bytes())],
        now=krs(23, 16, 0),
    )

    assert appeal.status == AppealStatus.NEW
    assert appeal.branch == branch
    assert appeal.deadline_at == krs(24, 12, 0)  # 4 h today, 4 h tomorrow from 08:00
    messages = list(appeal.messages.all())
    assert [(m.is_operator, m.is_auto, m.body) for m in messages] == [
        (False, False, "Почему выросла сумма за отопление?")
    ]
    [attachment] = Attachment.objects.all()
    assert (attachment.name, attachment.content_type) == ("фото.jpg", "image/jpeg")
    assert attachment.path.startswith("appeals/2026/11/")
    assert attachment.path.endswith(".jpg")
    assert "фото" not in attachment.path
    assert stored_files(private_storage) == [private_storage / attachment.path]
    assert AuditEntry.objects.filter(action="appeal.create", actor=customer).count() == 1


@pytest.mark.parametrize(
    ("at", "reply"),
    [
        (krs(23, 7, 59), "специалисты ответят сегодня с 08:00 по красноярскому времени."),
        (krs(23, 20, 0), "специалисты ответят завтра с 08:00 по красноярскому времени."),
        (
            krs(27, 20, 0),
            "специалисты ответят в понедельник, 30 ноября с 08:00 по красноярскому времени.",
        ),
        (
            krs(28, 12, 0),
            "специалисты ответят в понедельник, 30 ноября с 08:00 по красноярскому времени.",
        ),
    ],
)
def test_outside_hours_an_automatic_first_reply_says_when_specialists_are_back(
    customer: Any, branch: Any, at: datetime, reply: str
) -> None:
    appeal = make_appeal(customer, now=at)

    auto = appeal.messages.get(is_auto=True)
    assert auto.is_operator is True
    assert auto.author is None
    assert auto.body.startswith("Здравствуйте! Сейчас специалисты не работают.")
    assert auto.body.endswith(reply)


@pytest.mark.parametrize("at", [krs(23, 8, 0), krs(23, 19, 59)])
def test_inside_the_edges_there_is_no_auto_reply(customer: Any, branch: Any, at: datetime) -> None:
    appeal = make_appeal(customer, now=at)

    assert appeal.messages.filter(is_auto=True).count() == 0


def test_outside_hours_auto_reply_does_not_count_as_an_answer(customer: Any, branch: Any) -> None:
    appeal = make_appeal(customer, now=krs(23, 22, 0))

    appeal.refresh_from_db()
    assert appeal.first_answered_at is None
    assert appeal.status == AppealStatus.NEW
    assert appeal.deadline_at == krs(24, 16, 0)


def test_one_linked_account_is_taken_without_asking(customer: Any) -> None:
    account = make_account()
    link(customer, account)

    appeal = make_appeal(customer)

    assert appeal.account == account
    assert appeal.branch == account.branch


def test_with_several_accounts_one_must_be_chosen(customer: Any) -> None:
    first = make_account(number="240100000001", flat="1")
    second = make_account(number="240100000002", flat="2")
    link(customer, first)
    link(customer, second)

    with pytest.raises(ValidationFailed) as err:
        make_appeal(customer)
    appeal = make_appeal(customer, account_id=second.pk)

    assert err.value.fields == {"account": ["Выберите лицевой счёт, о котором обращение."]}
    assert appeal.account == second
    assert Appeal.objects.count() == 1


def test_another_customers_account_is_not_found(
    customer: Any, other_customer: Any, branch: Any
) -> None:
    theirs = make_account()
    link(other_customer, theirs)

    with pytest.raises(NotFound):
        make_appeal(customer, account_id=theirs.pk)

    assert Appeal.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"subject": "  "}, "subject"),
        ({"body": ""}, "body"),
        ({"body": "я" * 4001}, "body"),
        ({"subject": "т" * 151}, "subject"),
        ({"category_id": None}, "category"),
    ],
)
def test_bad_input_stores_nothing(
    customer: Any, branch: Any, private_storage: Path, fields: dict[str, Any], error_field: str
) -> None:
    args = {
        "user": customer,
        "category_id": make_category().pk,
        "account_id": None,
        "subject": "Тема",
        "body": "Текст",
        "files": [upload("a.pdf", pdf_bytes())],
        "now": NOW,
        **fields,
    }

    with pytest.raises(ValidationFailed) as err:
        services.appeal_create(**args)

    assert list(err.value.fields) == [error_field]
    assert Appeal.objects.count() == 0
    assert Message.objects.count() == 0
    assert stored_files(private_storage) == []


def test_a_disguised_exe_stores_nothing(customer: Any, branch: Any, private_storage: Path) -> None:
    files = [upload("ok.pdf", pdf_bytes()), upload("договор.pdf", exe_bytes())]

    with pytest.raises(ValidationFailed):
        make_appeal(customer, files=files)

    assert Appeal.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(private_storage) == []


def test_files_are_removed_when_the_transaction_fails(
    customer: Any, branch: Any, private_storage: Path, monkeypatch: Any
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("audit is down")

    monkeypatch.setattr(services, "audit_record", broken)

    with pytest.raises(RuntimeError):
        make_appeal(customer, files=[upload("a.pdf", pdf_bytes())])

    assert Appeal.objects.count() == 0
    assert stored_files(private_storage) == []


# ---------------------------------------------------------------- messages and statuses


def test_operator_answer_sets_answered_and_notifies_an_offline_customer(
    customer: Any, branch: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    appeal = make_appeal(customer)

    with django_capture_on_commit_callbacks(execute=True):
        answer = services.message_send(
            appeal_id=appeal.pk,
            user=operator,
            body="Пересчитали по показаниям.",
            files=[],
            now=NOW + timedelta(minutes=30),
            as_operator=True,
        )

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.ANSWERED
    assert appeal.first_answered_at == NOW + timedelta(minutes=30)
    assert appeal.assignee == operator
    [notice] = Notification.objects.filter(user=customer)
    assert (notice.kind, notice.title, notice.link) == (
        "appeal",
        f"Ответ по обращению № {appeal.pk}",
        f"/appeals/{appeal.pk}/",
    )
    assert notice.body == "Пересчитали по показаниям."
    assert notice.dedupe_key == f"appeal-message:{answer.pk}"


def test_no_notification_when_the_customer_has_the_thread_open(
    customer: Any, branch: Any, operator: Any
) -> None:
    appeal = make_appeal(customer)
    realtime.presence_join(appeal.pk, Side.CUSTOMER)

    services.message_send(
        appeal_id=appeal.pk, user=operator, body="Ответ", files=[], now=NOW, as_operator=True
    )

    assert Notification.objects.count() == 0
    realtime.presence_leave(appeal.pk, Side.CUSTOMER)
    assert realtime.is_online(appeal.pk, Side.CUSTOMER) is False


def test_waiting_for_the_customer_then_the_customer_answers(
    customer: Any, branch: Any, operator: Any
) -> None:
    appeal = make_appeal(customer, now=krs(23, 10))
    services.appeal_take(appeal_id=appeal.pk, operator=operator, now=krs(23, 11))
    services.message_send(
        appeal_id=appeal.pk,
        user=operator,
        body="Пришлите фото счётчика.",
        files=[],
        now=krs(23, 12),
        as_operator=True,
        waiting_customer=True,
    )
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.WAITING_CUSTOMER

    services.message_send(
        appeal_id=appeal.pk,
        user=customer,
        body="",
        files=[upload("счётчик.png", image_bytes("PNG"))],
        now=krs(23, 19),
    )

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.IN_PROGRESS
    assert appeal.deadline_at == krs(24, 15)  # 1 h today + 7 h tomorrow
    notice = Notification.objects.get(user=operator)
    assert notice.link == f"/operator/appeals/{appeal.pk}/"


def test_internal_note_is_hidden_from_the_customer_and_changes_nothing(
    customer: Any, branch: Any, operator: Any
) -> None:
    appeal = make_appeal(customer)

    services.message_send(
        appeal_id=appeal.pk,
        user=operator,
        body="Клиент звонил вчера",
        files=[],
        now=NOW,
        as_operator=True,
        internal=True,
    )

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.NEW
    assert appeal.first_answered_at is None
    bodies = [m.body for m in selectors.thread_messages(appeal=appeal, include_internal=False)]
    assert bodies == ["Почему выросла сумма за отопление?"]
    assert Notification.objects.count() == 0


def test_a_customer_cannot_write_internal_notes(customer: Any, branch: Any) -> None:
    appeal = make_appeal(customer)

    with pytest.raises(PermissionDenied):
        services.message_send(
            appeal_id=appeal.pk, user=customer, body="x", files=[], now=NOW, internal=True
        )
    with pytest.raises(PermissionDenied):
        services.message_send(
            appeal_id=appeal.pk, user=customer, body="x", files=[], now=NOW, as_operator=True
        )

    assert appeal.messages.count() == 1


def test_another_customers_appeal_is_not_found_even_with_a_bad_file(
    customer: Any, other_customer: Any, branch: Any
) -> None:
    appeal = make_appeal(customer)

    with pytest.raises(NotFound):
        services.message_send(
            appeal_id=appeal.pk,
            user=other_customer,
            body="",
            files=[upload("x.pdf", exe_bytes())],
            now=NOW,
        )

    assert appeal.messages.count() == 1


def test_empty_message_is_refused(customer: Any, branch: Any) -> None:
    appeal = make_appeal(customer)

    with pytest.raises(ValidationFailed) as err:
        services.message_send(appeal_id=appeal.pk, user=customer, body=" \n ", files=[], now=NOW)

    assert err.value.fields == {"body": ["Напишите сообщение или приложите файл."]}
    assert appeal.messages.count() == 1


def test_message_ids_grow_within_a_thread(customer: Any, branch: Any, operator: Any) -> None:
    appeal = make_appeal(customer)
    for n in range(3):
        services.message_send(
            appeal_id=appeal.pk,
            user=operator if n % 2 else customer,
            body=f"m{n}",
            files=[],
            now=NOW + timedelta(minutes=n),
            as_operator=bool(n % 2),
        )

    ids = list(appeal.messages.values_list("pk", flat=True))
    assert ids == sorted(ids)
    after = selectors.thread_messages(appeal=appeal, include_internal=False, after_id=ids[1])
    assert [m.body for m in after] == ["m1", "m2"]


# ---------------------------------------------------------------- read marks and unread counts


def test_unread_counts_per_side(customer: Any, branch: Any, operator: Any) -> None:
    appeal = make_appeal(customer)
    for body in ("Первый ответ", "Второй ответ"):
        services.message_send(
            appeal_id=appeal.pk, user=operator, body=body, files=[], now=NOW, as_operator=True
        )
    services.message_send(
        appeal_id=appeal.pk,
        user=operator,
        body="заметка",
        files=[],
        now=NOW,
        as_operator=True,
        internal=True,
    )

    [row] = selectors.appeal_list_for_customer(user=customer)
    assert row.unread == 2
    queue = selectors.operator_queue(filters=selectors.QueueFilters(), operator=operator)
    assert [a.unread for a in queue] == [0]

    first_answer = appeal.messages.get(body="Первый ответ")
    services.appeal_mark_read(appeal_id=appeal.pk, user=customer, last_id=first_answer.pk, now=NOW)
    assert selectors.appeal_list_for_customer(user=customer)[0].unread == 1

    services.appeal_mark_read(appeal_id=appeal.pk, user=customer, last_id=10**9, now=NOW)
    assert selectors.appeal_list_for_customer(user=customer)[0].unread == 0
    services.appeal_mark_read(appeal_id=appeal.pk, user=customer, last_id=0, now=NOW)
    mark = ReadMark.objects.get(appeal=appeal, side=Side.CUSTOMER)
    assert mark.last_read_id == appeal.messages.latest("pk").pk  # never goes back


def test_customer_list_is_one_query(
    customer: Any, branch: Any, operator: Any, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        appeal = make_appeal(customer, subject=f"Тема {n}")
        services.message_send(
            appeal_id=appeal.pk, user=operator, body="Ответ", files=[], now=NOW, as_operator=True
        )

    with django_assert_num_queries(1):
        rows = [
            (a.subject, a.category.name, a.unread)
            for a in selectors.appeal_list_for_customer(user=customer)
        ]

    assert sorted(rows) == [
        ("Тема 0", "Начисления", 1),
        ("Тема 1", "Начисления", 1),
        ("Тема 2", "Начисления", 1),
    ]


# ---------------------------------------------------------------- operators


def test_take_and_a_colleague_cannot_take_it_over(customer: Any, branch: Any) -> None:
    first = make_operator()
    second = make_operator(phone="+79130000002", first_name="Игорь")
    appeal = make_appeal(customer)

    services.appeal_take(appeal_id=appeal.pk, operator=first, now=NOW)
    with pytest.raises(Conflict) as err:
        services.appeal_take(appeal_id=appeal.pk, operator=second, now=NOW)

    appeal.refresh_from_db()
    assert (appeal.status, appeal.assignee) == (AppealStatus.IN_PROGRESS, first)
    assert err.value.code == "appeal_taken"


def test_hand_over_to_a_colleague_leaves_an_internal_note(customer: Any, branch: Any) -> None:
    first = make_operator()
    second = make_operator(phone="+79130000002", first_name="Игорь")
    appeal = make_appeal(customer)
    services.appeal_take(appeal_id=appeal.pk, operator=first, now=NOW)

    services.appeal_hand_over(
        appeal_id=appeal.pk, operator=first, to_user_id=second.pk, note="Вопрос по ГВС", now=NOW
    )

    appeal.refresh_from_db()
    assert appeal.assignee == second
    note = appeal.messages.get(is_internal=True)
    assert note.body == "Ольга передал(а) обращение: Игорь.\nВопрос по ГВС"
    assert Notification.objects.get(user=second).title == f"Вам передано обращение № {appeal.pk}"


def test_hand_over_only_to_an_operator(customer: Any, branch: Any, operator: Any) -> None:
    appeal = make_appeal(customer)

    with pytest.raises(ValidationFailed):
        services.appeal_hand_over(
            appeal_id=appeal.pk, operator=operator, to_user_id=customer.pk, note="", now=NOW
        )

    appeal.refresh_from_db()
    assert appeal.assignee is None


def test_a_customer_is_not_an_operator(customer: Any, branch: Any) -> None:
    appeal = make_appeal(customer)

    with pytest.raises(PermissionDenied):
        services.appeal_take(appeal_id=appeal.pk, operator=customer, now=NOW)


def test_staff_without_the_operators_group_is_not_an_operator(
    make_customer: Any, customer: Any, branch: Any
) -> None:
    staff = make_customer(phone="+79130000009", is_staff=True)

    assert selectors.is_operator(staff) is False


# ---------------------------------------------------------------- closing, reopening, rating


def test_close_then_reopen_within_the_period(customer: Any, branch: Any, operator: Any) -> None:
    appeal = make_appeal(customer)
    services.message_send(
        appeal_id=appeal.pk, user=operator, body="Ответ", files=[], now=NOW, as_operator=True
    )
    services.appeal_close(appeal_id=appeal.pk, user=customer, now=NOW)
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.CLOSED
    assert appeal.reopen_until == NOW + timedelta(days=7)

    with pytest.raises(Conflict):
        services.message_send(appeal_id=appeal.pk, user=customer, body="Ещё", files=[], now=NOW)

    services.appeal_reopen(
        appeal_id=appeal.pk, user=customer, now=NOW + timedelta(days=7) - timedelta(seconds=1)
    )
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.IN_PROGRESS
    assert appeal.closed_at is None
    assert appeal.reopened_count == 1


def test_reopen_after_the_period_is_refused(customer: Any, branch: Any) -> None:
    appeal = make_appeal(customer)
    services.appeal_close(appeal_id=appeal.pk, user=customer, now=NOW)

    with pytest.raises(Conflict) as err:
        services.appeal_reopen(appeal_id=appeal.pk, user=customer, now=NOW + timedelta(days=7))

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.CLOSED
    assert err.value.code == "reopen_period_over"
    assert "7 дней" in err.value.message


def test_reopen_period_follows_the_setting(customer: Any, branch: Any, settings: Any) -> None:
    settings.APPEALS_REOPEN_DAYS = 2
    appeal = make_appeal(customer)

    services.appeal_close(appeal_id=appeal.pk, user=customer, now=NOW)

    appeal.refresh_from_db()
    assert appeal.reopen_until == NOW + timedelta(days=2)


def test_another_customer_cannot_close_or_reopen(
    customer: Any, other_customer: Any, branch: Any
) -> None:
    appeal = make_appeal(customer)

    with pytest.raises(NotFound):
        services.appeal_close(appeal_id=appeal.pk, user=other_customer, now=NOW)
    services.appeal_close(appeal_id=appeal.pk, user=customer, now=NOW)
    with pytest.raises(NotFound):
        services.appeal_reopen(appeal_id=appeal.pk, user=other_customer, now=NOW)

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.CLOSED


def test_rate_only_after_an_answer(customer: Any, branch: Any, operator: Any) -> None:
    appeal = make_appeal(customer)

    with pytest.raises(Conflict):
        services.appeal_rate(appeal_id=appeal.pk, user=customer, rating=5, comment="", now=NOW)
    services.message_send(
        appeal_id=appeal.pk, user=operator, body="Ответ", files=[], now=NOW, as_operator=True
    )
    with pytest.raises(ValidationFailed):
        services.appeal_rate(appeal_id=appeal.pk, user=customer, rating=6, comment="", now=NOW)
    services.appeal_rate(appeal_id=appeal.pk, user=customer, rating=4, comment="Спасибо", now=NOW)

    appeal.refresh_from_db()
    assert (appeal.rating, appeal.rating_comment) == (4, "Спасибо")


# ---------------------------------------------------------------- call back


def test_callback_in_an_offered_slot(customer: Any, branch: Any) -> None:
    appeal = make_appeal(customer)
    start, end = selectors.callback_slots_for(branch=branch, now=NOW)[0]

    callback = services.callback_request_create(
        user=customer, appeal_id=appeal.pk, slot_from=start, phone=None, now=NOW
    )

    assert (callback.phone, callback.slot_from, callback.slot_to) == (customer.phone, start, end)
    with pytest.raises(Conflict):
        services.callback_request_create(
            user=customer, appeal_id=appeal.pk, slot_from=start, phone=None, now=NOW
        )


def test_callback_outside_offered_slots_is_refused(customer: Any, branch: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        services.callback_request_create(
            user=customer,
            appeal_id=None,
            slot_from=datetime(2026, 11, 28, 5, 0, tzinfo=UTC),  # Saturday
            phone="+79131112233",
            now=NOW,
        )

    assert err.value.code == "invalid_slot"
    assert CallbackRequest.objects.count() == 0
