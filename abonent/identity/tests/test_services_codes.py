"""One-time codes at the service level: check, take, resend, purge, and delivery on commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from abonent.core.errors import NotFound, TooManyRequests, ValidationFailed
from abonent.identity import services
from abonent.identity.models import CodePurpose, User, VerificationCode
from abonent.identity.services import codes, profile, registration
from abonent.identity.tests.conftest import T0
from abonent.identity.tests.factories import (
    PASSWORD,
    UserFactory,
    code_in,
    other_code,
)

pytestmark = pytest.mark.django_db

PHONE = "+79131112233"


def start_signup(capture, login=PHONE, now=T0):
    with capture(execute=True):
        return services.signup_start(
            login=login,
            first_name="Анна",
            patronymic="",
            password=PASSWORD,
            password_confirm=PASSWORD,
            consent=True,
            now=now,
            ip="10.0.0.1",
        )


@pytest.fixture
def signup(django_capture_on_commit_callbacks, sms_log):
    """A pending sign-up: (ticket, code)."""
    ticket = start_signup(django_capture_on_commit_callbacks)
    return ticket, sms_log.last_code(PHONE)


# ---------------------------------------------------------------- check and take


def test_a_wrong_code_counts_a_try_even_though_the_check_raises(signup):
    ticket, code = signup

    with pytest.raises(ValidationFailed) as exc:
        codes._code_check(
            request_id=ticket.request_id,
            purpose=CodePurpose.SIGNUP,
            code=other_code(code),
            now=T0,
        )

    assert exc.value.code == "code_invalid"
    vc = VerificationCode.objects.get()
    assert vc.attempts == 1
    assert vc.consumed_at is None


def test_the_tries_stop_counting_once_the_code_is_locked(signup):
    ticket, code = signup
    VerificationCode.objects.update(attempts=5)

    for attempt in (other_code(code), code):
        with pytest.raises(TooManyRequests) as exc:
            codes._code_check(
                request_id=ticket.request_id, purpose=CodePurpose.SIGNUP, code=attempt, now=T0
            )
        assert exc.value.code == "code_attempts_exceeded"
        assert exc.value.status == 429

    assert VerificationCode.objects.get().attempts == 5


def test_the_right_code_passes_the_check_without_using_it(signup):
    ticket, code = signup

    codes._code_check(
        request_id=ticket.request_id, purpose=CodePurpose.SIGNUP, code=f" {code} ", now=T0
    )

    vc = VerificationCode.objects.get()
    assert (vc.attempts, vc.consumed_at) == (0, None)


def test_a_code_is_taken_exactly_once(signup):
    ticket, _ = signup

    with transaction.atomic():
        taken = codes._code_take(request_id=ticket.request_id, purpose=CodePurpose.SIGNUP, now=T0)
    with pytest.raises(ValidationFailed) as exc, transaction.atomic():
        codes._code_take(request_id=ticket.request_id, purpose=CodePurpose.SIGNUP, now=T0)

    assert taken.consumed_at == T0
    assert exc.value.code == "code_used"
    assert VerificationCode.objects.get().consumed_at == T0


def test_a_code_is_not_taken_for_another_purpose(signup):
    ticket, _ = signup

    with pytest.raises(ValidationFailed), transaction.atomic():
        codes._code_take(request_id=ticket.request_id, purpose=CodePurpose.PASSWORD_RESET, now=T0)

    assert VerificationCode.objects.get().consumed_at is None


def test_two_confirmations_racing_create_one_user(signup, monkeypatch):
    # given two requests with the same code that both pass the check...
    ticket, code = signup
    real_check = registration._code_check
    raced: list[bool] = []
    winners: list[User] = []

    def check_then_let_the_other_request_win(**kwargs):
        real_check(**kwargs)
        if not raced:
            raced.append(True)
            winners.append(
                registration.signup_confirm(
                    request_id=ticket.request_id, code=code, now=T0, ip=None
                )
            )

    monkeypatch.setattr(registration, "_code_check", check_then_let_the_other_request_win)

    # when the slower one goes on to take the code
    with pytest.raises(ValidationFailed) as exc:
        registration.signup_confirm(request_id=ticket.request_id, code=code, now=T0, ip=None)

    # then _code_take stops it
    assert exc.value.code == "code_used"
    assert list(User.objects.all()) == winners


def test_two_contact_confirmations_racing_change_the_phone_once(
    django_capture_on_commit_callbacks, sms_log, monkeypatch
):
    user = UserFactory(phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.contact_change_start(user=user, phone="+79134445566", now=T0, ip=None)
    code = sms_log.last_code("+79134445566")
    real_check = profile._code_check
    raced: list[bool] = []

    def check_then_let_the_other_request_win(**kwargs):
        real_check(**kwargs)
        if not raced:
            raced.append(True)
            profile.contact_change_confirm(
                user=User.objects.get(pk=user.pk),
                request_id=ticket.request_id,
                code=code,
                now=T0,
                ip=None,
            )

    monkeypatch.setattr(profile, "_code_check", check_then_let_the_other_request_win)

    with pytest.raises(ValidationFailed) as exc:
        profile.contact_change_confirm(
            user=user, request_id=ticket.request_id, code=code, now=T0, ip=None
        )

    assert exc.value.code == "code_used"
    user.refresh_from_db()
    assert user.phone == "+79134445566"


def test_a_request_id_that_is_not_a_uuid_is_simply_not_found(db):
    for request_id in ("", "x", "'; DROP TABLE x; --", "0" * 64):
        with pytest.raises(NotFound):
            codes._code_check(
                request_id=request_id, purpose=CodePurpose.SIGNUP, code="123456", now=T0
            )


# ---------------------------------------------------------------- issue limits


def test_the_ticket_tells_when_a_resend_is_allowed(signup):
    ticket, _ = signup

    assert ticket.expires_at == T0 + timedelta(minutes=10)
    assert ticket.resend_at == T0 + timedelta(seconds=60)
    assert (ticket.channel, ticket.target) == ("sms", PHONE)


def test_no_more_than_ten_codes_an_hour_from_one_ip(django_capture_on_commit_callbacks, sms_log):
    # given ten codes to ten different phones from one address
    for n in range(10):
        start_signup(django_capture_on_commit_callbacks, login=f"+7913000{n:04d}")

    # when an eleventh is asked for
    with pytest.raises(TooManyRequests) as exc:
        start_signup(django_capture_on_commit_callbacks, login="+79139990011")

    # then
    assert exc.value.code == "code_limit_reached"
    assert exc.value.retry_after == 3600
    assert VerificationCode.objects.count() == 10
    assert len(sms_log) == 10


def test_a_refused_code_is_neither_stored_nor_sent(
    signup, django_capture_on_commit_callbacks, sms_log
):
    with pytest.raises(TooManyRequests):
        start_signup(django_capture_on_commit_callbacks, now=T0 + timedelta(seconds=59))

    assert VerificationCode.objects.count() == 1
    assert len(sms_log) == 1


# ---------------------------------------------------------------- resend and purge


def test_resend_keeps_purpose_target_and_pending_data(
    signup, django_capture_on_commit_callbacks, sms_log
):
    ticket, old_code = signup
    now = T0 + timedelta(seconds=61)

    with django_capture_on_commit_callbacks(execute=True):
        new = services.code_resend(request_id=ticket.request_id, now=now, ip="10.0.0.2")

    old_vc = VerificationCode.objects.get(public_id=ticket.request_id)
    new_vc = VerificationCode.objects.get(public_id=new.request_id)
    assert old_vc.consumed_at == now
    assert (new_vc.purpose, new_vc.channel, new_vc.target) == (CodePurpose.SIGNUP, "sms", PHONE)
    assert new_vc.payload == old_vc.payload
    assert new_vc.ip == "10.0.0.2"
    assert new_vc.consumed_at is None
    assert len(sms_log.to(PHONE)) == 2
    # the old code no longer passes; the new one does
    with pytest.raises(ValidationFailed) as exc:
        codes._code_check(
            request_id=ticket.request_id, purpose=CodePurpose.SIGNUP, code=old_code, now=now
        )
    assert exc.value.code == "code_used"
    codes._code_check(
        request_id=new.request_id,
        purpose=CodePurpose.SIGNUP,
        code=sms_log.last_code(PHONE),
        now=now,
    )


def test_a_used_code_cannot_be_resent(signup):
    ticket, code = signup
    services.signup_confirm(request_id=ticket.request_id, code=code, now=T0, ip=None)

    with pytest.raises(NotFound) as exc:
        services.code_resend(request_id=ticket.request_id, now=T0 + timedelta(minutes=2), ip=None)

    assert exc.value.code == "code_not_found"
    assert VerificationCode.objects.count() == 1


def test_purge_deletes_codes_older_than_a_day(signup, django_capture_on_commit_callbacks):
    start_signup(
        django_capture_on_commit_callbacks, login="+79139990011", now=T0 + timedelta(days=1)
    )

    deleted = services.codes_purge(now=T0 + timedelta(days=1, seconds=1))

    assert deleted == 1
    assert list(VerificationCode.objects.values_list("target", flat=True)) == ["+79139990011"]


# ---------------------------------------------------------------- delivery happens on commit


def test_no_sms_leaves_when_the_transaction_rolls_back(
    db, sms_log, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    def sign_up_then_fail() -> None:
        with transaction.atomic():
            services.signup_start(
                login=PHONE,
                first_name="Анна",
                patronymic="",
                password=PASSWORD,
                password_confirm=PASSWORD,
                consent=True,
                now=T0,
                ip=None,
            )
            raise Abort

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort):
        sign_up_then_fail()

    assert callbacks == []

    assert len(sms_log) == 0
    assert not VerificationCode.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_sms_leaves_when_the_request_commits(client, sms_log):
    # no capture here: the service's own transaction really commits
    response = client.post(
        "/api/v1/auth/register",
        {
            "login": PHONE,
            "first_name": "Анна",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "consent": True,
        },
        content_type="application/json",
    )

    assert response.status_code == 202
    [sms] = sms_log.messages
    assert sms["phone"] == PHONE
    code = code_in(sms["text"])
    confirm = client.post(
        "/api/v1/auth/register/confirm",
        {"request_id": response.json()["request_id"], "code": code},
        content_type="application/json",
    )
    assert confirm.status_code == 201
    assert User.objects.get().phone == PHONE


# ---------------------------------------------------------------- password reset edge cases


def test_reset_for_an_unknown_login_never_reaches_a_user(db, monkeypatch):
    monkeypatch.setattr(codes.secrets, "randbelow", lambda n: 424242)
    ticket = services.password_reset_start(login="+79139990011", now=T0, ip=None)

    with pytest.raises(ValidationFailed) as exc:
        services.password_reset_confirm(
            request_id=ticket.request_id,
            code="424242",
            password="Novyi-Parol-2026",
            password_confirm="Novyi-Parol-2026",
            now=T0,
            ip=None,
        )

    assert exc.value.code == "code_invalid"
    assert not User.objects.exists()


def test_reset_for_a_deactivated_user_changes_nothing(django_capture_on_commit_callbacks, sms_log):
    user = UserFactory(phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.password_reset_start(login=PHONE, now=T0, ip=None)
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(ValidationFailed) as exc:
        services.password_reset_confirm(
            request_id=ticket.request_id,
            code=sms_log.last_code(PHONE),
            password="Novyi-Parol-2026",
            password_confirm="Novyi-Parol-2026",
            now=T0,
            ip=None,
        )

    assert exc.value.code == "code_invalid"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
