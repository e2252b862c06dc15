"""User-facing text goes through gettext: Russian is the source language, and a catalog for
another language (here a tiny in-memory one for "en") changes what pages, flash messages, API
errors and SMS say. Each check fails if the text it names stops being marked for translation.
"""

from __future__ import annotations

import gettext as gettext_module
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import trans_real

from abonent.core import clock
from abonent.core.errors import DomainError, ValidationFailed
from abonent.identity import forms, services
from abonent.identity.models import CodeChannel, CodePurpose, User
from abonent.identity.phones import INVALID_PHONE
from abonent.identity.services.codes import CODE_TEXTS, CODE_WRONG
from abonent.web.context_processors import NAV
from abonent.web.views import SECTIONS

ENGLISH = {
    # templates: {% translate %}, {% blocktranslate %} with a variable, the base frame
    "Вход в личный кабинет": "Sign in to your account",
    "Забыли пароль?": "Forgot your password?",
    "Правила пользования": "Terms of use",
    "Здравствуйте, %(name)s!": "Hello, %(name)s!",
    # forms (lazy labels) and the navigation (lazy module constants)
    "Телефон или e-mail": "Phone or e-mail",
    "Счета": "Accounts",
    # flash messages and service errors (gettext at call time, lazy constants)
    "Вы вышли из личного кабинета.": "You have signed out.",
    "Неверный логин или пароль.": "Wrong login or password.",
    "Проверьте введённые данные.": "Check the data you entered.",
    "Обязательное поле.": "Required field.",
    "Не найдено.": "Not found.",
    "Не удалось выполнить операцию.": "The operation failed.",
    # an SMS template: its {code} placeholder must survive translation
    "Код регистрации в Абоненте: {code}. Никому его не сообщайте.": (
        "Your Abonent sign-up code: {code}. Do not share it."
    ),
}


class InMemoryCatalog(gettext_module.NullTranslations):
    """Just enough of DjangoTranslation for trans_real: gettext, ngettext, to_language."""

    def __init__(self, language: str, messages: dict[str, str]) -> None:
        super().__init__()
        self.language = language
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.gettext(msgid1 if n == 1 else msgid2)

    def to_language(self) -> str:
        return self.language


@pytest.fixture
def english(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Offer "en" with the ENGLISH catalog, as a later locale would be, and make it active.

    Changing LANGUAGES resets Django's catalog cache, so the catalog goes in afterwards.
    """
    settings.LANGUAGES = [("ru", "Русский"), ("en", "English")]
    catalogs = trans_real._translations  # type: ignore[attr-defined]  # Django's catalog cache
    monkeypatch.setitem(catalogs, "en", InMemoryCatalog("en", ENGLISH))
    with translation.override("en"):
        yield


@pytest.fixture
def browser_en() -> Client:
    """A browser that asks for English: LocaleMiddleware picks the language per request."""
    return Client(headers={"Accept-Language": "en"})


def test_module_level_texts_are_lazy_so_they_follow_the_active_language() -> None:
    lazy: list[Any] = [
        forms.LoginForm.base_fields["password"].label,
        forms.SignupForm.base_fields["login"].help_text,
        CodeChannel.SMS.label,
        User._meta.verbose_name,
        User._meta.get_field("phone").verbose_name,
        apps.get_app_config("identity").verbose_name,
        DomainError.default_message,
        ValidationFailed.default_message,
        CODE_WRONG,
        INVALID_PHONE,
        CODE_TEXTS[CodePurpose.SIGNUP][1],
        NAV[0][1],
        SECTIONS["meters"],
    ]
    assert all(isinstance(text, Promise) for text in lazy), [type(t) for t in lazy]


def test_domain_errors_carry_plain_strings_in_the_active_language(english: None) -> None:
    body = ValidationFailed(fields={"phone": [INVALID_PHONE]}).as_dict()

    assert body["message"] == "Check the data you entered."
    assert type(body["message"]) is str
    fields: Any = body["fields"]
    assert all(type(m) is str for m in fields["phone"])
    assert DomainError().as_dict()["message"] == "The operation failed."


@pytest.mark.django_db
def test_the_login_page_renders_from_the_catalog(browser_en: Client, english: None) -> None:
    response = browser_en.get("/login/")
    html = response.content.decode()

    assert response["Content-Language"] == "en"

    for russian, english_text in [
        ("Вход в личный кабинет", "Sign in to your account"),
        ("Забыли пароль?", "Forgot your password?"),
        ("Телефон или e-mail", "Phone or e-mail"),
        ("Правила пользования", "Terms of use"),
    ]:
        assert english_text in html
        assert russian not in html


@pytest.mark.django_db
def test_the_frame_greeting_and_flash_messages_follow_the_catalog(
    browser_en: Client, customer: User, english: None
) -> None:
    browser_en.force_login(customer)

    home = browser_en.get("/").content.decode()
    assert "Hello, Иван Иванович!" in home  # blocktranslate with a variable
    assert ">Accounts<" in home  # lazy navigation label

    after_logout = browser_en.post("/logout/", follow=True).content.decode()
    assert "You have signed out." in after_logout


@pytest.mark.django_db
def test_api_errors_render_translated_plain_json(browser_en: Client, english: None) -> None:
    wrong = browser_en.post(
        "/api/v1/auth/login", {"login": "", "password": ""}, content_type="application/json"
    )
    assert wrong.status_code == 422
    assert wrong.json()["message"] == "Wrong login or password."

    missing = browser_en.post("/api/v1/auth/login", "{}", content_type="application/json")
    assert missing.status_code == 422
    assert missing.json()["message"] == "Check the data you entered."
    assert missing.json()["fields"]["login"] == ["Required field."]

    unknown = browser_en.get("/api/v1/no-such-thing")
    assert unknown.json()["message"] == "Not found."


@pytest.mark.django_db
def test_the_sms_is_translated_and_still_carries_the_code(
    sms_outbox: Any, django_capture_on_commit_callbacks: Any, english: None
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.signup_start(
            login="+79131112299",
            first_name="Анна",
            patronymic="",
            password="Teplo-Sun-2026",
            password_confirm="Teplo-Sun-2026",
            consent=True,
            now=clock.now(),
            ip="127.0.0.1",
        )

    (sms,) = sms_outbox.to("+79131112299")
    assert re.fullmatch(r"Your Abonent sign-up code: \d{6}\. Do not share it\.", sms["text"])
