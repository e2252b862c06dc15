"""Sign-up by phone or e-mail: POST /auth/register, /auth/register/confirm, /auth/code/resend."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password

from abonent.core.models import AuditEntry
from abonent.identity.models import CodePurpose, Device, User, VerificationCode
from abonent.identity.services.codes import _code_hash
from abonent.identity.tests.conftest import T0
from abonent.identity.tests.factories import (
    PASSWORD,
    UserFactory,
    assert_error,
    code_in,
    other_code,
)

pytestmark = pytest.mark.django_db

PHONE = "+79131112233"
SIGNUP_TEXT = "Код регистрации в Абоненте: {code}. Никому его не сообщайте."
TAKEN_MSG = "Этот телефон или e-mail уже зарегистрирован. Войдите или восстановите пароль."


def form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "login": "8 (913) 111-22-33",
        "first_name": "Анна",
        "patronymic": "Сергеевна",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "consent": True,
    }
    data.update(overrides)
    return data


def register(api, **overrides):
    response = api.post("/auth/register", form(**overrides))
    assert response.status_code == 202, response.content.decode()
    return response.json()


# ---------------------------------------------------------------- by phone


def test_register_by_phone_sends_a_six_digit_code_and_creates_nobody_yet(api, sms_log, clock):
    # when
    response = api.post("/auth/register", form())

    # then
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"request_id", "channel", "target", "expires_at", "resend_at"}
    assert body["channel"] == "sms"
    assert body["target"] == PHONE
    assert body["expires_at"] == (T0 + timedelta(minutes=10)).isoformat()
    assert body["resend_at"] == (T0 + timedelta(seconds=60)).isoformat()
    [sms] = sms_log.messages
    assert sms["phone"] == PHONE
    code = code_in(sms["text"])
    assert sms["text"] == SIGNUP_TEXT.format(code=code)
    assert User.objects.count() == 0
    vc = VerificationCode.objects.get()
    assert str(vc.public_id) == body["request_id"]
    assert (vc.purpose, vc.channel, vc.target) == (CodePurpose.SIGNUP, "sms", PHONE)
    assert vc.ip == "127.0.0.1"
    assert vc.consumed_at is None


def test_confirm_creates_the_user_and_signs_the_phone_app_in(api, sms_log, clock):
    # given
    ticket = register(api)
    code = sms_log.last_code(PHONE)
    clock.shift(30)

    # when
    response = api.post(
        "/auth/register/confirm",
        {"request_id": ticket["request_id"], "code": code, "device_name": "iPhone Анны"},
    )

    # then
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    user = User.objects.get()
    assert user.phone == PHONE
    assert user.email is None
    assert (user.first_name, user.patronymic, user.last_name) == ("Анна", "Сергеевна", "")
    assert user.consent_version == "2026-11-01"
    assert user.consent_at == T0  # when the customer ticked the box, not when confirmed
    assert user.check_password(PASSWORD)
    assert user.is_active
    assert body["user"]["id"] == user.pk
    assert body["user"]["phone"] == PHONE
    assert body["user"]["phone_display"] == "+7 (913) 111-22-33"
    device = Device.objects.get(user=user)
    assert body["device"]["id"] == device.pk
    assert body["device"]["kind"] == "app"
    assert body["device"]["name"] == "iPhone Анны"
    assert body["device"]["current"] is True
    assert isinstance(body["token"], str)
    assert len(body["token"]) >= 40
    assert VerificationCode.objects.get().consumed_at == T0 + timedelta(seconds=30)

    me = api.get("/me", token=body["token"])
    assert me.status_code == 200
    assert me.json()["id"] == user.pk
    assert me.json()["display_name"] == "Анна Сергеевна"


def test_confirm_records_signup_and_sign_in_in_the_audit_log(api, sms_log, clock):
    ticket = register(api)

    api.post(
        "/auth/register/confirm",
        {"request_id": ticket["request_id"], "code": sms_log.last_code(PHONE)},
    )

    user = User.objects.get()
    rows = list(
        AuditEntry.objects.order_by("id").values_list("action", "actor_id", "subject_user_id")
    )
    assert rows == [("user.signup", user.pk, user.pk), ("user.login", user.pk, user.pk)]


def test_a_code_works_only_once(api, sms_log):
    # given a confirmed sign-up
    ticket = register(api)
    confirm = {"request_id": ticket["request_id"], "code": sms_log.last_code(PHONE)}
    assert api.post("/auth/register/confirm", confirm).status_code == 201

    # when the same code is sent again
    response = api.post("/auth/register/confirm", confirm)

    # then
    assert_error(
        response,
        422,
        "code_used",
        {"code": ["Этот код уже использован. Запросите новый код."]},
    )
    assert User.objects.count() == 1
    assert Device.objects.count() == 1


def test_a_wrong_code_is_refused_with_the_tries_left(api, sms_log):
    ticket = register(api)
    code = sms_log.last_code(PHONE)

    response = api.post(
        "/auth/register/confirm", {"request_id": ticket["request_id"], "code": other_code(code)}
    )

    msg = "Неверный код. Проверьте цифры и попробуйте ещё раз. Осталось попыток: 4."
    assert_error(response, 422, "code_invalid", {"code": [msg]})
    assert User.objects.count() == 0
    vc = VerificationCode.objects.get()
    assert vc.attempts == 1
    assert vc.consumed_at is None


def test_after_five_wrong_codes_even_the_right_one_is_refused(api, sms_log):
    # given
    ticket = register(api)
    code = sms_log.last_code(PHONE)
    wrong = {"request_id": ticket["request_id"], "code": other_code(code)}
    for left in (4, 3, 2, 1):
        body = assert_error(api.post("/auth/register/confirm", wrong), 422, "code_invalid")
        assert body["message"].endswith(f"Осталось попыток: {left}.")

    # when the fifth wrong one comes
    fifth = api.post("/auth/register/confirm", wrong)

    # then
    locked = "Слишком много неверных попыток. Запросите новый код."
    body = assert_error(fifth, 429, "code_attempts_exceeded", {})
    assert body["message"] == locked
    right = api.post("/auth/register/confirm", {"request_id": ticket["request_id"], "code": code})
    assert assert_error(right, 429, "code_attempts_exceeded", {})["message"] == locked
    assert User.objects.count() == 0
    assert VerificationCode.objects.get().attempts == 5


def test_a_code_expires_after_ten_minutes(api, sms_log, clock):
    ticket = register(api)
    code = sms_log.last_code(PHONE)
    clock.shift(10 * 60)

    response = api.post(
        "/auth/register/confirm", {"request_id": ticket["request_id"], "code": code}
    )

    assert_error(
        response,
        422,
        "code_expired",
        {"code": ["Срок действия кода истёк. Запросите новый код."]},
    )
    assert User.objects.count() == 0
    assert VerificationCode.objects.get().consumed_at is None


def test_a_code_still_works_just_before_it_expires(api, sms_log, clock):
    ticket = register(api)
    code = sms_log.last_code(PHONE)
    clock.shift(10 * 60 - 1)

    response = api.post(
        "/auth/register/confirm", {"request_id": ticket["request_id"], "code": code}
    )

    assert response.status_code == 201
    assert User.objects.count() == 1


def test_a_signup_code_does_not_reset_a_password(api, sms_log):
    # given a stranger's pending sign-up and someone holding its code
    ticket = register(api)
    code = sms_log.last_code(PHONE)

    # when it is used on the password reset form
    response = api.post(
        "/auth/password/reset/confirm",
        {
            "request_id": ticket["request_id"],
            "code": code,
            "password": "Novyi-Parol-2026",
            "password_confirm": "Novyi-Parol-2026",
        },
    )

    # then it is refused and the sign-up code is untouched
    assert_error(response, 404, "code_not_found", {})
    vc = VerificationCode.objects.get()
    assert (vc.attempts, vc.consumed_at) == (0, None)
    assert User.objects.count() == 0


def test_a_password_reset_code_does_not_confirm_a_signup(api, sms_log):
    user = UserFactory(phone=PHONE)
    ticket = api.post("/auth/password/reset", {"login": PHONE}).json()
    code = sms_log.last_code(PHONE)

    response = api.post(
        "/auth/register/confirm", {"request_id": ticket["request_id"], "code": code}
    )

    assert_error(response, 404, "code_not_found", {})
    assert list(User.objects.all()) == [user]
    assert VerificationCode.objects.get().consumed_at is None


def test_an_unknown_request_id_is_not_found(api):
    for request_id in ("1f0c1a8e-2b7e-4c55-9d51-6a4f4e0b9c11", "not-a-uuid", ""):
        response = api.post("/auth/register/confirm", {"request_id": request_id, "code": "123456"})
        assert_error(response, 404, "code_not_found", {})
    assert User.objects.count() == 0


def test_only_a_hash_of_the_code_is_stored(api, sms_log, clock):
    ticket = register(api)
    code = sms_log.last_code(PHONE)

    vc = VerificationCode.objects.get(public_id=ticket["request_id"])

    assert vc.code_hash == _code_hash(str(vc.public_id), code)
    assert len(vc.code_hash) == 64
    row = {f.attname: getattr(vc, f.attname) for f in VerificationCode._meta.concrete_fields}
    dumped = json.dumps(row, default=str, ensure_ascii=False)
    assert code not in dumped
    # the pending password is kept only as a hash too
    assert PASSWORD not in dumped
    assert check_password(PASSWORD, vc.payload["password"])


# ---------------------------------------------------------------- by e-mail


def test_register_by_email_sends_the_code_by_mail_and_stores_it_lower_case(
    api, sms_log, mailoutbox
):
    # when
    ticket = register(api, login="  Anna.Ivanova@Example.RU ")

    # then
    assert ticket["channel"] == "email"
    assert ticket["target"] == "anna.ivanova@example.ru"
    assert len(sms_log) == 0
    [mail] = mailoutbox
    assert mail.to == ["anna.ivanova@example.ru"]
    assert mail.subject == "Код регистрации"
    code = code_in(mail.body)
    assert mail.body == SIGNUP_TEXT.format(code=code)

    # and when confirmed
    response = api.post(
        "/auth/register/confirm", {"request_id": ticket["request_id"], "code": code}
    )

    assert response.status_code == 201
    user = User.objects.get()
    assert user.email == "anna.ivanova@example.ru"
    assert user.phone is None
    assert response.json()["user"]["email"] == "anna.ivanova@example.ru"
    login = api.post("/auth/login", {"login": "ANNA.IVANOVA@example.ru", "password": PASSWORD})
    assert login.status_code == 200


# ---------------------------------------------------------------- bad input

INVALID_PHONE = "Укажите мобильный номер в формате +7 (999) 999-99-99."
NAME_RULE = "Только буквы, пробел, дефис и апостроф, до 60 знаков."


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        pytest.param({"login": "12345"}, 422, "invalid_phone", "login", id="short-phone"),
        pytest.param({"login": "+7 913 111 22 3x"}, 422, "invalid_phone", "login", id="bad-phone"),
        pytest.param({"login": "+7 (495) 123-45-67"}, 422, "invalid_phone", "login", id="landline"),
        pytest.param({"login": "anna@"}, 422, "invalid_email", "login", id="bad-email"),
        pytest.param({"login": "   "}, 422, "validation_error", "login", id="empty-login"),
        pytest.param(
            {"password": "12345678", "password_confirm": "12345678"},
            422,
            "weak_password",
            "password",
            id="weak-password",
        ),
        pytest.param(
            {"password": "Ab1-", "password_confirm": "Ab1-"},
            422,
            "weak_password",
            "password",
            id="short-password",
        ),
        pytest.param(
            {"password_confirm": PASSWORD + "!"},
            422,
            "password_mismatch",
            "password_confirm",
            id="mismatch",
        ),
        pytest.param({"consent": False}, 422, "consent_required", "consent", id="no-consent"),
        pytest.param({"first_name": ""}, 422, "validation_error", "first_name", id="no-name"),
        pytest.param({"first_name": "   "}, 422, "validation_error", "first_name", id="blank-name"),
        pytest.param(
            {"first_name": "Анна2"}, 422, "validation_error", "first_name", id="digit-name"
        ),
        pytest.param(
            {"patronymic": "С3ргеевна"}, 422, "validation_error", "patronymic", id="digit-patr"
        ),
        pytest.param(
            {"first_name": "<script>"}, 422, "validation_error", "first_name", id="markup-name"
        ),
    ],
)
def test_register_refuses_bad_input_and_sends_nothing(
    api, sms_log, mailoutbox, overrides, status, code, field
):
    response = api.post("/auth/register", form(**overrides))

    body = assert_error(response, status, code)
    assert list(body["fields"]) == [field]
    assert len(body["fields"][field]) >= 1
    assert VerificationCode.objects.count() == 0
    assert len(sms_log) == 0
    assert mailoutbox == []
    assert User.objects.count() == 0


def test_register_explains_each_rule_in_russian(api):
    bad_phone = assert_error(api.post("/auth/register", form(login="12345")), 422, "invalid_phone")
    assert bad_phone == {
        "code": "invalid_phone",
        "message": INVALID_PHONE,
        "fields": {"login": [INVALID_PHONE]},
    }
    mismatch = api.post("/auth/register", form(password_confirm="Other-Pass-2026"))
    assert mismatch.json() == {
        "code": "password_mismatch",
        "message": "Пароли не совпадают.",
        "fields": {"password_confirm": ["Пароли не совпадают."]},
    }
    consent = api.post("/auth/register", form(consent=False)).json()
    msg = "Нужно согласие с правилами и на обработку персональных данных."
    assert consent == {"code": "consent_required", "message": msg, "fields": {"consent": [msg]}}
    name = api.post("/auth/register", form(first_name="R2D2")).json()
    assert name["fields"] == {"first_name": [NAME_RULE]}
    empty = api.post("/auth/register", form(first_name="")).json()
    assert empty["fields"] == {"first_name": ["Заполните это поле."]}
    weak = api.post("/auth/register", form(password="12345678", password_confirm="12345678")).json()
    assert weak["code"] == "weak_password"
    assert len(weak["fields"]["password"]) == 2  # too common, entirely numeric
    assert weak["message"] == " ".join(weak["fields"]["password"])


def test_register_with_missing_fields_is_refused_and_sends_nothing(api, sms_log):
    response = api.post("/auth/register", {"login": PHONE})

    body = assert_error(response, 422, "validation_error")
    assert body["message"] == "Проверьте введённые данные."
    assert len(body["fields"]) == 4
    assert VerificationCode.objects.count() == 0
    assert len(sms_log) == 0


def test_missing_fields_are_named_like_the_request_fields(api):
    response = api.post("/auth/register", {"login": PHONE})

    required = ["Обязательное поле."]
    assert response.json()["fields"] == {
        "first_name": required,
        "password": required,
        "password_confirm": required,
        "consent": required,
    }


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("not json{", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param("[1, 2]", id="list"),
        pytest.param('"+79131112233"', id="string"),
        pytest.param('{"login": "+79131112233", "consent": "perhaps"}', id="wrong-type"),
    ],
)
def test_register_with_a_non_json_or_malformed_body_is_a_4xx_not_a_500(api, sms_log, raw):
    response = api.post("/auth/register", raw=raw)

    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code, response.json()["code"])
    assert VerificationCode.objects.count() == 0
    assert len(sms_log) == 0


def test_register_with_a_form_encoded_body_is_a_4xx(api, sms_log):
    response = api.client.post("/api/v1/auth/register", data={"login": PHONE})

    assert_error(response, 400, "bad_request", {})
    assert VerificationCode.objects.count() == 0


# ---------------------------------------------------------------- a login that is taken


def test_a_registered_phone_gets_the_same_answer_and_an_sms_saying_so(api, sms_log, clock):
    # given
    owner = UserFactory(phone=PHONE)
    fresh = register(api, login="+7 913 999-00-11")
    clock.shift(1)

    # when
    taken = register(api)

    # then nothing in the answer tells the two apart
    assert set(taken) == set(fresh)
    assert taken["channel"] == "sms"
    assert taken["target"] == PHONE
    assert taken["expires_at"] == (T0 + timedelta(seconds=1, minutes=10)).isoformat()
    # but the owner's phone is told that it is registered already
    text = sms_log.last_text(PHONE)
    code = code_in(text)
    assert text == (
        f"Код {code}. Этот номер уже зарегистрирован в Абоненте: войдите с паролем "
        "или восстановите его. Если это были не вы, ничего делать не нужно."
    )
    assert "Код регистрации" not in text

    # and confirming that code says so, and creates nobody
    response = api.post("/auth/register/confirm", {"request_id": taken["request_id"], "code": code})
    assert_error(response, 409, "login_taken", {"login": [TAKEN_MSG]})
    assert list(User.objects.filter(phone=PHONE)) == [owner]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert owner.first_name == "Анна"
    assert not Device.objects.exists()


def test_a_registered_email_is_told_by_mail(api, mailoutbox):
    UserFactory(phone=None, email="anna@example.ru")

    ticket = register(api, login="ANNA@example.ru")

    assert ticket["target"] == "anna@example.ru"
    [mail] = mailoutbox
    assert "Этот адрес уже зарегистрирован в Абоненте" in mail.body
    code = code_in(mail.body)
    response = api.post(
        "/auth/register/confirm", {"request_id": ticket["request_id"], "code": code}
    )
    assert_error(response, 409, "login_taken")
    assert User.objects.count() == 1


def test_a_login_taken_while_the_code_was_pending_is_refused(api, sms_log):
    # given a pending sign-up
    ticket = register(api)
    code = sms_log.last_code(PHONE)
    # when someone else takes the phone first
    other = UserFactory(phone=PHONE)

    response = api.post(
        "/auth/register/confirm", {"request_id": ticket["request_id"], "code": code}
    )

    assert_error(response, 409, "login_taken", {"login": [TAKEN_MSG]})
    assert list(User.objects.all()) == [other]


def test_a_deleted_users_phone_is_free(api, sms_log):
    UserFactory(phone=None, email=None, deleted_at=T0, is_active=False)

    ticket = register(api)
    response = api.post(
        "/auth/register/confirm",
        {"request_id": ticket["request_id"], "code": sms_log.last_code(PHONE)},
    )

    assert response.status_code == 201


# ---------------------------------------------------------------- resend limits


def test_a_second_code_within_a_minute_is_refused_with_retry_after(api, sms_log, clock):
    register(api)
    clock.shift(30)

    response = api.post("/auth/register", form(login="+7 913 111-22-33"))

    body = assert_error(response, 429, "code_resend_too_soon", {})
    assert body["message"] == "Новый код можно запросить через 31 с."
    assert response["Retry-After"] == "31"
    assert VerificationCode.objects.count() == 1
    assert len(sms_log) == 1


def test_a_second_code_after_a_minute_is_sent(api, sms_log, clock):
    register(api)
    clock.shift(60)

    register(api)

    assert VerificationCode.objects.count() == 2
    assert len(sms_log.to(PHONE)) == 2


def test_no_more_than_five_codes_per_hour_for_one_target(api, sms_log, clock):
    # given five codes a minute apart
    for _ in range(5):
        register(api)
        clock.shift(61)

    # when the sixth is asked for
    response = api.post("/auth/register", form())

    # then
    body = assert_error(response, 429, "code_limit_reached", {})
    assert body["message"] == "Слишком много запросов кода. Попробуйте через час."
    assert response["Retry-After"] == "3600"
    assert VerificationCode.objects.count() == 5
    assert len(sms_log) == 5

    # and an hour after the first one, a code may be sent again
    clock.move_to(T0 + timedelta(hours=1, seconds=1), tick=False)
    register(api)
    assert VerificationCode.objects.count() == 6


def test_the_per_target_limit_does_not_block_another_target(api, sms_log, clock):
    register(api)

    register(api, login="+7 913 999-00-11")

    assert len(sms_log) == 2


def test_resend_issues_a_new_code_and_the_old_one_stops_working(api, sms_log, clock):
    # given
    first = register(api)
    old_code = sms_log.last_code(PHONE)
    clock.shift(61)

    # when
    response = api.post("/auth/code/resend", {"request_id": first["request_id"]})

    # then
    assert response.status_code == 202
    second = response.json()
    assert second["request_id"] != first["request_id"]
    assert second["target"] == PHONE
    assert len(sms_log.to(PHONE)) == 2
    new_code = sms_log.last_code(PHONE)
    old = api.post("/auth/register/confirm", {"request_id": first["request_id"], "code": old_code})
    assert_error(old, 422, "code_used")
    new = api.post("/auth/register/confirm", {"request_id": second["request_id"], "code": new_code})
    assert new.status_code == 201
    user = User.objects.get()
    assert (user.first_name, user.phone) == ("Анна", PHONE)  # the pending data carried over


def test_resend_within_a_minute_is_refused(api, sms_log, clock):
    ticket = register(api)
    clock.shift(10)

    response = api.post("/auth/code/resend", {"request_id": ticket["request_id"]})

    assert_error(response, 429, "code_resend_too_soon", {})
    assert response["Retry-After"] == "51"
    assert len(sms_log) == 1
    assert VerificationCode.objects.get().consumed_at is None  # the first code still works


def test_resend_of_an_unknown_request_is_not_found(api, sms_log):
    response = api.post("/auth/code/resend", {"request_id": "1f0c1a8e-2b7e-4c55-9d51-6a4f4e0b9c11"})

    assert_error(response, 404, "code_not_found", {})
    assert len(sms_log) == 0


def test_resend_to_a_registered_phone_still_says_it_is_registered(api, sms_log, clock):
    UserFactory(phone=PHONE)
    ticket = register(api)
    clock.shift(61)

    api.post("/auth/code/resend", {"request_id": ticket["request_id"]})

    assert len(sms_log.to(PHONE)) == 2
    assert "уже зарегистрирован" in sms_log.last_text(PHONE)


def test_web_confirm_without_csrf_changes_nothing(make_api, sms_log):
    browser = make_api(enforce_csrf_checks=True)
    ticket = register(browser)

    response = browser.post(
        "/auth/register/confirm",
        {"request_id": ticket["request_id"], "code": sms_log.last_code(PHONE), "client": "web"},
    )

    assert_error(response, 403, "csrf_failed", {})
    assert response.json()["message"] == "Обновите страницу и повторите вход."
    assert User.objects.count() == 0
    assert VerificationCode.objects.get().consumed_at is None


def test_web_confirm_with_csrf_signs_the_browser_in(make_api, sms_log):
    # given a browser that has the CSRF cookie
    browser = make_api(enforce_csrf_checks=True)
    browser.client.get("/login/")
    ticket = register(browser)

    # when
    response = browser.post(
        "/auth/register/confirm",
        {"request_id": ticket["request_id"], "code": sms_log.last_code(PHONE), "client": "web"},
        headers={"X-CSRFToken": browser.csrf()},
    )

    # then a session, not a token
    assert response.status_code == 201
    body = response.json()
    assert body["token"] is None
    assert body["device"]["kind"] == "web"
    user = User.objects.get()
    device = Device.objects.get(user=user)
    assert device.session_key == browser.client.session.session_key
    me = browser.get("/me")
    assert me.status_code == 200
    assert me.json()["id"] == user.pk
