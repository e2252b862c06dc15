"""factory_boy factories for identity models, and the small helpers the identity tests share."""

from __future__ import annotations

import re
from typing import Any

import factory
from django.utils import timezone

from abonent.core import clock
from abonent.identity import services
from abonent.identity.models import Device, User

PASSWORD = "Teplo-Sun-2026"
NEW_PASSWORD = "Kotelnaya-Luna-77"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


class UserFactory(factory.django.DjangoModelFactory):
    """A customer with a phone (E.164) and the standard test password."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"+7913{n:07d}")
    email = None
    first_name = "Анна"
    patronymic = "Сергеевна"
    last_name = "Иванова"
    consent_version = "2026-11-01"
    consent_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


def open_app(user: User, name: str = "Телефон") -> tuple[Device, str]:
    """Sign a phone app in for `user` (as POST /auth/login with client=app would)."""
    return services.device_open_app(
        user=user, name=name, ip="127.0.0.1", user_agent="", now=clock.now()
    )


def code_in(text: str) -> str:
    """The one 6-digit code in an SMS or e-mail body."""
    codes = re.findall(r"(?<!\d)\d{6}(?!\d)", text)
    assert len(codes) == 1, f"expected exactly one 6-digit code in {text!r}"
    return codes[0]


def other_code(code: str) -> str:
    """A well-formed 6-digit code that is certainly not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def assert_error(
    response: Any, status: int, code: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """An API error: the status, exactly {code, message, fields}, and a Russian message."""
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert CYRILLIC.search(body["message"]), body["message"]
    if fields is not None:
        assert body["fields"] == fields
    for messages in body["fields"].values():
        assert all(CYRILLIC.search(m) for m in messages), messages
    return body
