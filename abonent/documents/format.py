"""How numbers, months and money are printed on documents (Russian conventions)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

NBSP = "\u00a0"
MONTHS = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)


def month_name(month: date) -> str:
    """date(2026, 11, 1) → 'ноябрь 2026'."""
    return f"{MONTHS[month.month - 1]} {month.year}"


def month_short(month: date) -> str:
    """date(2026, 11, 1) → '11.2026'."""
    return f"{month:%m.%Y}"


def amount(value: Decimal) -> str:
    """Decimal('-1234.5') → '−1 234,50' (no-break space between thousands, no ₽ sign)."""
    sign = "−" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    return f"{sign}{int(whole):,}".replace(",", NBSP) + f",{frac}"


def number(value: Decimal, *, places: int = 3) -> str:
    """A volume or a tariff: at least two decimals, up to `places`, trailing zeros cut."""
    text = f"{value:.{places}f}"
    whole, frac = text.split(".")
    frac = frac.rstrip("0").ljust(2, "0")
    sign = "−" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}".replace(",", NBSP) + f",{frac}"
