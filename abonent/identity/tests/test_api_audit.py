"""Every change a customer makes to their identity is in the audit log, with the acting user."""

from __future__ import annotations

import pytest

from abonent.core.models import AuditEntry
from abonent.identity.models import User
from abonent.identity.tests.factories import NEW_PASSWORD, PASSWORD, code_in

pytestmark = pytest.mark.django_db

PHONE = "+79131112233"


def test_a_customers_life_is_audited_step_by_step(api, sms_log, mailoutbox, clock):
    # sign up
    ticket = api.post(
        "/auth/register",
        {
            "login": PHONE,
            "first_name": "Анна",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "consent": True,
        },
    ).json()
    signed_up = api.post(
        "/auth/register/confirm",
        {"request_id": ticket["request_id"], "code": sms_log.last_code(PHONE)},
    ).json()
    user = User.objects.get()
    token = signed_up["token"]

    # sign in again, change the name, the e-mail, the password
    api.post("/auth/login", {"login": PHONE, "password": PASSWORD})
    api.patch("/me", {"last_name": "Иванова"}, token=token)
    pending = api.patch("/me", {"email": "anna@example.ru"}, token=token).json()["pending"]
    api.post(
        "/me/contact/confirm",
        {"request_id": pending["request_id"], "code": code_in(mailoutbox[-1].body)},
        token=token,
    )
    api.post(
        "/me/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "sign_out_others": False,
        },
        token=token,
    )

    # reset the password (signs everything out), sign in, delete the account
    clock.shift(61)
    reset = api.post("/auth/password/reset", {"login": PHONE}).json()
    api.post(
        "/auth/password/reset/confirm",
        {
            "request_id": reset["request_id"],
            "code": sms_log.last_code(PHONE),
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    token = api.post("/auth/login", {"login": PHONE, "password": PASSWORD}).json()["token"]
    assert api.delete("/me", {"password": PASSWORD}, token=token).status_code == 204

    # then
    rows = list(
        AuditEntry.objects.order_by("id").values_list("action", "actor_id", "subject_user_id", "ip")
    )
    actions = [
        "user.signup",
        "user.login",
        "user.login",
        "user.profile_update",
        "user.email_change",
        "user.password_change",
        "user.password_reset",
        "user.login",
        "user.delete",
    ]
    assert rows == [(action, user.pk, user.pk, "127.0.0.1") for action in actions]
    email_change = AuditEntry.objects.get(action="user.email_change")
    # the values were personal data: the deletion scrubbed them (decision 0012)
    assert email_change.data == {"before": "[удалено]", "after": "[удалено]"}
    assert email_change.object_type == "identity.user"
    assert email_change.object_id == str(user.pk)
    # no secret ever lands in the log
    dumped = repr(list(AuditEntry.objects.values()))
    assert PASSWORD not in dumped
    assert NEW_PASSWORD not in dumped
    assert token not in dumped


def test_failed_attempts_change_nothing_and_are_not_audited_as_changes(api, sms_log):
    from abonent.identity.tests.factories import UserFactory, open_app

    user = UserFactory(phone=PHONE)
    _, token = open_app(user)
    AuditEntry.objects.all().delete()

    api.post("/auth/login", {"login": PHONE, "password": "Not-The-Password-1"})
    api.patch("/me", {"first_name": "1"}, token=token)
    api.post(
        "/me/password",
        {
            "current_password": "x",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
        token=token,
    )
    api.delete("/me", {"password": "x"}, token=token)

    assert not AuditEntry.objects.exists()
