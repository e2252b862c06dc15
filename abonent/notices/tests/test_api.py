"""The API: permissions per endpoint, lists (order, filters, query counts), marking read,
notification settings (malformed → 422, nothing written), push subscriptions, news, outages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from abonent.accounts.tests.factories import link, make_account, make_branch, make_service
from abonent.core.models import AuditEntry
from abonent.notices.models import (
    ChannelPreference,
    News,
    Notification,
    NotificationSettings,
    PushSubscription,
)
from abonent.notices.tests.factories import NOW, browser_keys, make_outage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def notice(
    user: Any, key: str, *, kind: str = "bill", minutes: int = 0, read: bool = False
) -> Notification:
    at = NOW - timedelta(minutes=minutes)
    return Notification.objects.create(
        user=user,
        kind=kind,
        title=f"Оповещение {key}",
        body="Текст",
        link="/",
        created_at=at,
        read_at=at if read else None,
        dedupe_key=key,
    )


ENDPOINTS = [
    ("get", "/api/v1/notifications"),
    ("get", "/api/v1/notifications/unread"),
    ("post", "/api/v1/notifications/read-all"),
    ("post", "/api/v1/notifications/1/read"),
    ("get", "/api/v1/me/notification-settings"),
    ("put", "/api/v1/me/notification-settings"),
    ("get", "/api/v1/push/key"),
    ("get", "/api/v1/push/subscriptions"),
    ("post", "/api/v1/push/subscriptions"),
    ("delete", "/api/v1/push/subscriptions/1"),
    ("get", "/api/v1/news"),
    ("get", "/api/v1/news/1"),
    ("get", "/api/v1/outages"),
    ("get", "/api/v1/outages/1"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_signed_in_customer(client: Any, method: str, path: str) -> None:
    response = getattr(client, method)(path, content_type="application/json")

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Войдите в личный кабинет.",
        "fields": {},
    }


# ---------------------------------------------------------------- notifications


def test_list_is_unread_first_then_newest_with_a_fixed_number_of_queries(
    api_client: Any, customer: Any, other_customer: Any, django_assert_num_queries: Any
) -> None:
    old_unread = notice(customer, "a", minutes=60)
    new_read = notice(customer, "b", minutes=1, read=True)
    new_unread = notice(customer, "c", minutes=5)
    notice(other_customer, "d")
    for i in range(10):
        notice(customer, f"bulk{i}", minutes=100 + i, read=True)

    with django_assert_num_queries(3):  # device token, count, page
        response = api_client.get("/api/v1/notifications?limit=3")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 13
    assert [n["id"] for n in body["items"]] == [new_unread.pk, old_unread.pk, new_read.pk]
    assert body["items"][0] == {
        "id": new_unread.pk,
        "kind": "bill",
        "kind_title": "новая квитанция",
        "title": "Оповещение c",
        "body": "Текст",
        "link": "/",
        "created_at": "2026-11-23T02:55:00+00:00",
        "read_at": None,
        "is_read": False,
        "emergency": False,
    }


def test_list_filters_by_kind_and_unread(api_client: Any, customer: Any) -> None:
    notice(customer, "a", kind="outage")
    notice(customer, "b", kind="outage", read=True)
    notice(customer, "c", kind="bill")

    outages = api_client.get("/api/v1/notifications?kind=outage").json()
    unread_outages = api_client.get("/api/v1/notifications?kind=outage&unread=true").json()
    bad = api_client.get("/api/v1/notifications?kind=spam")

    assert [n["title"] for n in outages["items"]] == ["Оповещение a", "Оповещение b"]
    assert [n["title"] for n in unread_outages["items"]] == ["Оповещение a"]
    assert bad.status_code == 422
    assert bad.json()["fields"] == {"kind": ["Неверное значение."]}


def test_mark_read_own_one(api_client: Any, customer: Any) -> None:
    mine = notice(customer, "a")

    response = api_client.post(f"/api/v1/notifications/{mine.pk}/read")
    again = api_client.post(f"/api/v1/notifications/{mine.pk}/read")

    mine.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["is_read"] is True
    assert mine.read_at == NOW
    assert again.json()["read_at"] == "2026-11-23T03:00:00+00:00"
    assert api_client.get("/api/v1/notifications/unread").json() == {"unread": 0}


def test_another_customers_notification_is_not_found_and_stays_unread(
    api_client: Any, other_customer: Any
) -> None:
    theirs = notice(other_customer, "a")

    response = api_client.post(f"/api/v1/notifications/{theirs.pk}/read")

    theirs.refresh_from_db()
    assert response.status_code == 404
    assert response.json()["message"] == "Оповещение не найдено."
    assert theirs.read_at is None


def test_read_all_marks_only_mine_and_optionally_one_kind(
    api_client: Any, customer: Any, other_customer: Any
) -> None:
    notice(customer, "a", kind="bill")
    notice(customer, "b", kind="outage")
    theirs = notice(other_customer, "c")

    only_bills = api_client.post("/api/v1/notifications/read-all?kind=bill").json()
    rest = api_client.post("/api/v1/notifications/read-all").json()

    assert only_bills == {"marked": 1, "unread": 1}
    assert rest == {"marked": 1, "unread": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


# ---------------------------------------------------------------- settings


def test_settings_show_the_defaults(api_client: Any, customer: Any) -> None:
    body = api_client.get("/api/v1/me/notification-settings").json()

    assert body["channels"] == {
        "bill": ["push", "email"],
        "payment": ["push", "email"],
        "outage": ["push", "sms"],
        "reading": ["push"],
        "verification": ["push", "email"],
        "appeal": ["push", "email"],
    }
    assert body["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "08:00"}
    assert [c["channel"] for c in body["available_channels"]] == ["push", "sms", "email"]
    assert [c["available"] for c in body["available_channels"]] == [False, True, False]
    assert body["push_public_key"]


def test_put_settings_replaces_the_given_kinds_and_quiet_hours(
    api_client: Any, customer: Any
) -> None:
    response = api_client.put(
        "/api/v1/me/notification-settings",
        {
            "channels": {"bill": ["email"], "outage": ["sms", "push", "sms"]},
            "quiet_hours": {"enabled": True, "start": "23:30", "end": "07:00"},
        },
        content_type="application/json",
    )

    body = response.json()
    assert response.status_code == 200
    assert body["channels"]["bill"] == ["email"]
    assert body["channels"]["outage"] == ["push", "sms"]
    assert body["channels"]["reading"] == ["push"]  # not given: unchanged
    assert body["quiet_hours"] == {"enabled": True, "start": "23:30", "end": "07:00"}
    assert AuditEntry.objects.filter(action="notices.settings_update", actor=customer).count() == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        (
            {"channels": {"spam": ["sms"]}},
            {"channels.spam": ["Неизвестный вид оповещений «spam»."]},
        ),
        (
            {"channels": {"bill": ["pigeon"]}},
            {"channels.bill": ["Неизвестный канал «pigeon». Можно: push, sms, email."]},
        ),
        (
            {"quiet_hours": {"enabled": True, "start": "25:00", "end": "08:00"}},
            {"quiet_hours.start": ["Время в формате ЧЧ:ММ, например 22:00."]},
        ),
        (
            {"quiet_hours": {"enabled": True, "start": "08:00", "end": "08:00"}},
            {"quiet_hours.end": ["Конец тихих часов должен отличаться от начала."]},
        ),
        (
            {"channels": {"bill": ["email"]}, "quiet_hours": {"start": "x", "end": "08:00"}},
            {"quiet_hours.start": ["Время в формате ЧЧ:ММ, например 22:00."]},
        ),
    ],
)
def test_malformed_settings_are_refused_and_nothing_is_written(
    api_client: Any, customer: Any, payload: dict[str, Any], fields: dict[str, list[str]]
) -> None:
    response = api_client.put(
        "/api/v1/me/notification-settings", payload, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json() == {
        "code": "notification_settings_invalid",
        "message": "Настройки не сохранены: проверьте выделенные значения.",
        "fields": fields,
    }
    assert ChannelPreference.objects.count() == 0
    assert NotificationSettings.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"channels": {"bill": "email"}}',
        '{"channels": ["bill"]}',
        '{"quiet_hours": {"enabled": "sometimes"}}',
    ],
)
def test_settings_of_the_wrong_shape_are_422_in_russian(api_client: Any, body: str) -> None:
    response = api_client.put(
        "/api/v1/me/notification-settings", body, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["message"] == "Проверьте введённые данные."
    assert ChannelPreference.objects.count() == 0


# ---------------------------------------------------------------- push


def subscription_body(endpoint: str) -> str:
    p256dh, auth = browser_keys()
    return json.dumps({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})


def test_subscribe_this_browser(api_client: Any, customer: Any) -> None:
    endpoint = "https://fcm.googleapis.com/fcm/send/dGVzdA"

    response = api_client.post(
        "/api/v1/push/subscriptions", subscription_body(endpoint), content_type="application/json"
    )
    again = api_client.post(
        "/api/v1/push/subscriptions", subscription_body(endpoint), content_type="application/json"
    )

    assert response.status_code == 201
    assert again.json()["id"] == response.json()["id"]
    sub = PushSubscription.objects.get()
    assert (sub.user, sub.endpoint) == (customer, endpoint)
    listed = api_client.get("/api/v1/push/subscriptions").json()
    assert [s["endpoint"] for s in listed["items"]] == [endpoint]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/x",  # not https
        "https://127.0.0.1:8000/admin/",  # not a push service
        "https://evil.example/fcm.googleapis.com",
        "https://fcm.googleapis.com.evil.example/x",
        "https://user:pw@fcm.googleapis.com/x",
        "javascript:alert(1)",
    ],
)
def test_a_bad_endpoint_is_refused_and_nothing_stored(api_client: Any, endpoint: str) -> None:
    response = api_client.post(
        "/api/v1/push/subscriptions", subscription_body(endpoint), content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "endpoint": ["Адрес подписки должен вести на push-сервис браузера (https)."]
    }
    assert PushSubscription.objects.count() == 0


def test_broken_keys_are_refused(api_client: Any) -> None:
    body = {
        "endpoint": "https://updates.push.services.mozilla.com/wpush/v2/x",
        "keys": {"p256dh": "bm90LWEta2V5", "auth": "c2hvcnQ"},
    }

    response = api_client.post("/api/v1/push/subscriptions", body, content_type="application/json")

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["keys"]
    assert PushSubscription.objects.count() == 0


def test_unsubscribe_own_and_not_anothers(
    api_client: Any, other_api_client: Any, customer: Any
) -> None:
    created = api_client.post(
        "/api/v1/push/subscriptions",
        subscription_body("https://web.push.apple.com/QGx"),
        content_type="application/json",
    ).json()

    foreign = other_api_client.delete(f"/api/v1/push/subscriptions/{created['id']}")
    own = api_client.delete(f"/api/v1/push/subscriptions/{created['id']}")

    assert foreign.status_code == 404
    assert own.status_code == 204
    assert PushSubscription.objects.count() == 0


# ---------------------------------------------------------------- news


def news(
    title: str,
    *,
    published: Any = NOW - timedelta(days=1),
    everywhere: bool = True,
    branches: Sequence[Any] = (),
) -> News:
    item = News.objects.create(
        title=title,
        body="Текст новости",
        published_at=published,
        all_branches=everywhere,
        created_at=NOW,
        updated_at=NOW,
    )
    item.branches.set(branches)
    return item


def test_news_shows_published_items_for_my_branch_only(
    api_client: Any, customer: Any, django_assert_num_queries: Any
) -> None:
    krs = make_branch()
    nsk = make_branch(code="nsk", name="Новосибирск")
    link(customer, make_account(branch=krs))
    everywhere = news("Для всех")
    mine = news("Красноярску", everywhere=False, branches=[krs], published=NOW - timedelta(hours=1))
    news("Новосибирску", everywhere=False, branches=[nsk])
    news("Черновик", published=None)
    news("Завтра", published=NOW + timedelta(days=1))

    with django_assert_num_queries(4):  # device, my branches, count, page
        body = api_client.get("/api/v1/news").json()

    assert body["count"] == 2
    assert [n["id"] for n in body["items"]] == [mine.pk, everywhere.pk]
    assert body["items"][0]["picture_url"] is None


def test_a_draft_scheduled_or_foreign_news_item_is_not_found(
    api_client: Any, customer: Any
) -> None:
    nsk = make_branch(code="nsk", name="Новосибирск")
    link(customer, make_account())
    draft = news("Черновик", published=None)
    later = news("Завтра", published=NOW + timedelta(days=1))
    foreign = news("Новосибирску", everywhere=False, branches=[nsk])
    shown = news("Для всех")

    statuses = [api_client.get(f"/api/v1/news/{n.pk}").status_code for n in (draft, later, foreign)]
    detail = api_client.get(f"/api/v1/news/{shown.pk}").json()

    assert statuses == [404, 404, 404]
    assert detail["body"] == "Текст новости"


# ---------------------------------------------------------------- outages


def test_outages_at_my_addresses_with_the_expected_restore_time(
    api_client: Any, customer: Any, other_customer: Any, django_assert_num_queries: Any
) -> None:
    account = make_account()  # Красноярск, ул. Карла Маркса, 7А, кв. 12
    link(customer, account)
    hot = make_service("hot_water")
    upcoming = make_outage(branch=account.branch, service=hot)
    current = make_outage(
        branch=account.branch,
        service=hot,
        kind="emergency",
        starts_at=NOW - timedelta(hours=2),
        addresses=[("Красноярск", "ул. Карла Маркса", "", "")],
        title="Авария на теплотрассе",
    )
    make_outage(
        branch=account.branch, service=hot, addresses=[("Красноярск", "ул. Ленина", "15", "")]
    )
    make_outage(branch=account.branch, service=hot, published=False)
    make_outage(
        branch=account.branch, service=hot, addresses=[("Красноярск", "ул. Карла Маркса", "7", "Б")]
    )

    with django_assert_num_queries(5):  # device, my ЛС, outages, their addresses, updates
        body = api_client.get("/api/v1/outages").json()

    assert [o["id"] for o in body["items"]] == [current.pk, upcoming.pk]
    first = body["items"][0]
    assert first["status"] == "current"
    assert first["kind"] == "emergency"
    assert first["restore_at"] == "2026-11-23T09:00:00+00:00"
    assert first["my_addresses"] == ["Красноярск, ул. Карла Маркса, д. 7, корп. А, кв. 12"]
    assert first["service"] == "Горячая вода"
    assert body["items"][1]["status"] == "upcoming"


def test_another_customers_outage_is_not_found(
    api_client: Any, customer: Any, other_customer: Any
) -> None:
    theirs = make_account(number="240100999999", street="ул. Мира", house="1", building="")
    link(other_customer, theirs)
    link(customer, make_account())
    outage = make_outage(
        branch=theirs.branch,
        service=make_service("heating"),
        addresses=[("Красноярск", "ул. Мира", "1", "")],
    )

    response = api_client.get(f"/api/v1/outages/{outage.pk}")

    assert response.status_code == 404
    assert api_client.get("/api/v1/outages").json()["count"] == 0


def test_a_news_picture_is_a_public_url(
    api_client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage
    from PIL import Image

    public = FileSystemStorage(location=str(tmp_path), base_url="/media/")
    monkeypatch.setattr(News._meta.get_field("picture"), "storage", public)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), (13, 91, 105)).save(buffer, format="PNG")
    item = news("С картинкой")
    item.picture.save("pic.png", ContentFile(buffer.getvalue()))

    body = api_client.get(f"/api/v1/news/{item.pk}").json()

    assert body["picture_url"] == f"http://testserver/media/{item.picture.name}"
    assert (tmp_path / item.picture.name).exists()


def test_openapi_documents_the_notices_paths(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    for path in (
        "/api/v1/notifications",
        "/api/v1/notifications/{notification_id}/read",
        "/api/v1/notifications/read-all",
        "/api/v1/me/notification-settings",
        "/api/v1/push/subscriptions",
        "/api/v1/push/subscriptions/{subscription_id}",
        "/api/v1/news",
        "/api/v1/news/{news_id}",
        "/api/v1/outages",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/me/notification-settings"]) == {"get", "put"}
    assert set(paths["/api/v1/push/subscriptions"]) == {"get", "post"}
