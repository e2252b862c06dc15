"""Web forms: they only collect input; the services validate and decide."""

from __future__ import annotations

from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext_lazy as _

PASSWORD = forms.PasswordInput(attrs={"autocomplete": "new-password"})
CODE_ATTRS = {
    "inputmode": "numeric",
    "autocomplete": "one-time-code",
    "pattern": r"\d{6}",
    "maxlength": "6",
}


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Телефон или e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Пароль"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SignupForm(forms.Form):
    login = forms.CharField(
        label=_("Мобильный телефон или e-mail"),
        max_length=254,
        help_text=_("На него придёт код подтверждения. Он же — ваш логин."),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "placeholder": "+7 (999) 999-99-99"}
        ),
    )
    first_name = forms.CharField(
        label=_("Имя"), max_length=60, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    patronymic = forms.CharField(
        label=_("Отчество"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "additional-name"}),
    )
    password = forms.CharField(
        label=_("Пароль"), max_length=128, widget=PASSWORD, help_text=_("Не короче 8 символов.")
    )
    password_confirm = forms.CharField(label=_("Пароль ещё раз"), max_length=128, widget=PASSWORD)
    consent = forms.BooleanField(
        label=_("Согласен с правилами пользования и на обработку персональных данных"),
        required=False,
    )
    captcha = CaptchaField(label=_("Символы с картинки"))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Код из сообщения"), max_length=6, widget=forms.TextInput(attrs=CODE_ATTRS)
    )


class ResetStartForm(forms.Form):
    login = forms.CharField(
        label=_("Телефон или e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class ResetConfirmForm(CodeForm):
    password = forms.CharField(label=_("Новый пароль"), max_length=128, widget=PASSWORD)
    password_confirm = forms.CharField(
        label=_("Новый пароль ещё раз"), max_length=128, widget=PASSWORD
    )


class ProfileForm(forms.Form):
    last_name = forms.CharField(
        label=_("Фамилия"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    first_name = forms.CharField(
        label=_("Имя"), max_length=60, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    patronymic = forms.CharField(
        label=_("Отчество"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "additional-name"}),
    )


class ContactForm(forms.Form):
    KIND_CHOICES = [("phone", _("Телефон")), ("email", _("E-mail"))]
    kind = forms.ChoiceField(choices=KIND_CHOICES, widget=forms.HiddenInput)
    value = forms.CharField(label=_("Новый телефон или e-mail"), max_length=254)


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=_("Текущий пароль"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(label=_("Новый пароль"), max_length=128, widget=PASSWORD)
    new_password_confirm = forms.CharField(
        label=_("Новый пароль ещё раз"), max_length=128, widget=PASSWORD
    )
    sign_out_others = forms.BooleanField(
        label=_("Выйти на всех других устройствах"), required=False, initial=True
    )


class DeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Пароль для подтверждения"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("Я понимаю, что учётная запись будет удалена без возврата")
    )
