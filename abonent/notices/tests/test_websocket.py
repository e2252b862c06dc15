"""The live badge: a new notification (after commit) and marking read reach the customer's own
event stream (/ws/events/), never another customer's."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client

from abonent.core.tests.websocket import WebsocketCommunicator
from abonent.notices.models import Notification
from abonent.notices.services import notification_mark_read, notifications_create
from abonent.notices.tests.factories import NOW, draft
from config.asgi import application

ORIGIN = (b"origin", b"http://testserver")


def cookie_for(user: Any) -> bytes:
    client = Client()
    client.force_login(user, backend="abonent.identity.backends.LoginBackend")
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


@pytest.mark.django_db(transaction=True)
async def test_a_new_notification_updates_the_badge_of_its_recipient_only(
    customer: Any, other_customer: Any
) -> None:
    mine = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[ORIGIN, (b"cookie", await sync_to_async(cookie_for)(customer))],
    )
    theirs = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[ORIGIN, (b"cookie", await sync_to_async(cookie_for)(other_customer))],
    )
    assert (await mine.connect(timeout=5))[0] is True
    assert (await theirs.connect(timeout=5))[0] is True

    await sync_to_async(notifications_create)(
        drafts=[
            draft(customer, kind="outage", key="outage:1:published", title="Аварийное отключение")
        ],
        now=NOW,
        emergency=True,
    )
    event = await mine.receive_json_from(timeout=5)

    notification = await Notification.objects.aget()
    assert event == {
        "kind": "notifications",
        "unread": 1,
        "latest": {
            "id": notification.pk,
            "title": "Аварийное отключение",
            "body": "ЛС 240100123456: к оплате 1 234,50 ₽.",
            "link": "/accounts/1/bills/",
            "kind": "outage",
        },
    }
    assert await theirs.receive_nothing(timeout=0.3)

    await sync_to_async(notification_mark_read)(
        user=customer, notification_id=notification.pk, now=NOW
    )
    assert await mine.receive_json_from(timeout=5) == {"kind": "notifications", "unread": 0}
    await mine.disconnect()
    await theirs.disconnect()
