"""The app PIN: POST /auth/pin, POST /auth/pin/login, DELETE /auth/pin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from abonent.core.models import AuditEntry
from abonent.identity.models import Device
from abonent.identity.tests.conftest import T0
from abonent.identity.tests.factories import UserFactory, assert_error, open_app

pytestmark = pytest.mark.django_db

PIN = "2580"


@pytest.fixture
def phone(db):
    """A customer's phone app: (user, device, token)."""
    user = UserFactory(phone="+79131112233")
    device, token = open_app(user)
    return user, device, token


def set_pin(api, token, pin=PIN):
    return api.post("/auth/pin", {"pin": pin}, token=token)


# ---------------------------------------------------------------- set


@pytest.mark.parametrize("pin", ["2580", "13579", "902714"])
def test_a_pin_of_four_to_six_digits_is_set(api, phone, pin):
    user, device, token = phone

    response = set_pin(api, token, pin)

    assert response.status_code == 204
    device.refresh_from_db()
    assert device.has_pin
    assert pin not in device.pin_hash  # stored hashed
    assert device.pin_failures == 0
    listed = api.get("/auth/devices", token=token).json()
    assert [d["has_pin"] for d in listed] == [True]
    assert AuditEntry.objects.filter(action="device.pin_set", actor=user).count() == 1


@pytest.mark.parametrize(
    ("pin", "code"),
    [
        ("12", "invalid_pin"),
        ("1234567", "invalid_pin"),
        ("abcd", "invalid_pin"),
        ("12a4", "invalid_pin"),
        ("", "invalid_pin"),
        ("1111", "weak_pin"),
        ("000000", "weak_pin"),
        ("1234", "weak_pin"),
        ("456789", "weak_pin"),
        ("4321", "weak_pin"),
    ],
)
def test_a_bad_pin_is_refused_and_nothing_changes(api, phone, pin, code):
    _, device, token = phone

    response = set_pin(api, token, pin)

    body = assert_error(response, 422, code)
    assert body["fields"] == {"pin": [body["message"]]}
    device.refresh_from_db()
    assert device.pin_hash == ""


def test_the_pin_messages_are_clear(api, phone):
    _, _, token = phone

    short = set_pin(api, token, "12").json()
    simple = set_pin(api, token, "1234").json()

    assert short["message"] == "Цифровой пароль — от 4 до 6 цифр."
    assert simple["message"] == (
        "Слишком простой цифровой пароль: не используйте одинаковые цифры или цифры подряд."
    )


def test_a_pin_can_only_be_set_with_a_device_token(api, make_api):
    # given a customer signed in by session
    UserFactory(phone="+79131112233")
    browser = make_api()
    browser.post(
        "/auth/login", {"login": "+79131112233", "password": "Teplo-Sun-2026", "client": "web"}
    )

    # when
    response = browser.post("/auth/pin", {"pin": PIN})

    # then
    assert_error(response, 401, "not_authenticated")
    assert not Device.objects.exclude(pin_hash="").exists()


def test_a_pin_needs_a_signed_in_device(api):
    assert_error(api.post("/auth/pin", {"pin": PIN}), 401, "not_authenticated")
    assert_error(api.delete("/auth/pin"), 401, "not_authenticated")


# ---------------------------------------------------------------- unlock


def test_pin_login_swaps_the_token_for_a_new_one(api, phone):
    # given
    user, device, token = phone
    set_pin(api, token)

    # when
    response = api.post("/auth/pin/login", {"token": token, "pin": PIN})

    # then
    assert response.status_code == 200
    body = response.json()
    new_token = body["token"]
    assert new_token
    assert new_token != token
    assert body["user"]["id"] == user.pk
    assert body["device"]["id"] == device.pk
    assert body["device"]["has_pin"] is True
    assert_error(api.get("/me", token=token), 401, "not_authenticated")
    assert api.get("/me", token=new_token).json()["id"] == user.pk
    assert Device.objects.count() == 1


def test_pin_login_revives_an_idle_expired_token(api, phone, clock):
    # given a phone that was not used for more than 30 days
    _, device, token = phone
    Device.objects.filter(pk=device.pk).update(
        created_at=T0, last_seen_at=T0, expires_at=T0 + timedelta(days=30)
    )
    set_pin(api, token)
    clock.move_to(T0 + timedelta(days=30, seconds=1), tick=False)
    assert_error(api.get("/me", token=token), 401, "not_authenticated")

    # when
    response = api.post("/auth/pin/login", {"token": token, "pin": PIN})

    # then
    assert response.status_code == 200
    new_token = response.json()["token"]
    assert api.get("/me", token=new_token).status_code == 200
    device.refresh_from_db()
    assert device.expires_at == T0 + timedelta(days=60, seconds=1)


def test_wrong_pins_count_down_then_the_device_is_signed_out(api, phone):
    # given
    _, device, token = phone
    set_pin(api, token)
    for left in (4, 3, 2, 1):
        wrong = api.post("/auth/pin/login", {"token": token, "pin": "9999"})
        msg = f"Неверный цифровой пароль. Осталось попыток: {left}."
        assert_error(wrong, 422, "pin_invalid", {"pin": [msg]})
    device.refresh_from_db()
    assert device.pin_failures == 4
    assert device.revoked_at is None

    # when the fifth is wrong too
    fifth = api.post("/auth/pin/login", {"token": token, "pin": "9999"})

    # then the PIN is dropped and the device signed out: the password is needed
    body = assert_error(fifth, 401, "pin_locked", {})
    assert body["message"] == "Цифровой пароль введён неверно 5 раз и сброшен. Войдите с паролем."
    device.refresh_from_db()
    assert device.revoked_at is not None
    assert device.pin_hash == ""
    assert device.token_hash is None
    assert_error(api.post("/auth/pin/login", {"token": token, "pin": PIN}), 401, "device_not_found")
    assert_error(api.get("/me", token=token), 401, "not_authenticated")
    assert AuditEntry.objects.filter(action="device.pin_locked").count() == 1


def test_the_right_pin_clears_the_failures(api, phone):
    _, device, token = phone
    set_pin(api, token)
    for _ in range(3):
        api.post("/auth/pin/login", {"token": token, "pin": "9999"})

    response = api.post("/auth/pin/login", {"token": token, "pin": PIN})

    assert response.status_code == 200
    device.refresh_from_db()
    assert device.pin_failures == 0


def test_pin_login_with_an_unknown_token_is_refused(api, phone):
    _, _, token = phone
    set_pin(api, token)

    response = api.post("/auth/pin/login", {"token": "not-a-token", "pin": PIN})

    body = assert_error(response, 401, "device_not_found", {})
    assert body["message"] == "Устройство не найдено. Войдите с паролем."


def test_pin_login_without_a_pin_set_is_refused(api, phone):
    _, _, token = phone

    response = api.post("/auth/pin/login", {"token": token, "pin": PIN})

    assert_error(response, 401, "pin_not_set", {})
    assert api.get("/me", token=token).status_code == 200  # the token still works


def test_pin_login_for_a_deactivated_user_is_refused(api, phone):
    user, _, token = phone
    set_pin(api, token)
    user.is_active = False
    user.save()

    response = api.post("/auth/pin/login", {"token": token, "pin": PIN})

    assert_error(response, 401, "device_not_found")


# ---------------------------------------------------------------- remove


def test_delete_removes_the_pin(api, phone):
    user, device, token = phone
    set_pin(api, token)

    response = api.delete("/auth/pin", token=token)

    assert response.status_code == 204
    device.refresh_from_db()
    assert device.pin_hash == ""
    assert_error(api.post("/auth/pin/login", {"token": token, "pin": PIN}), 401, "pin_not_set")
    assert api.get("/me", token=token).status_code == 200
    assert AuditEntry.objects.filter(action="device.pin_remove", actor=user).count() == 1


def test_a_pin_belongs_to_one_device(api, phone):
    user, _, token = phone
    _, tablet_token = open_app(user, "Планшет")
    set_pin(api, token)

    response = api.post("/auth/pin/login", {"token": tablet_token, "pin": PIN})

    assert_error(response, 401, "pin_not_set")
