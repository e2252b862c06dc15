"""WS /ws/appeals/{id}: refusals, live delivery to both sides, internal notes to operators
only, catch-up from the last seen id, presence and read marks."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from abonent.appeals import realtime, services
from abonent.appeals.models import ReadMark, Side
from abonent.appeals.tests.factories import NOW, image_bytes, make_appeal, upload
from abonent.core.tests.websocket import WebsocketCommunicator
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://testserver")


def cookie_for(user: Any) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user, backend="abonent.identity.backends.LoginBackend")
    name = settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={client.cookies[name].value}".encode())


async def connect(path: str, *headers: tuple[bytes, bytes]) -> tuple[WebsocketCommunicator, Any]:
    communicator = WebsocketCommunicator(application, path, headers=list(headers))
    connected, detail = await communicator.connect(timeout=5)
    return communicator, (connected, detail)


@pytest.fixture
def appeal(customer: Any, branch: Any) -> Any:
    return make_appeal(customer)


async def test_anonymous_is_refused(appeal: Any) -> None:
    communicator, result = await connect(f"/ws/appeals/{appeal.pk}", ORIGIN)

    assert result == (False, 4401)
    await communicator.disconnect()


async def test_another_customer_is_refused(appeal: Any, other_customer: Any) -> None:
    cookie = await database_sync_to_async(cookie_for)(other_customer)

    communicator, result = await connect(f"/ws/appeals/{appeal.pk}", ORIGIN, cookie)

    assert result == (False, 4404)
    await communicator.disconnect()


async def test_an_unknown_appeal_is_refused(appeal: Any, customer: Any) -> None:
    cookie = await database_sync_to_async(cookie_for)(customer)

    communicator, result = await connect(f"/ws/appeals/{appeal.pk + 100}", ORIGIN, cookie)

    assert result == (False, 4404)
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused(appeal: Any, customer: Any) -> None:
    cookie = await database_sync_to_async(cookie_for)(customer)

    communicator, result = await connect(
        f"/ws/appeals/{appeal.pk}", (b"origin", b"https://evil.example"), cookie
    )

    assert result[0] is False
    await communicator.disconnect()


async def test_operator_answer_reaches_the_customer_and_notes_stay_with_operators(
    appeal: Any, customer: Any, operator: Any
) -> None:
    customer_cookie = await database_sync_to_async(cookie_for)(customer)
    operator_cookie = await database_sync_to_async(cookie_for)(operator)
    mine, result = await connect(f"/ws/appeals/{appeal.pk}", ORIGIN, customer_cookie)
    assert result[0] is True
    assert await mine.receive_json_from(timeout=5) == {"type": "synced", "side": "customer"}
    staff, result = await connect(f"/ws/appeals/{appeal.pk}/", ORIGIN, operator_cookie)
    assert result[0] is True
    assert await staff.receive_json_from(timeout=5) == {"type": "synced", "side": "operator"}

    def answer() -> None:
        services.message_send(
            appeal_id=appeal.pk,
            user=operator,
            body="Заметка для коллег",
            files=[],
            now=NOW,
            as_operator=True,
            internal=True,
        )
        services.message_send(
            appeal_id=appeal.pk,
            user=operator,
            body="Здравствуйте, смотрим",
            files=[upload("схема.png", image_bytes("PNG"))],
            now=NOW,
            as_operator=True,
        )

    await database_sync_to_async(answer)()

    note = await staff.receive_json_from(timeout=5)
    assert (note["type"], note["is_internal"], note["body"]) == (
        "message",
        True,
        "Заметка для коллег",
    )
    seen_by_customer = await mine.receive_json_from(timeout=5)
    assert seen_by_customer["type"] == "message"
    assert seen_by_customer["body"] == "Здравствуйте, смотрим"
    assert seen_by_customer["author"] == "Специалист Ольга"
    assert seen_by_customer["attachments"][0]["name"] == "схема.png"
    status = await mine.receive_json_from(timeout=5)
    assert (status["type"], status["status"]) == ("status", "answered")
    assert await mine.receive_nothing(timeout=0.2)
    await mine.disconnect()
    await staff.disconnect()


async def test_the_customers_message_reaches_the_operator(
    appeal: Any, customer: Any, operator: Any
) -> None:
    cookie = await database_sync_to_async(cookie_for)(operator)
    staff, _ = await connect(f"/ws/appeals/{appeal.pk}", ORIGIN, cookie)
    await staff.receive_json_from(timeout=5)

    await database_sync_to_async(services.message_send)(
        appeal_id=appeal.pk, user=customer, body="Добавлю фото", files=[], now=NOW
    )

    event = await staff.receive_json_from(timeout=5)
    assert (event["is_operator"], event["body"], event["author"]) == (
        False,
        "Добавлю фото",
        "Вы",
    )
    await staff.disconnect()


async def test_catch_up_after_the_last_seen_id(appeal: Any, customer: Any, operator: Any) -> None:
    def thread() -> list[int]:
        ids = []
        for body in ("Первый", "Второй"):
            ids.append(
                services.message_send(
                    appeal_id=appeal.pk,
                    user=operator,
                    body=body,
                    files=[],
                    now=NOW,
                    as_operator=True,
                ).pk
            )
        services.message_send(
            appeal_id=appeal.pk,
            user=operator,
            body="тихо",
            files=[],
            now=NOW,
            as_operator=True,
            internal=True,
        )
        return ids

    first, _second = await database_sync_to_async(thread)()
    cookie = await database_sync_to_async(cookie_for)(customer)

    # The socket dropped after «Первый»: it comes back asking for what followed.
    communicator, result = await connect(f"/ws/appeals/{appeal.pk}?after={first}", ORIGIN, cookie)

    assert result[0] is True
    missed = await communicator.receive_json_from(timeout=5)
    assert missed["body"] == "Второй"
    assert await communicator.receive_json_from(timeout=5) == {"type": "synced", "side": "customer"}
    await communicator.disconnect()


async def test_presence_ping_and_read_mark(appeal: Any, customer: Any, operator: Any) -> None:
    cookie = await database_sync_to_async(cookie_for)(customer)
    communicator, _ = await connect(f"/ws/appeals/{appeal.pk}", ORIGIN, cookie)
    await communicator.receive_json_from(timeout=5)
    answer = await database_sync_to_async(services.message_send)(
        appeal_id=appeal.pk, user=operator, body="Ответ", files=[], now=NOW, as_operator=True
    )
    await communicator.receive_json_from(timeout=5)  # the message
    await communicator.receive_json_from(timeout=5)  # the status

    assert await database_sync_to_async(realtime.is_online)(appeal.pk, Side.CUSTOMER) is True
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.send_json_to({"type": "read", "last_id": answer.pk})
    await communicator.send_json_to({"type": "ping"})
    await communicator.receive_json_from(timeout=5)

    mark = await database_sync_to_async(ReadMark.objects.get)(appeal=appeal, side=Side.CUSTOMER)
    assert mark.last_read_id == answer.pk
    await communicator.disconnect()
    assert await database_sync_to_async(realtime.is_online)(appeal.pk, Side.CUSTOMER) is False
