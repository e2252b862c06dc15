"""Account deletion end to end (API and web): the customer cannot sign in any more, every
token and session is dead, personal data is erased, money and metering records are kept but
depersonalised, and the audit log shows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from abonent.accounts.models import AccountLink, PersonalAccount
from abonent.appeals.models import Appeal, Attachment, CallbackRequest, Message
from abonent.billing.models import Charge, LedgerEntry
from abonent.core.models import AuditEntry
from abonent.identity.models import Device, VerificationCode
from abonent.meters.models import Reading
from abonent.notices.models import Notification, PushSubscription
from abonent.payments.models import Payment, PaymentLine, SavedCard
from abonent.privacy.services import ERASED_SUBJECT
from abonent.security.tests.world import PASSWORD

pytestmark = pytest.mark.django_db


def login(phone: str, password: str = PASSWORD) -> int:
    return (
        Client()
        .post(
            "/api/v1/auth/login",
            {"login": phone, "password": password, "client": "app", "device_name": "t"},
            content_type="application/json",
        )
        .status_code
    )


def snapshot(user: Any, account_id: int) -> dict[str, int]:
    return {
        "payments": Payment.objects.filter(user=user).count(),
        "lines": PaymentLine.objects.filter(payment__user=user).count(),
        "ledger": LedgerEntry.objects.filter(account_id=account_id).count(),
        "charges": Charge.objects.filter(account_id=account_id).count(),
        "readings": Reading.objects.filter(meter__account_id=account_id).count(),
        "appeals": Appeal.objects.filter(user=user).count(),
        "messages": Message.objects.filter(appeal__user=user).count(),
    }


def test_deleting_the_account_by_api_erases_the_person_and_keeps_the_money(
    world: Any,
    session_client_for: Any,
    private_storage: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner, other = world.owner, world.other
    user = owner.user
    phone, email = user.phone, user.email
    account_id = owner.ids["account_id"]
    api = Client(headers=owner.auth)
    web = session_client_for(user, password=PASSWORD)
    # given a name change in the audit log, a failed sign-in under the phone, a stored file
    patched = api.patch("/api/v1/me", {"last_name": "Иванова-Сидорова"}, "application/json")
    assert patched.status_code == 200
    assert login(phone, "wrong-password") == 422
    assert AccessAttempt.objects.filter(username=phone).exists()
    attachment = Attachment.objects.get(pk=owner.ids["attachment_id"])
    assert (private_storage / attachment.path).exists()
    kept = snapshot(user, account_id)
    other_before = snapshot(other.user, other.ids["account_id"])
    assert kept["payments"] == 2
    assert kept["readings"] == 2

    # when the customer deletes the account with the password
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete("/api/v1/me", {"password": PASSWORD}, "application/json")
    assert response.status_code == 204
    assert not AccessAttempt.objects.filter(username=phone).exists()  # sign-in failures too

    # then they cannot sign in, and every token and session is dead
    assert login(phone) == 422
    assert login(email) == 422
    assert api.get("/api/v1/me").status_code == 401
    assert web.get("/api/v1/me").status_code == 401
    assert web.get("/profile/")["Location"].startswith("/login/")
    assert Device.objects.filter(user=user).count() == 0
    assert VerificationCode.objects.filter(user=user).count() == 0

    # the person is erased from the user row (kept, anonymous, for the references)
    user.refresh_from_db()
    assert (user.phone, user.email, user.last_name, user.first_name, user.patronymic) == (
        None,
        None,
        "пользователь",
        "Удалённый",
        "",
    )
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.deleted_at is not None
    assert not get_user_model().objects.filter(phone=phone).exists()  # the phone is free again

    # their personal data elsewhere is gone
    assert AccountLink.objects.filter(user=user).count() == 0
    assert SavedCard.objects.filter(user=user).count() == 0
    assert not SavedCard.objects.filter(token="tok_world_1").exists()
    assert Notification.objects.filter(user=user).count() == 0
    assert PushSubscription.objects.filter(user=user).count() == 0
    assert CallbackRequest.objects.filter(user=user).count() == 0
    appeal = Appeal.objects.get(pk=owner.ids["appeal_id"])
    assert (appeal.subject, appeal.account_id, appeal.rating_comment) == (ERASED_SUBJECT, None, "")
    assert set(Message.objects.filter(appeal=appeal).values_list("body", flat=True)) == {""}
    assert Attachment.objects.filter(message__appeal=appeal).count() == 0
    assert not (private_storage / attachment.path).exists()

    # money and metering records stay, depersonalised
    assert snapshot(user, account_id) == kept
    assert PersonalAccount.objects.filter(pk=account_id).exists()
    payment = Payment.objects.get(pk=owner.ids["payment_id"])
    assert (payment.user_id, payment.amount, payment.status) == (user.pk, 1500, "succeeded")
    assert (payment.card_id, payment.card_brand, payment.card_last4) == (None, "", "")

    # the audit log shows the deletion, with no personal values left in it
    deletion = AuditEntry.objects.get(action="user.delete")
    assert (deletion.actor_id, deletion.subject_user_id) == (user.pk, user.pk)
    assert deletion.data["cards"] == 1
    assert deletion.data["attachments"] == 1
    change = AuditEntry.objects.get(action="user.profile_update", subject_user_id=user.pk)
    assert change.data == {"before": "[удалено]", "after": "[удалено]"}
    trail = json.dumps(
        list(AuditEntry.objects.filter(subject_user_id=user.pk).values_list("data", flat=True)),
        ensure_ascii=False,
    )
    for personal in ("Иванова", "Анна", phone, email):
        assert personal not in trail

    # and the other customer is untouched
    assert snapshot(other.user, other.ids["account_id"]) == other_before
    assert SavedCard.objects.filter(user=other.user).count() == 1
    assert login(other.user.phone) == 200


def test_a_wrong_password_deletes_nothing(world: Any) -> None:
    user = world.owner.user
    response = Client(headers=world.owner.auth).delete(
        "/api/v1/me", {"password": "not-my-password"}, "application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "wrong_password"
    user.refresh_from_db()
    assert (user.phone, user.is_active, user.deleted_at) == ("+79000000101", True, None)
    assert SavedCard.objects.filter(user=user).count() == 1
    assert AccountLink.objects.filter(user=user).count() == 1
    assert not AuditEntry.objects.filter(action="user.delete").exists()
    assert Client(headers=world.owner.auth).get("/api/v1/me").status_code == 200


def test_deleting_the_account_on_the_web_signs_out_and_stops_sign_in(
    world: Any, session_client_for: Any
) -> None:
    user = world.owner.user
    web = session_client_for(user, password=PASSWORD)
    response = web.post("/profile/delete/", {"password": PASSWORD, "confirm": "on"}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "Учётная запись удалена" in response.content.decode()
    assert web.get("/profile/")["Location"].startswith("/login/")
    assert login("+79000000101") == 422
    assert Client(headers=world.owner.auth).get("/api/v1/me").status_code == 401
    assert AuditEntry.objects.filter(action="user.delete", subject_user_id=user.pk).count() == 1
