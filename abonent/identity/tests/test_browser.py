"""A customer's whole first day, in Chromium: sign up by phone, sign out and in, set a PIN
through the API and unlock with it, change the password."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from abonent.identity.models import Device, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Rivet-Harbor-42"
NEW_PASSWORD = "Tundra-Lantern-77"


def test_sign_up_by_phone_then_pin_and_password_change(
    page: Any, live_url: Callable[[str], str], sms_outbox: Any
) -> None:
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    # Sign up with a phone number in the local spelling, reading the code from the outbox.
    page.goto(live_url("/signup/"))
    page.get_by_label("Мобильный телефон или e-mail").fill("8 913 555-44-33")
    page.get_by_label(re.compile(r"^Имя")).fill("Мария")
    page.get_by_label("Отчество").fill("Сергеевна")
    page.get_by_label(re.compile(r"^Пароль(?! ещё)")).fill(PASSWORD)
    page.get_by_label("Пароль ещё раз").fill(PASSWORD)
    page.get_by_label("Символы с картинки").fill("PASSED")
    page.get_by_label(re.compile("согласие на обработку")).check()
    page.get_by_role("button", name="Далее").click()

    page.wait_for_url(re.compile(r"/signup/confirm/$"))
    assert "+7 (913) 555-44-33" in page.content()
    page.get_by_label("Код из сообщения").fill(sms_outbox.last_code("+79135554433"))
    page.get_by_role("button", name="Продолжить").click()

    page.wait_for_url(live_url("/"))
    assert "Регистрация завершена" in page.content()
    user = User.objects.get(phone="+79135554433")
    assert user.first_name == "Мария"

    # Sign out from the profile, then sign in again with the same login.
    page.goto(live_url("/profile/"))
    page.get_by_role("button", name="Выйти").click()
    page.wait_for_url(re.compile(r"/login/$"))
    page.get_by_label("Телефон или e-mail").fill("+7 913 555 44 33")
    page.get_by_label(re.compile(r"^Пароль")).fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(live_url("/"))
    assert page.get_by_role("navigation").first.is_visible()

    # The phone app: sign in for a device token, set a PIN, unlock with it.
    api = page.context.request
    login = api.post(
        live_url("/api/v1/auth/login"),
        data={"login": "+79135554433", "password": PASSWORD, "device_name": "Телефон Марии"},
    )
    assert login.status == 200
    token = login.json()["token"]
    pin = api.post(
        live_url("/api/v1/auth/pin"),
        data={"pin": "4821"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert pin.status == 204
    unlocked = api.post(live_url("/api/v1/auth/pin/login"), data={"token": token, "pin": "4821"})
    assert unlocked.status == 200
    new_token = unlocked.json()["token"]
    assert new_token != token
    me = api.get(live_url("/api/v1/me"), headers={"Authorization": f"Bearer {new_token}"})
    assert me.json()["phone"] == "+79135554433"
    stale = api.get(live_url("/api/v1/me"), headers={"Authorization": f"Bearer {token}"})
    assert stale.status == 401

    # Change the password in the browser, signing out the phone; this session stays.
    page.goto(live_url("/profile/password/"))
    page.get_by_label("Текущий пароль").fill(PASSWORD)
    page.get_by_label(re.compile(r"^Новый пароль(?! ещё)")).fill(NEW_PASSWORD)
    page.get_by_label("Новый пароль ещё раз").fill(NEW_PASSWORD)
    page.get_by_label("Выйти на всех других устройствах").check()
    page.get_by_role("button", name="Сменить пароль").click()
    page.wait_for_url(re.compile(r"/profile/$"))
    assert "Пароль изменён" in page.content()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    after = api.get(live_url("/api/v1/me"), headers={"Authorization": f"Bearer {new_token}"})
    assert after.status == 401
    assert Device.objects.filter(user=user, kind="app", revoked_at__isnull=True).count() == 0

    # The old password no longer works; the new one does.
    page.get_by_role("button", name="Выйти").click()
    page.get_by_label("Телефон или e-mail").fill("+79135554433")
    page.get_by_label(re.compile(r"^Пароль")).fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    assert "Неверный логин или пароль" in page.content()
    page.get_by_label(re.compile(r"^Пароль")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(live_url("/"))

    assert csp_errors == []
