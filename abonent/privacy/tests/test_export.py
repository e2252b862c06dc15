"""A customer's export of everything held about them (152-ФЗ): GET /api/v1/me/export (JSON)
and the profile's «Скачать мои данные» (ZIP with the JSON, a summary and the attachments)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from abonent.accounts.models import PersonalAccount
from abonent.appeals.models import Message
from abonent.core.models import AuditEntry
from abonent.security.tests.world import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/export"


def exports(user: Any) -> int:
    return AuditEntry.objects.filter(actor=user, action="user.data_export").count()


# ---------------------------------------------------------------- API: who may


def test_anonymous_gets_401_and_nothing_is_recorded(world: Any) -> None:
    response = Client().get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert AuditEntry.objects.filter(action="user.data_export").count() == 0


def test_the_owner_gets_everything_about_them_and_nothing_about_the_other(world: Any) -> None:
    owner, other = world.owner, world.other
    Message.objects.create(
        appeal_id=owner.ids["appeal_id"],
        author=world.operator,
        is_operator=True,
        is_internal=True,
        body="Внутренняя заметка: проверить прибор",
        created_at=owner.user.date_joined,
    )
    # when the owner asks for their data
    response = Client(headers=owner.auth).get(URL)
    # then it is a JSON file download
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="abonent-my-data.json"'
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode()
    data = json.loads(text)
    assert data["format"] == "abonent-personal-data"
    assert data["profile"]["phone"] == "+79000000101"
    assert data["profile"]["last_name"] == "Иванова"
    account = PersonalAccount.objects.get(pk=owner.ids["account_id"])
    assert [a["number"] for a in data["accounts"]] == [account.number]
    assert [m["serial"] for m in data["accounts"][0]["meters"]] == ["ГВС-1"]
    assert [r["value"] for r in data["accounts"][0]["meters"][0]["readings"]] == [
        "100.0000",
        "104.5000",
    ]
    assert len(data["accounts"][0]["bills"]) == 1
    assert sorted(p["amount"] for p in data["payments"]) == ["10.00", "1500.00"]
    assert data["cards"] == [
        {
            "brand": "Мир",
            "last4": "0004",
            "exp_month": 12,
            "exp_year": 2030,
            "title": "",
            "created_at": "2026-11-23T03:00:00+00:00",
            "deleted_at": None,
        }
    ]
    [appeal] = data["appeals"]
    attachments = [a for m in appeal["messages"] for a in m["attachments"]]
    assert [(a["name"], a["content_type"]) for a in attachments] == [
        ("квитанция.pdf", "application/pdf")
    ]
    assert attachments[0]["size"] > 0
    assert [n["title"] for n in data["notifications"]["items"]] == ["Новая квитанция"]
    assert len(data["notifications"]["push_subscriptions"]) == 1
    assert {d["name"] for d in data["devices"]} >= {"Телефон", "Планшет"}
    assert {e["action"] for e in data["audit"]} >= {"appeal.create"}
    # never: the card token, password hash, push keys, internal notes, the other customer
    for secret in (
        "tok_world_1",
        owner.user.password,
        "p256dh",
        "Внутренняя заметка",
        "tok_world_2",
        other.user.phone,
        PersonalAccount.objects.get(pk=other.ids["account_id"]).number,
        "Смирнова",
    ):
        assert secret not in text, secret
    # and the export is in the audit log
    row = AuditEntry.objects.get(action="user.data_export")
    assert (row.actor_id, row.subject_user_id, row.data) == (
        owner.user.pk,
        owner.user.pk,
        {"format": "json", "attachments": 1},
    )


def test_another_customer_gets_their_own_data_only(world: Any) -> None:
    response = Client(headers=world.other.auth).get(URL)
    assert response.status_code == 200
    assert response.json()["profile"]["phone"] == "+79000000202"
    assert "+79000000101" not in response.content.decode()


def test_a_staff_read_is_in_the_export_without_the_staff_members_name(
    world: Any, admin_client_for: Any
) -> None:
    admin_client_for(world.operator).get(f"/operator/appeals/{world.owner.ids['appeal_id']}/")
    data = Client(headers=world.owner.auth).get(URL).json()
    staff = [e for e in data["audit"] if e["who"] == "staff"]
    assert staff == [
        {
            "at": staff[0]["at"],
            "who": "staff",
            "action": "staff.viewed",
            "object": "appeals.appeal",
            "ip": None,
            "details": {},
        }
    ]
    assert world.operator.last_name not in json.dumps(data, ensure_ascii=False)


# ---------------------------------------------------------------- the limit


def test_the_limit_is_a_russian_429_with_retry_after_and_nothing_recorded(
    world: Any, settings: Any
) -> None:
    settings.DATA_EXPORT_MAX_PER_DAY = 2
    client = Client(headers=world.owner.auth)
    assert [client.get(URL).status_code for _ in range(2)] == [200, 200]
    # when a third export is asked for the same day
    response = client.get(URL)
    # then it is refused, in Russian, with when to come back
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "export_limit_reached"
    assert body["message"].startswith("Выгрузку данных можно получить не чаще 2 раз в сутки.")
    assert 0 < int(response["Retry-After"]) <= 86400
    assert exports(world.owner.user) == 2
    # the other customer has their own allowance
    assert Client(headers=world.other.auth).get(URL).status_code == 200


# ---------------------------------------------------------------- web: the ZIP


def test_the_profile_button_gives_a_zip_with_json_summary_and_attachments(
    world: Any, session_client_for: Any
) -> None:
    client = session_client_for(world.owner.user, password=PASSWORD)
    page = client.get("/profile/").content.decode()
    assert 'action="/profile/export/"' in page
    assert "Скачать мои данные" in page
    # when the owner presses it
    response = client.post("/profile/export/")
    # then a ZIP comes back
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="abonent-moi-dannye-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert names[0] == "data.json"
    assert names[-1] == "сводка.txt"
    [attachment] = [n for n in names if n.startswith("attachments/")]
    assert attachment.endswith("-квитанция.pdf")
    assert archive.read(attachment).startswith(b"%PDF")
    summary = archive.read("сводка.txt").decode()
    assert "ФИО: Иванова Анна Ивановна" in summary
    assert "Телефон: +79000000101" in summary
    assert "Мир •• 0004" in summary
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["id"] == world.owner.user.pk
    assert AuditEntry.objects.get(action="user.data_export").data["format"] == "zip"


def test_web_export_over_the_limit_goes_back_with_a_message(
    world: Any, session_client_for: Any, settings: Any
) -> None:
    settings.DATA_EXPORT_MAX_PER_DAY = 1
    client = session_client_for(world.owner.user, password=PASSWORD)
    assert client.post("/profile/export/").status_code == 200
    response = client.post("/profile/export/", follow=True)
    assert response.redirect_chain == [("/profile/", 302)]
    assert "не чаще 1 раз в сутки" in response.content.decode()
    assert exports(world.owner.user) == 1


def test_web_export_needs_sign_in_and_a_post(world: Any, session_client_for: Any) -> None:
    anonymous = Client().post("/profile/export/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")
    client = session_client_for(world.owner.user, password=PASSWORD)
    assert client.get("/profile/export/").status_code == 405
    assert AuditEntry.objects.filter(action="user.data_export").count() == 0


# ---------------------------------------------------------------- cost and completeness


def test_the_export_costs_the_same_queries_whatever_the_amount_of_data(
    world: Any, django_assert_num_queries: Any
) -> None:
    from abonent.core import clock
    from abonent.privacy.export import export_collect

    with django_assert_num_queries(QUERIES) as small:
        export_collect(user=world.owner.user, now=clock.now())
    for i in range(5):
        Message.objects.create(
            appeal_id=world.owner.ids["appeal_id"],
            author=world.owner.user,
            body=f"Ещё {i}",
            created_at=clock.now(),
        )
    with django_assert_num_queries(len(small.captured_queries)):
        export_collect(user=world.owner.user, now=clock.now())


QUERIES = 23

# Tables that name a user or an ЛС and are not in the export, and why.
NOT_EXPORTED = {
    "admin.logentry": "staff actions in the back office (the audit log has them, exported)",
    "identity.verificationcode": "one-time codes: secret, purged within a day",
    "accounts.accountservice": "which services the ЛС receives (its charges are exported)",
    "billing.ledgerentry": "the ledger behind the balances (balances and bills are exported)",
    "payments.paymentline": "exported inside each payment",
    "payments.refund": "exported inside each payment",
    "payments.gatewayevent": "the acquirer's raw notifications (the payment is exported)",
    "payments.autopayrun": "monthly autopay attempts (their payments are exported)",
    "appeals.message": "exported inside each appeal",
    "appeals.attachment": "exported inside each message (files in the ZIP)",
    "appeals.readmark": "how far each side has read a thread",
    "notices.delivery": "per-channel delivery state of an exported notification",
    "notices.outage": "public outages (created_by is staff)",
    "meters.reading": "exported inside each meter",
}
EXPORTED = {
    "identity.device",
    "accounts.accountlink",
    "billing.charge",
    "billing.bill",
    "meters.meter",
    "payments.payment",
    "payments.savedcard",
    "payments.autopaysetting",
    "appeals.appeal",
    "appeals.callbackrequest",
    "notices.notification",
    "notices.notificationsettings",
    "notices.channelpreference",
    "notices.pushsubscription",
    "core.auditentry",
}


def test_every_table_about_a_customer_is_exported_or_excluded_with_a_reason() -> None:
    user_model = get_user_model()
    ours = [
        m
        for m in apps.get_models()
        if m.__module__.startswith("abonent.") and not m.__module__.startswith("abonent.payments.g")
    ]
    about_someone = {
        m._meta.label_lower
        for m in ours
        for f in m._meta.get_fields()
        if f.is_relation
        and f.concrete
        and f.related_model in (user_model, PersonalAccount)
        and m is not PersonalAccount
    }
    about_someone.add("core.auditentry")  # subject_user_id is a plain id
    assert about_someone - EXPORTED - set(NOT_EXPORTED) == set()
    assert settings.DATA_EXPORT_MAX_PER_DAY == 5
