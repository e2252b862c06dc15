from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from abonent.accounts.selectors import branch_list


class LinkForm(forms.Form):
    branch = forms.ModelChoiceField(
        label=_("Город"),
        queryset=branch_list(),
        empty_label=_("Выберите город"),
        error_messages={"required": _("Выберите город."), "invalid_choice": _("Выберите город.")},
    )
    number = forms.RegexField(
        label=_("Номер лицевого счёта"),
        regex=r"^\s*[\d ]{6,24}\s*$",
        max_length=24,
        help_text=_("Указан в квитанции, только цифры."),
        error_messages={
            "required": _("Введите номер лицевого счёта."),
            "invalid": _("Номер лицевого счёта — от 6 до 20 цифр."),
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    owner_surname = forms.CharField(
        label=_("Фамилия собственника"),
        max_length=100,
        help_text=_("Как в квитанции."),
        error_messages={"required": _("Введите фамилию собственника.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    settlement = forms.CharField(
        label=_("Населённый пункт"),
        max_length=100,
        error_messages={"required": _("Введите населённый пункт.")},
    )
    street = forms.CharField(
        label=_("Улица"), max_length=150, error_messages={"required": _("Введите улицу.")}
    )
    house = forms.CharField(
        label=_("Дом"),
        max_length=20,
        help_text=_("С корпусом или литерой: 7а, 12 к2."),
        error_messages={"required": _("Введите номер дома.")},
    )
    flat = forms.CharField(
        label=_("Квартира"),
        max_length=10,
        required=False,
        help_text=_("Пусто для частного дома."),
    )
    label = forms.CharField(
        label=_("Своё название"),
        max_length=60,
        required=False,
        help_text=_("Необязательно: «Дача», «Мамина квартира»."),
    )

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "branch_id": data["branch"].pk,
            "number": data["number"],
            "owner_surname": data["owner_surname"],
            "settlement": data["settlement"],
            "street": data["street"],
            "house": data["house"],
            "flat": data["flat"],
        }


class RenameForm(forms.Form):
    label = forms.CharField(
        label=_("Своё название"),
        max_length=60,
        required=False,
        help_text=_("Например, «Дача». Пустое поле — показывать номер счёта."),
    )
