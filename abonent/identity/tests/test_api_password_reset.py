"""Password reset by code: POST /auth/password/reset and /auth/password/reset/confirm."""

from __future__ import annotations

import pytest

from abonent.core.models import AuditEntry
from abonent.identity.models import CodePurpose, Device, User, VerificationCode
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
RESET_TEXT = "Код для восстановления пароля в Абоненте: {code}. Никому его не сообщайте."


def confirm(api, ticket, code, password=NEW_PASSWORD, password_confirm=None):
    return api.post(
        "/auth/password/reset/confirm",
        {
            "request_id": ticket["request_id"],
            "code": code,
            "password": password,
            "password_confirm": password if password_confirm is None else password_confirm,
        },
    )


def test_a_known_phone_gets_a_reset_code(api, sms_log):
    user = UserFactory(phone=PHONE)

    response = api.post("/auth/password/reset", {"login": "8 913 111-22-33"})

    assert response.status_code == 202
    body = response.json()
    assert (body["channel"], body["target"]) == ("sms", PHONE)
    [sms] = sms_log.messages
    assert sms["phone"] == PHONE
    assert sms["text"] == RESET_TEXT.format(code=code_in(sms["text"]))
    vc = VerificationCode.objects.get()
    assert (vc.purpose, vc.user) == (CodePurpose.PASSWORD_RESET, user)


def test_an_unknown_login_gets_the_same_answer_and_no_sms(api, sms_log, clock):
    # given
    UserFactory(phone=PHONE)
    known = api.post("/auth/password/reset", {"login": PHONE})

    # when
    unknown = api.post("/auth/password/reset", {"login": "+7 913 999-00-11"})

    # then
    assert unknown.status_code == known.status_code == 202
    assert set(unknown.json()) == set(known.json())
    assert unknown.json()["target"] == "+79139990011"
    assert unknown.json()["expires_at"] == known.json()["expires_at"]
    assert [m["phone"] for m in sms_log.messages] == [PHONE]
    assert VerificationCode.objects.get(target="+79139990011").user is None


def test_an_unknown_email_gets_the_same_answer_and_no_mail(api, mailoutbox):
    response = api.post("/auth/password/reset", {"login": "Nobody@Example.ru"})

    assert response.status_code == 202
    assert response.json()["channel"] == "email"
    assert response.json()["target"] == "nobody@example.ru"
    assert mailoutbox == []


def test_a_resend_for_an_unknown_login_sends_nothing_either(api, sms_log, clock):
    ticket = api.post("/auth/password/reset", {"login": "+7 913 999-00-11"}).json()
    clock.shift(61)

    response = api.post("/auth/code/resend", {"request_id": ticket["request_id"]})

    assert response.status_code == 202
    assert len(sms_log) == 0


def test_a_malformed_login_is_refused(api, sms_log):
    response = api.post("/auth/password/reset", {"login": "123"})

    assert_error(response, 422, "invalid_phone")
    assert response.json()["fields"] == {
        "login": ["Укажите мобильный номер в формате +7 (999) 999-99-99."]
    }
    assert not VerificationCode.objects.exists()
    assert len(sms_log) == 0


def test_confirm_sets_the_new_password_and_signs_every_device_out(api, make_api, sms_log):
    # given a customer signed in on a phone and in a browser
    user = UserFactory(phone=PHONE)
    _, token = open_app(user)
    browser = make_api()
    browser.post("/auth/login", {"login": PHONE, "password": PASSWORD, "client": "web"})
    assert browser.get("/me").status_code == 200
    stamp = user.session_stamp
    ticket = api.post("/auth/password/reset", {"login": PHONE}).json()

    # when
    response = confirm(api, ticket, sms_log.last_code(PHONE))

    # then
    assert response.status_code == 200
    assert response.json() == {"message": "Пароль изменён. Войдите с новым паролем."}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    assert user.session_stamp != stamp
    assert not Device.objects.filter(revoked_at__isnull=True).exists()
    assert_error(api.get("/me", token=token), 401, "not_authenticated")
    assert_error(browser.get("/me"), 401, "not_authenticated")
    old = api.post("/auth/login", {"login": PHONE, "password": PASSWORD})
    assert_error(old, 422, "login_failed")
    assert api.post("/auth/login", {"login": PHONE, "password": NEW_PASSWORD}).status_code == 200
    entry = AuditEntry.objects.get(action="user.password_reset")
    assert entry.actor_id == user.pk


def test_reset_by_email(api, mailoutbox):
    user = UserFactory(phone=None, email="anna@example.ru")
    ticket = api.post("/auth/password/reset", {"login": "ANNA@example.ru"}).json()
    [mail] = mailoutbox
    assert mail.to == ["anna@example.ru"]
    assert mail.subject == "Восстановление пароля"

    response = confirm(api, ticket, code_in(mail.body))

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("password", "password_confirm", "code", "field"),
    [
        pytest.param("12345678", "12345678", "weak_password", "password", id="weak"),
        pytest.param(
            NEW_PASSWORD, NEW_PASSWORD + "x", "password_mismatch", "password_confirm", id="mismatch"
        ),
    ],
)
def test_a_bad_new_password_keeps_the_code_and_the_old_password(
    api, sms_log, password, password_confirm, code, field
):
    # given
    user = UserFactory(phone=PHONE)
    _, token = open_app(user)
    ticket = api.post("/auth/password/reset", {"login": PHONE}).json()
    sms_code = sms_log.last_code(PHONE)

    # when
    response = confirm(api, ticket, sms_code, password, password_confirm)

    # then nothing changed: not the password, not the code, not the devices
    body = assert_error(response, 422, code)
    assert list(body["fields"]) == [field]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    vc = VerificationCode.objects.get()
    assert (vc.attempts, vc.consumed_at) == (0, None)
    assert api.get("/me", token=token).status_code == 200
    assert not AuditEntry.objects.filter(action="user.password_reset").exists()
    # and the same code still works with a good password
    assert confirm(api, ticket, sms_code).status_code == 200


def test_a_wrong_code_changes_nothing(api, sms_log):
    user = UserFactory(phone=PHONE)
    ticket = api.post("/auth/password/reset", {"login": PHONE}).json()

    response = confirm(api, ticket, other_code(sms_log.last_code(PHONE)))

    assert_error(response, 422, "code_invalid")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert VerificationCode.objects.get().attempts == 1


def test_a_reset_code_works_once(api, sms_log):
    UserFactory(phone=PHONE)
    ticket = api.post("/auth/password/reset", {"login": PHONE}).json()
    code = sms_log.last_code(PHONE)
    assert confirm(api, ticket, code).status_code == 200

    again = confirm(api, ticket, code, "Tretii-Parol-2026")

    assert_error(again, 422, "code_used")
    user = User.objects.get()
    assert user.check_password(NEW_PASSWORD)


def test_an_unknown_login_answers_like_a_known_one_on_confirm_too(api, sms_log, monkeypatch):
    # given a reset for an unknown login, and (improbably) the right code
    monkeypatch.setattr("abonent.identity.services.codes.secrets.randbelow", lambda n: 123456)
    ticket = api.post("/auth/password/reset", {"login": "+7 913 999-00-11"}).json()

    weak = confirm(api, ticket, "123456", "12345678")
    right = confirm(api, ticket, "123456")

    # then the weak password is refused as for anyone, and the code leads nowhere
    assert_error(weak, 422, "weak_password")
    assert_error(right, 422, "code_invalid")
    assert User.objects.count() == 0
