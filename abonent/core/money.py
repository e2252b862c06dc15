"""Money is Decimal with two places, never float; kopecks only at the edges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from abonent.core.errors import ValidationFailed

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """Parse an amount, rejecting floats, NaN and more than two decimals."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(_("Сумма указана неверно."), code="invalid_amount") from exc
    if not amount.is_finite():
        raise ValidationFailed(_("Сумма указана неверно."), code="invalid_amount")
    if amount != amount.quantize(CENT):
        raise ValidationFailed(
            _("В сумме не больше двух знаков после запятой."), code="invalid_amount"
        )
    return amount.quantize(CENT)


def round_money(value: Decimal) -> Decimal:
    """Round a computed amount (volume × tariff) to kopecks, half up as on bills."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_kopecks(value: Decimal) -> int:
    return int(money(value) * 100)


def from_kopecks(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)


def format_rub(value: Decimal) -> str:
    """1234.5 -> '1 234,50 ₽' with a narrow no-break space, as Russian bills print it."""
    sign = "−" if value < 0 else ""
    whole, frac = f"{abs(money(value)):.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", "\u202f")
    return f"{sign}{groups},{frac}\u00a0₽"
