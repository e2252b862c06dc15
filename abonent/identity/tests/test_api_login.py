"""Sign-in and sign-out: POST /auth/login, POST /auth/logout; lockout; session vs token."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

from abonent.core.models import AuditEntry
from abonent.identity.models import Device, DeviceKind
from abonent.identity.tests.factories import (
    NEW_PASSWORD,
    PASSWORD,
    UserFactory,
    assert_error,
    open_app,
)

pytestmark = pytest.mark.django_db

PHONE = "+79131112233"
LOGIN_FAILED = "Неверный логин или пароль."
LOCKED = "Слишком много неудачных попыток входа. Попробуйте через 15 мин. или восстановите пароль."


def login(api, login, password=PASSWORD, headers=None, **extra):
    body = {"login": login, "password": password, **extra}
    return api.post("/auth/login", body, headers=headers)


# ---------------------------------------------------------------- who may sign in


@pytest.mark.parametrize(
    "spelling",
    ["+79131112233", "8 (913) 111-22-33", "+7 913 111 22 33", "89131112233", "913-111-2233"],
)
def test_login_by_phone_in_any_spelling(api, spelling):
    user = UserFactory(phone=PHONE)

    response = login(api, spelling, device_name="Pixel")

    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert body["user"]["id"] == user.pk
    device = Device.objects.get(user=user)
    assert (device.kind, device.name) == (DeviceKind.APP, "Pixel")
    assert body["device"] == {
        "id": device.pk,
        "kind": "app",
        "name": "Pixel",
        "ip": "127.0.0.1",
        "created_at": body["device"]["created_at"],
        "last_seen_at": body["device"]["created_at"],
        "has_pin": False,
        "current": True,
    }
    assert api.get("/me", token=body["token"]).json()["id"] == user.pk


@pytest.mark.parametrize("spelling", ["anna@example.ru", "Anna@Example.RU", "  ANNA@EXAMPLE.RU "])
def test_login_by_email_in_any_case(api, spelling):
    user = UserFactory(phone=None, email="anna@example.ru")

    response = login(api, spelling)

    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.pk


def test_login_records_a_device_and_an_audit_entry(api):
    user = UserFactory(phone=PHONE)

    body = login(api, PHONE).json()

    device = Device.objects.get()
    assert body["device"]["id"] == device.pk
    assert device.token_hash is not None
    assert body["token"] not in device.token_hash  # only the hash is kept
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.object_id) == (
        "user.login",
        user.pk,
        str(device.pk),
    )
    assert entry.data == {"kind": "app"}


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(api):
    UserFactory(phone=PHONE)

    wrong = login(api, PHONE, "Not-The-Password-1")
    unknown = login(api, "+7 913 999-00-11", PASSWORD)
    unknown_email = login(api, "nobody@example.ru", PASSWORD)

    expected = {"code": "login_failed", "message": LOGIN_FAILED, "fields": {}}
    for response in (wrong, unknown, unknown_email):
        assert_error(response, 422, "login_failed")
        assert response.json() == expected
    assert not Device.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"login": "", "password": PASSWORD}, {"login": PHONE, "password": ""}],
    ids=["no-login", "no-password"],
)
def test_empty_credentials_are_refused(api, body):
    UserFactory(phone=PHONE)

    response = api.post("/auth/login", body)

    assert_error(response, 422, "login_failed", {})
    assert not Device.objects.exists()


def test_an_inactive_user_cannot_sign_in(api):
    UserFactory(phone=PHONE, is_active=False)

    response = login(api, PHONE)

    assert_error(response, 422, "login_failed", {})
    assert not Device.objects.exists()


# ---------------------------------------------------------------- lockout


def test_five_failures_lock_the_login(api):
    # given
    UserFactory(phone=PHONE)
    for _ in range(4):
        assert_error(login(api, PHONE, "Not-The-Password-1"), 422, "login_failed")

    # when
    fifth = login(api, PHONE, "Not-The-Password-1")

    # then
    body = assert_error(fifth, 429, "login_locked", {})
    assert body["message"] == LOCKED
    assert fifth["Retry-After"] == "900"
    assert_error(login(api, PHONE, "Not-The-Password-1"), 429, "login_locked")
    assert not Device.objects.exists()


def test_the_lock_ends_when_the_message_says(api, clock):
    # given a login locked at T0
    UserFactory(phone=PHONE)
    for _ in range(5):
        login(api, PHONE, "Not-The-Password-1")

    # while the 15 minutes run, it stays locked
    clock.shift(15 * 60 - 5)
    assert_error(login(api, PHONE, "Not-The-Password-1"), 429, "login_locked")

    # and 15 minutes after the last failure a wrong password is only wrong again
    clock.shift(15 * 60 + 1)
    assert_error(login(api, PHONE, "Not-The-Password-1"), 422, "login_failed")


def test_failures_count_per_login_whatever_the_spelling(api):
    UserFactory(phone=PHONE)
    spellings = ["+79131112233", "8 (913) 111-22-33", "+7 913 111 22 33", "89131112233"]
    for spelling in spellings:
        assert_error(login(api, spelling, "Not-The-Password-1"), 422, "login_failed")

    fifth = login(api, "9131112233", "Not-The-Password-1")

    assert_error(fifth, 429, "login_locked")


def test_a_lock_on_one_login_does_not_touch_another(api):
    UserFactory(phone=PHONE)
    other = UserFactory(phone="+79139998877")
    for _ in range(5):
        login(api, PHONE, "Not-The-Password-1")

    response = login(api, other.phone)

    assert response.status_code == 200


def test_a_locked_login_is_refused_even_with_the_right_password(api):
    # given a locked login
    UserFactory(phone=PHONE)
    for _ in range(5):
        login(api, PHONE, "Not-The-Password-1")

    # when the right password comes
    response = login(api, PHONE, PASSWORD)

    # then
    assert_error(response, 429, "login_locked", {})
    assert not Device.objects.exists()


def test_a_password_reset_lifts_the_lock(api, sms_log):
    # given a locked login
    UserFactory(phone=PHONE)
    for _ in range(5):
        login(api, PHONE, "Not-The-Password-1")
    assert AccessAttempt.objects.filter(username=PHONE).exists()

    # when the password is reset
    ticket = api.post("/auth/password/reset", {"login": PHONE}).json()
    reset = api.post(
        "/auth/password/reset/confirm",
        {
            "request_id": ticket["request_id"],
            "code": sms_log.last_code(PHONE),
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert reset.status_code == 200

    # then the failures are forgotten: a wrong password is just wrong again, the new one works
    assert not AccessAttempt.objects.filter(username=PHONE).exists()
    assert_error(login(api, PHONE, "Not-The-Password-1"), 422, "login_failed")
    assert login(api, PHONE, NEW_PASSWORD).status_code == 200


def test_a_successful_web_login_resets_the_failure_count(api):
    # given four failures, then a good sign-in from the browser
    UserFactory(phone=PHONE)
    for _ in range(4):
        login(api, PHONE, "Not-The-Password-1")
    assert login(api, PHONE, client="web").status_code == 200

    # then the count starts again (AXES_RESET_ON_SUCCESS)
    assert not AccessAttempt.objects.filter(username=PHONE).exists()
    for _ in range(4):
        assert_error(login(api, PHONE, "Not-The-Password-1"), 422, "login_failed")


def test_a_successful_app_login_resets_the_failure_count(api):
    # given four failures, then a good sign-in from the phone app
    UserFactory(phone=PHONE)
    for _ in range(4):
        login(api, PHONE, "Not-The-Password-1")
    assert login(api, PHONE).status_code == 200

    # then one more typo is only a typo
    assert_error(login(api, PHONE, "Not-The-Password-1"), 422, "login_failed")


# ---------------------------------------------------------------- web mode: session + CSRF


def test_web_login_without_the_csrf_token_is_refused(make_api):
    # given a browser that got the CSRF cookie but does not send the header
    UserFactory(phone=PHONE)
    browser = make_api(enforce_csrf_checks=True)
    browser.client.get("/login/")

    # when
    response = login(browser, PHONE, client="web")

    # then
    assert_error(response, 403, "csrf_failed", {})
    assert not Device.objects.exists()
    assert "_auth_user_id" not in browser.client.session
    assert_error(browser.get("/me"), 401, "not_authenticated")


def test_web_login_with_the_csrf_token_opens_a_session(make_api):
    # given
    user = UserFactory(phone=PHONE)
    browser = make_api(enforce_csrf_checks=True)
    browser.client.get("/login/")

    # when
    response = login(browser, PHONE, client="web", headers={"X-CSRFToken": browser.csrf()})

    # then
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert body["token"] is None
    device = Device.objects.get(user=user)
    assert device.kind == DeviceKind.WEB
    assert device.token_hash is None
    assert device.session_key == browser.client.session.session_key
    assert body["device"]["id"] == device.pk
    assert body["device"]["current"] is True
    assert browser.get("/me").json()["id"] == user.pk


def test_the_session_works_for_an_unsafe_call_only_with_the_csrf_header(make_api):
    # given a signed-in browser
    user = UserFactory(phone=PHONE)
    browser = make_api(enforce_csrf_checks=True)
    browser.client.get("/login/")
    login(browser, PHONE, client="web", headers={"X-CSRFToken": browser.csrf()})
    patch = {"last_name": "Петрова"}

    # when the unsafe call has no CSRF header
    refused = browser.patch("/me", patch)

    # then
    assert_error(refused, 403, "forbidden", {})
    user.refresh_from_db()
    assert user.last_name == "Иванова"

    # and with the (rotated on sign-in) token it goes through
    accepted = browser.patch("/me", patch, headers={"X-CSRFToken": browser.csrf()})
    assert accepted.status_code == 200
    user.refresh_from_db()
    assert user.last_name == "Петрова"


def test_app_login_needs_no_csrf_token(make_api):
    UserFactory(phone=PHONE)
    phone_app = make_api(enforce_csrf_checks=True)

    response = login(phone_app, PHONE)

    assert response.status_code == 200
    assert response.json()["token"]


# ---------------------------------------------------------------- sign-out


def test_logout_revokes_the_bearer_token(api, make_api):
    # given two phones
    user = UserFactory(phone=PHONE)
    device, token = open_app(user)
    _, other_token = open_app(user, "Планшет")

    # when one signs out
    response = api.post("/auth/logout", token=token)

    # then
    assert response.status_code == 204
    assert_error(api.get("/me", token=token), 401, "not_authenticated", {})
    device.refresh_from_db()
    assert device.revoked_at is not None
    assert device.token_hash is None
    assert api.get("/me", token=other_token).status_code == 200


def test_logout_ends_the_session(api):
    user = UserFactory(phone=PHONE)
    assert login(api, PHONE, client="web").status_code == 200
    device = Device.objects.get(user=user)
    session_key = api.client.session.session_key

    response = api.post("/auth/logout")

    assert response.status_code == 204
    assert_error(api.get("/me"), 401, "not_authenticated")
    device.refresh_from_db()
    assert device.revoked_at is not None
    assert device.session_key is None
    assert api.client.session.session_key != session_key


def test_logout_needs_a_signed_in_caller(api):
    assert_error(api.post("/auth/logout"), 401, "not_authenticated", {})
    assert_error(api.post("/auth/logout", token="no-such-token"), 401, "not_authenticated")
