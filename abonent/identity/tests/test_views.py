"""The identity web pages: sign-up, sign-in, reset, profile, devices, deletion."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from abonent.accounts.models import AccountLink, PersonalAccount
from abonent.core.models import AuditEntry
from abonent.identity.models import Device, User, VerificationCode

PASSWORD = "Rivet-Harbor-42"
NEW_PASSWORD = "Tundra-Lantern-77"


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user(
        phone="+79131112233", password=PASSWORD, first_name="Иван", patronymic="Иванович"
    )


def sign_in(client: Client, login: str = "+79131112233", password: str = PASSWORD):
    return client.post(reverse("identity:login"), {"username": login, "password": password})


# ---------------------------------------------------------------- sign-in pages


def test_anonymous_is_sent_to_login(client: Client, db: None) -> None:
    response = client.get(reverse("identity:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))


def test_login_page_renders_in_russian_with_csp(client: Client, db: None) -> None:
    response = client.get(reverse("identity:login"))

    assert response.status_code == 200
    assert "Пароль" in response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_login_with_phone_in_local_spelling_signs_in_and_records_the_browser(
    client: Client, user: User
) -> None:
    response = client.post(
        reverse("identity:login"),
        {"username": "8 (913) 111-22-33", "password": PASSWORD},
        HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0) Chrome/130.0",
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    device = Device.objects.get(user=user)
    assert device.kind == "web"
    assert device.name == "Chrome, Windows"
    assert device.session_key == client.session.session_key
    assert client.get(reverse("identity:profile")).status_code == 200


def test_login_wrong_password_shows_message_and_creates_no_session(
    client: Client, user: User
) -> None:
    response = sign_in(client, password="wrong-password")

    assert response.status_code == 422
    assert "Неверный логин или пароль" in response.content.decode()
    assert not Device.objects.exists()
    assert "_auth_user_id" not in client.session


def test_login_locks_after_five_failures_with_a_clear_message(client: Client, user: User) -> None:
    for _ in range(5):
        sign_in(client, password="wrong-password")

    response = sign_in(client)

    assert response.status_code == 429
    assert "Слишком много неудачных попыток входа" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_redirects_only_to_local_next(client: Client, user: User) -> None:
    response = client.post(
        reverse("identity:login") + "?next=https://evil.example/",
        {"username": "+79131112233", "password": PASSWORD},
    )

    assert response["Location"] == reverse("web:home")


def test_logout_revokes_the_device_and_ends_the_session(client: Client, user: User) -> None:
    sign_in(client)

    response = client.post(reverse("identity:logout"))

    assert response.status_code == 302
    assert Device.objects.get(user=user).revoked_at is not None
    assert client.get(reverse("identity:profile")).status_code == 302


# ---------------------------------------------------------------- sign-up pages


SIGNUP = {
    "login": "+7 913 555-44-33",
    "first_name": "Мария",
    "patronymic": "Сергеевна",
    "password": PASSWORD,
    "password_confirm": PASSWORD,
    "consent": "on",
    "captcha_0": "x",
    "captcha_1": "PASSED",
}


@pytest.mark.django_db(transaction=True)
def test_signup_by_phone_through_the_pages(client: Client, sms_outbox) -> None:
    response = client.post(reverse("identity:signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("identity:signup_confirm")
    page = client.get(reverse("identity:signup_confirm")).content.decode()
    assert "+7 (913) 555-44-33" in page

    code = sms_outbox.last_code("+79135554433")
    response = client.post(reverse("identity:signup_confirm"), {"code": code})

    assert response.status_code == 302
    user = User.objects.get(phone="+79135554433")
    assert (user.first_name, user.patronymic) == ("Мария", "Сергеевна")
    assert user.consent_version == "2026-11-01"
    assert user.consent_at is not None
    assert client.get(reverse("web:home")).status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"consent": ""}, "согласие"),
        ({"password_confirm": "Other-Password-1"}, "Пароли не совпадают"),
        ({"password": "12345678", "password_confirm": "12345678"}, "пароль"),
        ({"login": "12345"}, "+7 (999) 999-99-99"),
        ({"captcha_1": "WRONG"}, "Неверный"),
    ],
)
def test_signup_bad_input_shows_message_and_sends_nothing(
    client: Client, db: None, change: dict[str, str], message: str
) -> None:
    data = {**SIGNUP, **change}
    if not data["consent"]:
        del data["consent"]

    response = client.post(reverse("identity:signup"), data)

    assert response.status_code in (400, 422)
    assert message.lower() in response.content.decode().lower()
    assert not VerificationCode.objects.exists()
    assert not User.objects.exists()


def test_signup_confirm_without_a_pending_request_goes_back_to_signup(
    client: Client, db: None
) -> None:
    response = client.get(reverse("identity:signup_confirm"))

    assert response.status_code == 302
    assert response["Location"] == reverse("identity:signup")


def test_signup_confirm_with_a_wrong_code_keeps_the_user_out(client: Client, db: None) -> None:
    client.post(reverse("identity:signup"), SIGNUP)

    response = client.post(reverse("identity:signup_confirm"), {"code": "000000"})

    assert response.status_code in (422, 400)
    assert "Неверный код" in response.content.decode()
    assert not User.objects.exists()


# ---------------------------------------------------------------- password reset


@pytest.mark.django_db(transaction=True)
def test_password_reset_through_the_pages(client: Client, user: User, sms_outbox) -> None:
    response = client.post(reverse("identity:reset"), {"login": "89131112233"})
    assert response["Location"] == reverse("identity:reset_confirm")
    code = sms_outbox.last_code("+79131112233")

    response = client.post(
        reverse("identity:reset_confirm"),
        {"code": code, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("identity:login")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_reset_for_an_unknown_login_looks_the_same_and_sends_nothing(
    client: Client, db: None, sms_outbox
) -> None:
    response = client.post(reverse("identity:reset"), {"login": "+79139998877"})

    assert response.status_code == 302
    assert response["Location"] == reverse("identity:reset_confirm")
    assert sms_outbox.messages() == []


# ---------------------------------------------------------------- profile


def test_profile_update_saves_names_and_audits(client: Client, user: User) -> None:
    sign_in(client)

    response = client.post(
        reverse("identity:profile"),
        {"last_name": "Петров", "first_name": "Иван", "patronymic": "Иванович"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.last_name == "Петров"
    entry = AuditEntry.objects.get(action="user.profile_update")
    assert entry.actor_id == user.pk
    assert entry.data["after"]["last_name"] == "Петров"


def test_profile_update_rejects_digits_and_changes_nothing(client: Client, user: User) -> None:
    sign_in(client)

    response = client.post(
        reverse("identity:profile"), {"last_name": "", "first_name": "Ив4н", "patronymic": ""}
    )

    assert response.status_code == 422
    assert "Только буквы" in response.content.decode()
    user.refresh_from_db()
    assert (user.first_name, user.patronymic) == ("Иван", "Иванович")


@pytest.mark.django_db(transaction=True)
def test_phone_change_waits_for_the_code_sent_to_the_new_number(
    client: Client, user: User, sms_outbox
) -> None:
    sign_in(client)

    client.post(
        reverse("identity:contact", args=["phone"]), {"kind": "phone", "value": "+79137776655"}
    )
    user.refresh_from_db()
    assert user.phone == "+79131112233"
    code = sms_outbox.last_code("+79137776655")
    response = client.post(reverse("identity:contact_confirm"), {"code": code})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone == "+79137776655"


def test_password_change_keeps_this_session_and_ends_the_others(client: Client, user: User) -> None:
    other = Client()
    sign_in(other)
    sign_in(client)

    response = client.post(
        reverse("identity:password"),
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
            "sign_out_others": "on",
        },
    )

    assert response.status_code == 302
    assert client.get(reverse("identity:profile")).status_code == 200
    assert other.get(reverse("identity:profile")).status_code == 302
    assert Device.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_password_change_with_a_wrong_current_password_changes_nothing(
    client: Client, user: User
) -> None:
    sign_in(client)

    response = client.post(
        reverse("identity:password"),
        {
            "current_password": "not-it",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )

    assert response.status_code == 422
    assert "Текущий пароль указан неверно" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_revoking_another_session_signs_it_out(client: Client, user: User) -> None:
    other = Client()
    sign_in(other)
    sign_in(client)
    other_device = Device.objects.get(session_key=other.session.session_key)

    response = client.post(reverse("identity:device_revoke", args=[other_device.pk]))

    assert response.status_code == 302
    assert other.get(reverse("identity:profile")).status_code == 302
    assert client.get(reverse("identity:profile")).status_code == 200


def test_another_customers_device_cannot_be_revoked(client: Client, user: User) -> None:
    stranger = User.objects.create_user(phone="+79134445566", password=PASSWORD, first_name="Олег")
    stranger_client = Client()
    sign_in(stranger_client, "+79134445566")
    device = Device.objects.get(user=stranger)
    sign_in(client)

    client.post(reverse("identity:device_revoke", args=[device.pk]))

    device.refresh_from_db()
    assert device.revoked_at is None
    assert stranger_client.get(reverse("identity:profile")).status_code == 200


def test_delete_account_erases_personal_data(client: Client, user: User) -> None:
    sign_in(client)

    response = client.post(reverse("identity:delete"), {"password": PASSWORD, "confirm": "on"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.phone, user.email, user.is_active) == (None, None, False)
    assert user.deleted_at is not None
    assert not user.has_usable_password()
    assert not Device.objects.filter(user=user).exists()
    assert client.get(reverse("identity:profile")).status_code == 302


def test_delete_account_with_a_wrong_password_changes_nothing(client: Client, user: User) -> None:
    sign_in(client)

    response = client.post(reverse("identity:delete"), {"password": "nope", "confirm": "on"})

    assert response.status_code == 422
    user.refresh_from_db()
    assert user.is_active
    assert user.phone == "+79131112233"


def test_delete_account_unlinks_the_personal_accounts_but_keeps_them(
    client: Client, user: User
) -> None:
    call_command("seed_demo", stdout=StringIO())
    account = PersonalAccount.objects.get(number="240100123456")
    AccountLink.objects.create(user=user, account=account, created_at=timezone.now())
    sign_in(client)

    client.post(reverse("identity:delete"), {"password": PASSWORD, "confirm": "on"})

    assert not AccountLink.objects.filter(user=user).exists()
    assert PersonalAccount.objects.filter(pk=account.pk).exists()
    assert AccountLink.objects.filter(account=account).count() == 1  # the demo customer's


def test_end_all_other_sessions_keeps_only_this_one(client: Client, user: User) -> None:
    others = [Client(), Client()]
    for other in others:
        sign_in(other)
    token = (
        Client()
        .post(
            "/api/v1/auth/login",
            {"login": "+79131112233", "password": PASSWORD},
            content_type="application/json",
        )
        .json()["token"]
    )
    sign_in(client)

    response = client.post(reverse("identity:devices_revoke_others"))

    assert response.status_code == 302
    assert Device.objects.filter(user=user, revoked_at__isnull=True).count() == 1
    assert all(o.get(reverse("identity:profile")).status_code == 302 for o in others)
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert client.get(reverse("identity:profile")).status_code == 200


def test_expired_browser_sessions_are_not_listed(client: Client, user: User, settings) -> None:
    old = Client()
    sign_in(old)
    Device.objects.filter(user=user).update(
        last_seen_at=timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    )
    sign_in(client)

    devices = client.get(reverse("identity:profile")).context["devices"]

    assert [d.session_key for d in devices] == [client.session.session_key]
