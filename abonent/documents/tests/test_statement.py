"""The statement: charges, recalculations and payments per month and service, with totals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pymupdf
import pytest

from abonent.billing.models import EntryKind, LedgerEntry
from abonent.core.errors import ValidationFailed
from abonent.documents import selectors, services
from abonent.documents.tests import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def history() -> tuple[object, object]:
    """August: debt from before; September and October: charges, a payment, a recalculation."""
    account = f.make_account()
    heat, water = f.heating(), f.hot_water()
    LedgerEntry.objects.create(
        account=account,
        service=heat,
        kind=EntryKind.OPENING,
        amount=Decimal("300.00"),
        month=date(2026, 8, 1),
        at=datetime(2026, 8, 1, tzinfo=UTC),
    )
    f.make_charge(account, heat, month=date(2026, 9, 1), volume="1", tariff="2000")
    f.make_charge(account, water, month=date(2026, 9, 1), volume="2", tariff="250")
    f.make_payment(account, heat, "2300.00", month=date(2026, 9, 1))
    f.make_charge(account, heat, month=date(2026, 10, 1), volume="1.5", tariff="2000")
    f.make_charge(
        account,
        water,
        month=date(2026, 10, 1),
        volume="-1",
        tariff="250",
        amount="-250.00",
        for_month=date(2026, 9, 1),
        reason="Показания",
    )
    f.make_payment(account, water, "100.00", month=date(2026, 10, 1))
    return account, heat


def test_statement_totals_add_up() -> None:
    account, _heat = history()

    document = selectors.statement_document(
        account=account,  # type: ignore[arg-type]
        month_from=date(2026, 9, 1),
        month_to=date(2026, 10, 1),
        now=NOW,
    )

    assert document.data["raw"] == {
        "opening": "300.00",
        "charged": "5500.00",  # 2000 + 500 + 3000
        "recalculated": "-250.00",
        "corrected": "0.00",
        "paid": "2400.00",
        "closing": "3150.00",  # 300 + 5500 − 250 − 2400
    }
    rows = [
        (r["month"], r["service"], r["charged"], r["recalculated"], r["paid"])
        for r in document.data["rows"]
    ]
    assert rows == [
        ("09.2026", "Отопление", "2\xa0000,00", "0,00", "2\xa0300,00"),
        ("09.2026", "Горячее водоснабжение", "500,00", "0,00", "0,00"),
        ("10.2026", "Отопление", "3\xa0000,00", "0,00", "0,00"),
        ("10.2026", "Горячее водоснабжение", "0,00", "−250,00", "100,00"),
    ]


def test_statement_range_moves_the_opening_balance() -> None:
    account, _heat = history()

    document = selectors.statement_document(
        account=account,  # type: ignore[arg-type]
        month_from=date(2026, 10, 1),
        month_to=date(2026, 10, 1),
        now=NOW,
    )

    assert document.data["raw"]["opening"] == "500.00"  # 300 + 2500 − 2300
    assert document.data["raw"]["closing"] == "3150.00"


def test_statement_pdf_prints_the_totals_in_russian() -> None:
    account, _heat = history()

    _document, pdf = services.statement_render(
        account=account,  # type: ignore[arg-type]
        month_from=date(2026, 9, 1),
        month_to=date(2026, 10, 1),
        now=NOW,
    )

    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        text = "".join(doc[0].get_text().split()).replace("\xa0", "")
    for expected in (
        "Выписка начислений и оплат",
        "засентябрь2026—октябрь2026",
        "Петров Иван Иванович",
        "Горячее водоснабжение",
        "Итого5500,00−250,000,002400,00",
        "Долг(+)/аванс(−)наначало300,00",
        "Долг(+)/аванс(−)наконец3150,00",
        "сформирована23.11.202616:30",  # Krasnoyarsk time
    ):
        assert expected.replace(" ", "") in text, expected


def test_statement_of_months_without_entries_is_empty_but_valid() -> None:
    account = f.make_account()
    document, pdf = services.statement_render(
        account=account, month_from=date(2025, 1, 1), month_to=date(2025, 3, 1), now=NOW
    )
    assert document.data["rows"] == []
    assert document.data["raw"]["closing"] == "0.00"
    assert pdf.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "expected"),
    [
        (None, None, (date(2025, 12, 1), date(2026, 11, 1))),
        ("2026-01", None, (date(2026, 1, 1), date(2026, 11, 1))),
        (None, "2026-03", (date(2025, 4, 1), date(2026, 3, 1))),
        ("2024-01", "2026-12", (date(2024, 1, 1), date(2026, 12, 1))),
    ],
)
def test_statement_range(
    raw_from: str | None, raw_to: str | None, expected: tuple[date, date]
) -> None:
    got = selectors.statement_range(raw_from=raw_from, raw_to=raw_to, today=date(2026, 11, 23))
    assert got == expected


@pytest.mark.parametrize(
    ("raw_from", "raw_to"),
    [
        ("2026-00", None),
        ("26-01", None),
        ("2026-01-01", None),
        ("1999-12", None),
        ("2023-12", "2026-12"),
    ],
)
def test_statement_range_rejects(raw_from: str, raw_to: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        selectors.statement_range(raw_from=raw_from, raw_to=raw_to, today=date(2026, 11, 23))
    assert caught.value.status == 422
