"""Money in templates: «1 234,50 ₽», red for dues and green for overpayment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

from abonent.core.money import format_rub

register = template.Library()


@register.filter
def rub(value: Any) -> str:
    """1234.5 → «1 234,50 ₽» (a minus sign for negatives)."""
    if value is None or value == "":
        return "—"
    return format_rub(Decimal(value))


@register.filter
def rub_abs(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return format_rub(abs(Decimal(value)))


@register.filter
def rub_signed(value: Any) -> str:
    """A change: «+120,00 ₽», «−35,10 ₽», «0,00 ₽»."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    return ("+" if amount > 0 else "") + format_rub(amount)


@register.filter
def amount_class(value: Any) -> str:
    """`amount--due` when money is owed, `amount--overpaid` when overpaid, else nothing."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    if amount > 0:
        return "amount--due"
    if amount < 0:
        return "amount--overpaid"
    return ""


@register.filter
def balance_label(value: Any) -> str:
    amount = Decimal(value or 0)
    if amount > 0:
        return _("К оплате")
    if amount < 0:
        return _("Переплата")
    return _("Задолженности нет")


@register.filter
def num(value: Any) -> str:
    """A volume or tariff without trailing zeros, with a decimal comma: 1,2345."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value).normalize():f}".replace(".", ",").replace("-", "\u2212")
