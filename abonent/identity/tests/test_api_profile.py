"""The profile: GET/PATCH /me, POST /me/contact/confirm, POST /me/password, DELETE /me."""

from __future__ import annotations

import re

import pytest

from abonent.core.models import AuditEntry
from abonent.identity.models import CodePurpose, Device, User, VerificationCode
from abonent.identity.tests.conftest import T0
from abonent.identity.tests.factories import (
    NEW_PASSWORD,
    PASSWORD,
    UserFactory,
    assert_error,
    code_in,
    open_app,
    other_code,
)

pytestmark = pytest.mark.django_db

PHONE = "+79131112233"
NEW_PHONE = "+79134445566"
TAKEN = "Этот телефон или e-mail уже привязан к другому пользователю."


@pytest.fixture
def me(db):
    """The customer and a signed-in phone app: (user, token)."""
    user = UserFactory(phone=PHONE, last_name="Иванова")
    _, token = open_app(user)
    return user, token


def snapshot(user: User) -> dict[str, object]:
    user.refresh_from_db()
    return {
        f: getattr(user, f)
        for f in ("phone", "email", "first_name", "patronymic", "last_name", "password")
    }


# ---------------------------------------------------------------- read


def test_me_shows_the_profile(api, me, clock):
    user, token = me

    response = api.get("/me", token=token)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "phone": PHONE,
        "phone_display": "+7 (913) 111-22-33",
        "email": None,
        "first_name": "Анна",
        "patronymic": "Сергеевна",
        "last_name": "Иванова",
        "display_name": "Анна Сергеевна",
        "date_joined": user.date_joined.isoformat(),
    }


def test_me_needs_a_signed_in_caller(api, me):
    assert_error(api.get("/me"), 401, "not_authenticated", {})
    assert_error(api.patch("/me", {"first_name": "Ольга"}), 401, "not_authenticated")
    assert_error(api.get("/me", token="not-a-token"), 401, "not_authenticated")


def test_me_shows_only_my_own_profile(api, me):
    user, token = me
    stranger = UserFactory(phone="+79139998877", first_name="Мария")
    _, their_token = open_app(stranger)

    assert api.get("/me", token=token).json()["id"] == user.pk
    assert api.get("/me", token=their_token).json()["first_name"] == "Мария"


# ---------------------------------------------------------------- names


def test_patch_changes_the_given_names_only(api, me):
    # given
    user, token = me

    # when
    response = api.patch("/me", {"last_name": "  Петрова ", "patronymic": "Ивановна"}, token=token)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["pending"] is None
    assert (body["user"]["first_name"], body["user"]["patronymic"], body["user"]["last_name"]) == (
        "Анна",
        "Ивановна",
        "Петрова",
    )
    user.refresh_from_db()
    assert (user.first_name, user.patronymic, user.last_name) == ("Анна", "Ивановна", "Петрова")
    entry = AuditEntry.objects.get(action="user.profile_update")
    assert entry.actor_id == user.pk
    assert entry.data == {
        "before": {"first_name": "Анна", "patronymic": "Сергеевна", "last_name": "Иванова"},
        "after": {"first_name": "Анна", "patronymic": "Ивановна", "last_name": "Петрова"},
    }


def test_patch_with_the_same_names_writes_no_audit_row(api, me):
    _, token = me

    response = api.patch("/me", {"first_name": "Анна"}, token=token)

    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="user.profile_update").exists()


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Заполните это поле."),
        (
            {"first_name": "Анна2"},
            "first_name",
            "Только буквы, пробел, дефис и апостроф, до 60 знаков.",
        ),
        (
            {"last_name": "<b>Иванова</b>"},
            "last_name",
            "Только буквы, пробел, дефис и апостроф, до 60 знаков.",
        ),
        (
            {"patronymic": "1"},
            "patronymic",
            "Только буквы, пробел, дефис и апостроф, до 60 знаков.",
        ),
    ],
)
def test_patch_refuses_bad_names_and_changes_nothing(api, me, patch, field, message):
    user, token = me
    before = snapshot(user)

    response = api.patch("/me", patch, token=token)

    assert_error(response, 422, "validation_error", {field: [message]})
    assert snapshot(user) == before
    assert not AuditEntry.objects.filter(action="user.profile_update").exists()


# ---------------------------------------------------------------- phone


def test_a_new_phone_gets_a_code_and_changes_only_when_confirmed(api, me, sms_log):
    # given
    user, token = me

    # when
    response = api.patch("/me", {"phone": "8 913 444-55-66"}, token=token)

    # then a code goes to the NEW number and nothing changes yet
    assert response.status_code == 200
    pending = response.json()["pending"]
    assert (pending["channel"], pending["target"]) == ("sms", NEW_PHONE)
    assert [m["phone"] for m in sms_log.messages] == [NEW_PHONE]
    code = sms_log.last_code(NEW_PHONE)
    assert sms_log.last_text(NEW_PHONE) == f"Код подтверждения номера в Абоненте: {code}."
    user.refresh_from_db()
    assert user.phone == PHONE
    vc = VerificationCode.objects.get()
    assert (vc.purpose, vc.user) == (CodePurpose.CHANGE_PHONE, user)

    # when confirmed
    confirmed = api.post(
        "/me/contact/confirm", {"request_id": pending["request_id"], "code": code}, token=token
    )

    # then
    assert confirmed.status_code == 200
    assert confirmed.json()["phone"] == NEW_PHONE
    user.refresh_from_db()
    assert user.phone == NEW_PHONE
    entry = AuditEntry.objects.get(action="user.phone_change")
    assert (entry.actor_id, entry.data) == (user.pk, {"before": PHONE, "after": NEW_PHONE})
    assert api.post("/auth/login", {"login": NEW_PHONE, "password": PASSWORD}).status_code == 200
    old = api.post("/auth/login", {"login": PHONE, "password": PASSWORD})
    assert_error(old, 422, "login_failed")


def test_a_phone_of_another_customer_gets_the_same_answer_and_its_owner_no_code(api, me, sms_log):
    # given a phone that another customer signs in with
    user, token = me
    UserFactory(phone=NEW_PHONE)

    # when I ask to move my account to it
    response = api.patch("/me", {"phone": NEW_PHONE}, token=token)
    free = api.patch("/me", {"email": "free@example.ru"}, token=token)

    # then the answer is the one a free phone gets (nobody learns who is registered)…
    assert response.status_code == free.status_code == 200
    assert set(response.json()["pending"]) == set(free.json()["pending"])
    assert response.json()["pending"]["target"] == NEW_PHONE
    # …its owner gets a notice without a code, and my phone stays as it was
    [sms] = sms_log.to(NEW_PHONE)
    assert "уже привязан к вашей учётной записи" in sms["text"]
    assert not re.search(r"\d{6}", sms["text"])
    user.refresh_from_db()
    assert user.phone == PHONE


def test_bad_names_send_no_code_for_a_new_phone(api, me, sms_log):
    user, token = me
    before = snapshot(user)

    response = api.patch("/me", {"phone": NEW_PHONE, "first_name": "R2D2"}, token=token)

    assert_error(response, 422, "validation_error")
    assert len(sms_log) == 0
    assert not VerificationCode.objects.exists()
    assert snapshot(user) == before


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"phone": PHONE}, 422, "contact_unchanged"),
        ({"phone": "+7 (495) 123-45-67"}, 422, "invalid_phone"),
        ({"email": "not-an-email"}, 422, "invalid_email"),
        ({"phone": NEW_PHONE, "email": "anna@example.ru"}, 422, "one_contact_at_a_time"),
    ],
)
def test_a_bad_new_contact_is_refused(api, me, sms_log, mailoutbox, patch, status, code):
    user, token = me
    before = snapshot(user)

    response = api.patch("/me", patch, token=token)

    assert_error(response, status, code)
    assert len(sms_log) == 0
    assert mailoutbox == []
    assert not VerificationCode.objects.exists()
    assert snapshot(user) == before


def test_a_wrong_contact_code_changes_nothing(api, me, sms_log):
    user, token = me
    pending = api.patch("/me", {"phone": NEW_PHONE}, token=token).json()["pending"]

    response = api.post(
        "/me/contact/confirm",
        {"request_id": pending["request_id"], "code": other_code(sms_log.last_code(NEW_PHONE))},
        token=token,
    )

    assert_error(response, 422, "code_invalid")
    user.refresh_from_db()
    assert user.phone == PHONE


def test_another_customer_cannot_confirm_my_contact_change(api, me, sms_log):
    # given my pending change, and a stranger who somehow has the code
    user, token = me
    pending = api.patch("/me", {"phone": NEW_PHONE}, token=token).json()["pending"]
    stranger = UserFactory(phone="+79139998877")
    _, their_token = open_app(stranger)

    # when
    response = api.post(
        "/me/contact/confirm",
        {"request_id": pending["request_id"], "code": sms_log.last_code(NEW_PHONE)},
        token=their_token,
    )

    # then
    assert_error(response, 404, "code_not_found", {})
    stranger.refresh_from_db()
    user.refresh_from_db()
    assert (stranger.phone, user.phone) == ("+79139998877", PHONE)
    assert VerificationCode.objects.get().consumed_at is None


def test_a_signup_code_does_not_confirm_a_contact_change(api, me, sms_log, clock):
    _, token = me
    signup = api.post(
        "/auth/register",
        {
            "login": NEW_PHONE,
            "first_name": "Ольга",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "consent": True,
        },
    ).json()

    response = api.post(
        "/me/contact/confirm",
        {"request_id": signup["request_id"], "code": sms_log.last_code(NEW_PHONE)},
        token=token,
    )

    assert_error(response, 404, "code_not_found")


def test_a_phone_taken_while_the_code_was_pending_is_refused(api, me, sms_log):
    # given my pending change
    user, token = me
    pending = api.patch("/me", {"phone": NEW_PHONE}, token=token).json()["pending"]
    code = sms_log.last_code(NEW_PHONE)
    # when someone else gets that phone first
    UserFactory(phone=NEW_PHONE)

    response = api.post(
        "/me/contact/confirm", {"request_id": pending["request_id"], "code": code}, token=token
    )

    assert_error(response, 409, "contact_taken", {"phone": [TAKEN]})
    user.refresh_from_db()
    assert user.phone == PHONE
    assert not AuditEntry.objects.filter(action="user.phone_change").exists()


def test_contact_confirm_needs_a_signed_in_caller(api, me):
    response = api.post(
        "/me/contact/confirm", {"request_id": "1f0c1a8e-2b7e-4c55-9d51-6a4f4e0b9c11", "code": "1"}
    )

    assert_error(response, 401, "not_authenticated")


# ---------------------------------------------------------------- e-mail


def test_a_new_email_gets_a_code_by_mail(api, me, mailoutbox):
    # given
    user, token = me

    # when
    response = api.patch("/me", {"email": " Anna.New@Example.RU"}, token=token)

    # then
    assert response.status_code == 200
    pending = response.json()["pending"]
    assert (pending["channel"], pending["target"]) == ("email", "anna.new@example.ru")
    [mail] = mailoutbox
    assert mail.to == ["anna.new@example.ru"]
    assert mail.subject == "Подтверждение e-mail"
    user.refresh_from_db()
    assert user.email is None

    # when confirmed
    confirmed = api.post(
        "/me/contact/confirm",
        {"request_id": pending["request_id"], "code": code_in(mail.body)},
        token=token,
    )

    # then
    assert confirmed.status_code == 200
    user.refresh_from_db()
    assert (user.email, user.phone) == ("anna.new@example.ru", PHONE)
    assert AuditEntry.objects.filter(action="user.email_change", actor=user).count() == 1


def test_an_email_of_another_customer_cannot_be_taken_over(api, me, mailoutbox):
    user, token = me
    UserFactory(phone=None, email="taken@example.ru")

    response = api.patch("/me", {"email": "TAKEN@example.ru"}, token=token)
    guess = api.post(
        "/me/contact/confirm",
        {"request_id": response.json()["pending"]["request_id"], "code": "000000"},
        token=token,
    )

    assert response.status_code == 200
    [mail] = mailoutbox
    assert mail.to == ["taken@example.ru"]
    assert not re.search(r"\d{6}", mail.body)
    assert guess.status_code == 422
    user.refresh_from_db()
    assert user.email is None


# ---------------------------------------------------------------- password


def change(api, token, current=PASSWORD, new=NEW_PASSWORD, confirm=None, **extra):
    return api.post(
        "/me/password",
        {
            "current_password": current,
            "new_password": new,
            "new_password_confirm": new if confirm is None else confirm,
            **extra,
        },
        token=token,
    )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"current": "Not-The-Password-1"}, "wrong_password"),
        ({"confirm": NEW_PASSWORD + "x"}, "password_mismatch"),
        ({"new": "12345678"}, "weak_password"),
    ],
)
def test_a_bad_password_change_changes_nothing(api, me, kwargs, code):
    # given
    user, token = me
    _, other_token = open_app(user, "Планшет")
    before = snapshot(user)
    stamp = user.session_stamp

    # when
    response = change(api, token, **kwargs)

    # then
    body = assert_error(response, 422, code)
    assert len(body["fields"]) == 1
    assert snapshot(user) == before
    assert user.session_stamp == stamp
    assert api.get("/me", token=other_token).status_code == 200
    assert not AuditEntry.objects.filter(action="user.password_change").exists()


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        pytest.param(
            {"current": "Not-The-Password-1"},
            {"current_password": ["Текущий пароль указан неверно."]},
            id="wrong-current",
        ),
        pytest.param(
            {"confirm": "Other-Password-2026"},
            {"new_password_confirm": ["Пароли не совпадают."]},
            id="mismatch",
        ),
        pytest.param(
            {"new": "12345678"},
            {
                "new_password": [
                    "Введённый пароль слишком широко распространён.",
                    "Введённый пароль состоит только из цифр.",
                ]
            },
            id="weak",
        ),
    ],
)
def test_a_bad_password_change_names_the_request_field(api, me, kwargs, fields):
    _, token = me

    response = change(api, token, **kwargs)

    assert response.json()["fields"] == fields


def test_a_password_change_signs_the_other_devices_out(api, make_api, me):
    # given the same customer on another phone and in a browser
    user, token = me
    _, other_token = open_app(user, "Планшет")
    browser = make_api()
    browser.post("/auth/login", {"login": PHONE, "password": PASSWORD, "client": "web"})

    # when
    response = change(api, token, sign_out_others=True)

    # then
    assert response.status_code == 200
    assert response.json() == {"message": "Пароль изменён."}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api.get("/me", token=token).status_code == 200
    assert_error(api.get("/me", token=other_token), 401, "not_authenticated")
    assert_error(browser.get("/me"), 401, "not_authenticated")
    assert list(Device.objects.filter(revoked_at__isnull=True)) == [
        Device.objects.get(name="Телефон")
    ]
    entry = AuditEntry.objects.get(action="user.password_change")
    assert (entry.actor_id, entry.data) == (user.pk, {"sign_out_others": True})


def test_sign_out_others_is_the_default(api, me):
    user, token = me
    _, other_token = open_app(user, "Планшет")

    response = api.post(
        "/me/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
        token=token,
    )

    assert response.status_code == 200
    assert_error(api.get("/me", token=other_token), 401, "not_authenticated")


def test_a_password_change_may_keep_the_other_devices(api, make_api, me):
    user, token = me
    _, other_token = open_app(user, "Планшет")
    browser = make_api()
    browser.post("/auth/login", {"login": PHONE, "password": PASSWORD, "client": "web"})

    response = change(api, token, sign_out_others=False)

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api.get("/me", token=other_token).status_code == 200
    assert browser.get("/me").status_code == 200


def test_a_password_change_in_the_browser_keeps_that_session(api, make_api, me):
    # given
    _, token = me
    browser = make_api()
    browser.post("/auth/login", {"login": PHONE, "password": PASSWORD, "client": "web"})
    web = Device.objects.get(kind="web")

    # when
    response = change(browser, None, sign_out_others=True)

    # then
    assert response.status_code == 200
    assert browser.get("/me").status_code == 200
    assert_error(api.get("/me", token=token), 401, "not_authenticated")
    web.refresh_from_db()
    assert web.revoked_at is None
    assert web.session_key == browser.client.session.session_key


def test_a_password_change_needs_a_signed_in_caller(api, me):
    user, _ = me

    response = change(api, None)

    assert_error(response, 401, "not_authenticated")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# ---------------------------------------------------------------- deletion


def test_deleting_with_a_wrong_password_changes_nothing(api, me):
    user, token = me
    before = snapshot(user)

    response = api.delete("/me", {"password": "Not-The-Password-1"}, token=token)

    assert_error(response, 422, "wrong_password", {"password": ["Пароль указан неверно."]})
    assert snapshot(user) == before
    user.refresh_from_db()
    assert (user.is_active, user.deleted_at) == (True, None)
    assert api.get("/me", token=token).status_code == 200
    assert not AuditEntry.objects.filter(action="user.delete").exists()


def test_deleting_anonymises_the_user_and_frees_the_phone(api, me, sms_log, clock):
    # given a customer with a code in flight
    user, token = me
    api.patch("/me", {"email": "anna@example.ru"}, token=token)
    user_pk = user.pk

    # when
    response = api.delete("/me", {"password": PASSWORD}, token=token)

    # then
    assert response.status_code == 204
    user = User.objects.get(pk=user_pk)
    assert (user.phone, user.email) == (None, None)
    assert (user.first_name, user.patronymic, user.last_name) == ("Удалённый", "", "пользователь")
    assert not user.has_usable_password()
    assert user.is_active is False
    assert user.deleted_at == T0
    assert not Device.objects.filter(user=user).exists()
    assert not VerificationCode.objects.exists()
    assert_error(api.get("/me", token=token), 401, "not_authenticated")
    entry = AuditEntry.objects.get(action="user.delete")
    assert (entry.actor_id, entry.subject_user_id) == (user_pk, user_pk)
    assert_error(
        api.post("/auth/login", {"login": PHONE, "password": PASSWORD}), 422, "login_failed"
    )

    # and the phone can sign up again, as a new customer
    ticket = api.post(
        "/auth/register",
        {
            "login": PHONE,
            "first_name": "Ольга",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "consent": True,
        },
    ).json()
    assert "уже зарегистрирован" not in sms_log.last_text(PHONE)
    created = api.post(
        "/auth/register/confirm",
        {"request_id": ticket["request_id"], "code": sms_log.last_code(PHONE)},
    )
    assert created.status_code == 201
    assert created.json()["user"]["id"] != user_pk
    assert User.objects.get(phone=PHONE).first_name == "Ольга"


def test_deleting_from_the_browser_ends_the_session(api, make_api, me):
    user, _ = me
    browser = make_api()
    browser.post("/auth/login", {"login": PHONE, "password": PASSWORD, "client": "web"})

    response = browser.delete("/me", {"password": PASSWORD})

    assert response.status_code == 204
    assert_error(browser.get("/me"), 401, "not_authenticated")
    user.refresh_from_db()
    assert user.deleted_at is not None


def test_deleting_needs_a_signed_in_caller(api, me):
    user, _ = me

    response = api.delete("/me", {"password": PASSWORD})

    assert_error(response, 401, "not_authenticated")
    user.refresh_from_db()
    assert user.deleted_at is None
