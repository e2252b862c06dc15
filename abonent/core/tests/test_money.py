from __future__ import annotations

from decimal import Decimal

import pytest

from abonent.core.errors import ValidationFailed
from abonent.core.money import format_rub, from_kopecks, money, round_money, to_kopecks


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1234.5", Decimal("1234.50")), (10, Decimal("10.00")), ("0.01", Decimal("0.01"))],
)
def test_money_parses_to_two_places(raw: str | int, expected: Decimal) -> None:
    assert money(raw) == expected
    assert money(raw).as_tuple().exponent == -2


@pytest.mark.parametrize("raw", ["1.005", "abc", "NaN", "Infinity", ""])
def test_money_rejects_what_is_not_an_amount_in_russian(raw: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        money(raw)

    assert exc.value.code == "invalid_amount"
    assert "сумм" in exc.value.message.lower()


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        money(0.1)  # type: ignore[arg-type]


def test_round_money_rounds_half_up_like_a_bill() -> None:
    assert round_money(Decimal("2.345")) == Decimal("2.35")
    assert round_money(Decimal("2.344")) == Decimal("2.34")
    assert round_money(Decimal("-2.345")) == Decimal("-2.35")


def test_kopecks_round_trip() -> None:
    assert to_kopecks(Decimal("1234.56")) == 123456
    assert from_kopecks(123456) == Decimal("1234.56")


def test_format_rub_groups_thousands_and_uses_a_comma() -> None:
    assert format_rub(Decimal("1234567.5")) == "1\u202f234\u202f567,50\u00a0₽"
    assert format_rub(Decimal("-12")) == "−12,00\u00a0₽"
