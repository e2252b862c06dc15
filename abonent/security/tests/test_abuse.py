"""Brute force and enumeration: every guessable thing has a limit, and nothing an attacker can
ask tells them whether a phone, an e-mail or a ЛС exists — not the status, not the message,
not the work the server does (counted in password-hash computations, not in seconds)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from abonent.identity.models import User
from abonent.security.tests.world import PASSWORD, World

# ---------------------------------------------------------------- timing: hashes per answer


class CountingHasher(MD5PasswordHasher):
    """The test suite's hasher in its place (same algorithm, so stored hashes verify), counting
    hash computations: checking a password hashes it too (`verify` calls `encode`)."""

    calls = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def hashes(settings: Any) -> type[CountingHasher]:
    md5 = "django.contrib.auth.hashers.MD5PasswordHasher"
    assert settings.PASSWORD_HASHERS[0] == md5  # the suite's fast default, see config/settings
    settings.PASSWORD_HASHERS = [
        f"{CountingHasher.__module__}.CountingHasher",
        *(h for h in settings.PASSWORD_HASHERS if h != md5),
    ]
    CountingHasher.calls = 0
    return CountingHasher


def _deleted_user() -> User:
    """A customer who deleted the account (152-ФЗ): unusable password, inactive."""
    user = User.objects.create_user(phone="+79000000303", password=PASSWORD, first_name="Олег")
    user.set_unusable_password()
    user.is_active = False
    user.save()
    return user


def _api_login(login: str, password: str) -> Any:
    return Client().post(
        "/api/v1/auth/login",
        {"login": login, "password": password},
        content_type="application/json",
    )


def _web_login(login: str, password: str) -> Any:
    return Client().post("/login/", {"username": login, "password": password})


@pytest.mark.parametrize("sign_in", [_api_login, _web_login], ids=["api", "web"])
def test_a_failed_sign_in_costs_one_hash_and_reads_the_same_whoever_it_names(
    world: World, hashes: type[CountingHasher], sign_in: Any
) -> None:
    # given a registered customer, a deleted one, and logins nobody has
    deleted = _deleted_user()
    attempts = {
        "known phone, wrong password": (world.owner.user.phone, "wrong-password-1"),
        "known e-mail, wrong password": (world.owner.user.email, "wrong-password-1"),
        "deleted customer": (deleted.phone, PASSWORD),
        "unknown phone": ("+79009998877", "wrong-password-1"),
        "unknown e-mail": ("nobody@example.com", "wrong-password-1"),
    }
    work: dict[str, int] = {}
    answers: dict[str, tuple[int, bytes]] = {}

    # when each is tried once
    for name, (login, password) in attempts.items():
        hashes.calls = 0
        response = sign_in(login, password)
        work[name] = hashes.calls
        body = response.content if sign_in is _api_login else b""
        answers[name] = (response.status_code, body)

    # then every attempt computed exactly one password hash, and the answers are identical
    assert work == dict.fromkeys(attempts, 1)
    assert len(set(answers.values())) == 1, answers
    if sign_in is _api_login:
        assert answers["unknown phone"][0] == 422


def test_the_web_sign_in_shows_one_message_whoever_it_names(world: World) -> None:
    known = _web_login(world.owner.user.phone, "wrong-password-1")
    unknown = _web_login("+79009998877", "wrong-password-1")

    assert known.status_code == unknown.status_code == 422
    assert "Неверный логин или пароль." in known.content.decode()
    assert "Неверный логин или пароль." in unknown.content.decode()


# ---------------------------------------------------------------- enumeration: same answers


def _shape(response: Any) -> tuple[int, str, str, tuple[str, ...]]:
    body = response.json()
    keys = tuple(sorted(body)) if isinstance(body, dict) else ()
    return (response.status_code, body.get("code", ""), body.get("message", ""), keys)


def test_password_reset_answers_alike_for_known_and_unknown_logins(
    world: World, sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(
            "/api/v1/auth/password/reset",
            {"login": world.owner.user.phone},
            content_type="application/json",
        )
        unknown = client.post(
            "/api/v1/auth/password/reset",
            {"login": "+79009998877"},
            content_type="application/json",
        )

    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert [m["phone"] for m in sms_outbox.messages()] == [world.owner.user.phone]


def test_sign_up_answers_alike_for_a_taken_and_a_free_phone(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    form = {
        "first_name": "Пётр",
        "password": "a-long-pass-2026",
        "password_confirm": "a-long-pass-2026",
        "consent": True,
    }
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        taken = client.post(
            "/api/v1/auth/register",
            {**form, "login": world.owner.user.phone},
            content_type="application/json",
        )
        free = client.post(
            "/api/v1/auth/register",
            {**form, "login": "+79009998877"},
            content_type="application/json",
        )

    assert taken.status_code == free.status_code == 202
    assert set(taken.json()) == set(free.json())


def test_moving_to_a_taken_phone_answers_like_a_free_one(world: World) -> None:
    """Found here: PATCH /me answered 409 `contact_taken` at once, so any account could test
    any number. Now the owner of the number gets a notice and the change cannot complete."""
    client = Client(headers=world.owner.auth)

    taken = client.patch(
        "/api/v1/me", {"phone": world.other.user.phone}, content_type="application/json"
    )
    free = client.patch("/api/v1/me", {"phone": "+79009998877"}, content_type="application/json")

    assert taken.status_code == free.status_code == 200
    assert set(taken.json()["pending"]) == set(free.json()["pending"])


@pytest.mark.parametrize(
    "wrong",
    [
        {"number": "999999999"},
        {"owner_surname": "Кузнецова"},
        {"street": "ул. Мира"},
        {"house": "99"},
        {"branch_id": 987654},
    ],
    ids=["number", "surname", "street", "house", "branch"],
)
def test_linking_answers_one_way_whatever_part_is_wrong(
    world: World, wrong: dict[str, Any]
) -> None:
    """The other customer's ЛС exists; a wrong number and a wrong surname for it read alike."""
    account = world.other.user.account_links.get().account
    good = {
        "branch_id": account.branch_id,
        "number": account.number,
        "owner_surname": account.owner_name.split()[0],
        "settlement": account.address.settlement,
        "street": account.address.street,
        "house": account.address.house,
        "flat": account.address.flat,
    }
    client = Client(headers=world.owner.auth)

    response = client.post(
        "/api/v1/accounts/link/preview", {**good, **wrong}, content_type="application/json"
    )
    nowhere = client.post(
        "/api/v1/accounts/link/preview",
        {**good, "number": "111111111", "owner_surname": "Нетакова"},
        content_type="application/json",
    )

    assert _shape(response) == _shape(nowhere)
    assert response.status_code == 422


# ---------------------------------------------------------------- limits


def test_the_web_sign_in_forms_share_the_per_address_budget_with_the_api(world: World) -> None:
    """Found here: only the API's sign-in endpoints were rate-limited per address; the web
    forms let one address try any number of logins (5 each before django-axes locks it)."""
    budget = int(settings.AUTH_RATE_PER_IP.split("/")[0])
    client = Client(REMOTE_ADDR="203.0.113.7")

    # given the budget spent on the API and the web form, a different login each time
    for n in range(budget):
        if n % 2:
            client.post(
                "/api/v1/auth/login",
                {"login": f"+7900111{n:04d}", "password": "guess-2026"},
                content_type="application/json",
            )
        else:
            client.post("/login/", {"username": f"+7900111{n:04d}", "password": "guess-2026"})

    # when the address tries once more, on the web form, with a real customer's password
    response = client.post("/login/", {"username": world.owner.user.phone, "password": PASSWORD})
    elsewhere = Client(REMOTE_ADDR="198.51.100.9").post(
        "/login/", {"username": world.owner.user.phone, "password": PASSWORD}
    )

    # then it is refused with 429 (and nobody is signed in), while another address is fine
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "Слишком много попыток с вашего адреса" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert elsewhere.status_code == 302


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/signup/", {"login": "+79001112233", "first_name": "Пётр", "password": "x"}),
        ("/password/reset/", {"login": "+79001112233"}),
    ],
    ids=["sign-up", "reset"],
)
def test_the_code_forms_are_in_the_budget_too(
    world: World, path: str, form: dict[str, str]
) -> None:
    budget = int(settings.AUTH_RATE_PER_IP.split("/")[0])
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(budget):
        client.post("/login/", {"username": "+79001112233", "password": "guess-2026"})

    response = client.post(path, form)

    assert response.status_code == 429


def test_five_wrong_passwords_lock_a_login_on_the_web_too(world: World) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=f"203.0.113.{n + 20}").post(
            "/login/", {"username": world.owner.user.phone, "password": f"guess-{n}"}
        )

    # from yet another address, with the right password: still locked (counted per login)
    response = Client(REMOTE_ADDR="203.0.113.99").post(
        "/login/", {"username": world.owner.user.phone, "password": PASSWORD}
    )

    assert response.status_code == 429
    assert "Слишком много неудачных попыток входа" in response.content.decode()


def test_codes_per_address_are_capped_across_many_phones(
    world: World, sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """SMS pumping: one address asking codes for many different numbers."""
    cap = settings.VERIFICATION_MAX_PER_HOUR * 2
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(cap + 1):
            client = Client(REMOTE_ADDR="203.0.113.50")
            statuses.append(
                client.post(
                    "/api/v1/auth/password/reset",
                    {"login": f"+7900222{n:04d}"},
                    content_type="application/json",
                ).status_code
            )

    assert statuses == [202] * cap + [429]


def test_wrong_pins_end_the_device(world: World) -> None:
    client = Client(headers=world.owner.auth)
    assert (
        client.post(
            "/api/v1/auth/pin", {"pin": "4821"}, content_type="application/json"
        ).status_code
        == 204
    )
    statuses = []
    for _ in range(settings.PIN_MAX_ATTEMPTS):
        statuses.append(
            Client()
            .post(
                "/api/v1/auth/pin/login",
                {"token": world.owner.token, "pin": "0000"},
                content_type="application/json",
            )
            .status_code
        )

    right = Client().post(
        "/api/v1/auth/pin/login",
        {"token": world.owner.token, "pin": "4821"},
        content_type="application/json",
    )

    assert statuses == [422] * (settings.PIN_MAX_ATTEMPTS - 1) + [401]
    assert right.status_code == 401  # the device is signed out: the PIN is gone
    assert right.json()["code"] == "device_not_found"


def test_ten_failed_links_an_hour_stop_linking(world: World) -> None:
    client = Client(headers=world.owner.auth)
    wrong = {
        "branch_id": world.branch.pk,
        "number": "999999999",
        "owner_surname": "Нетакова",
        "settlement": "Красноярск",
        "street": "ул. Ленина",
        "house": "1",
    }
    statuses = [
        client.post("/api/v1/accounts/link", wrong, content_type="application/json").status_code
        for _ in range(11)
    ]

    assert statuses == [422] * 10 + [429]
