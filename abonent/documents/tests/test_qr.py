from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from abonent.accounts.models import Branch, PersonalAccount
from abonent.documents import qr

BRANCH = Branch(
    payee_name="АО «Тепло|Сеть»\nфилиал",
    payee_inn="2460012345",
    payee_kpp="246001001",
    payee_account="40702810931000012345",
    bank_name="ПАО Сбербанк",
    bank_bic="040407627",
    bank_corr_account="30101810800000000627",
)
ACCOUNT = PersonalAccount(number="2400000001")


def payload(amount: str, purpose: str = "Оплата ЕПД за 10.2026, ЛС 2400000001") -> str:
    return qr.payment_qr_payload(
        branch=BRANCH,
        account=ACCOUNT,
        amount=Decimal(amount),
        period_month=date(2026, 10, 1),
        purpose=purpose,
    )


def test_payload_has_every_field_in_order_with_the_sum_in_kopecks() -> None:
    assert payload("5047.72") == (
        "ST00012|Name=АО «Тепло Сеть» филиал|PersonalAcc=40702810931000012345"
        "|BankName=ПАО Сбербанк|BIC=040407627|CorrespAcc=30101810800000000627"
        "|PayeeINN=2460012345|KPP=246001001|persAcc=2400000001|Sum=504772"
        "|Purpose=Оплата ЕПД за 10.2026, ЛС 2400000001|paymPeriod=102026"
    )


@pytest.mark.parametrize(
    ("amount", "kopecks"), [("0.01", "1"), ("1.10", "110"), ("1000", "100000")]
)
def test_sum_is_an_integer_number_of_kopecks(amount: str, kopecks: str) -> None:
    assert f"|Sum={kopecks}|" in payload(amount)


@pytest.mark.parametrize("amount", ["0", "0.00", "-12.50"])
def test_sum_is_omitted_when_nothing_is_due(amount: str) -> None:
    text = payload(amount)
    assert "Sum=" not in text
    assert "|persAcc=2400000001|Purpose=" in text


def test_separators_and_line_breaks_are_stripped_from_values() -> None:
    text = payload("1", purpose="a|b\r\nc\td")
    assert "|Purpose=a b c d|" in text
    assert text.count("|") == 11
    assert "\n" not in text


@pytest.mark.parametrize(
    "text",
    ["ST00012|Name=x", "a" * 50, "Привет" * 100, "12345", payload("5047.72"), "x" * 2000],
)
def test_fast_matrix_is_exactly_segnos_with_the_fixed_mask(text: str) -> None:
    assert qr.qr_matrix(text) == qr.qr_matrix_by_segno(text)


def test_svg_is_one_path_with_a_quiet_zone() -> None:
    svg = qr.qr_svg("ST00012|Name=x")
    size = len(qr.qr_matrix("ST00012|Name=x")) + 8
    assert svg.startswith(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}"')
    assert svg.count("<path") == 1
