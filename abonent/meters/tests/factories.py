"""Builders for meters tests (on top of the shared billing and accounts factories)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from abonent.accounts.models import Branch, PersonalAccount
from abonent.accounts.tests.factories import link
from abonent.billing.models import NormBasis, Service, Unit
from abonent.billing.tests.factories import hot_water, make_account, make_branch, price
from abonent.meters.models import Meter, MeterStatus, Reading, ReadingSource

# Krasnoyarsk is UTC+7: 2026-11-20 05:00 UTC is 12:00 local, inside the 15–25 window.
IN_WINDOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
NOVEMBER = date(2026, 11, 1)


def electricity() -> Service:
    service, _ = Service.objects.get_or_create(
        code="electricity",
        defaults={
            "name": "Электроэнергия",
            "unit": Unit.KWH,
            "norm_basis": NormBasis.RESIDENT,
            "metered": True,
            "sort_order": 5,
        },
    )
    return service


def meter(
    account: PersonalAccount,
    service: Service | None = None,
    *,
    serial: str = "ГВС-1",
    scales: int = 1,
    digits: int = 5,
    decimals: int = 3,
    status: str = MeterStatus.WORKING,
    remote: bool = False,
    next_verification: date | None = date(2030, 1, 1),
) -> Meter:
    return Meter.objects.create(
        account=account,
        service=service or hot_water(),
        serial=serial,
        model="СГВ-15",
        digits=digits,
        decimals=decimals,
        scales=scales,
        installed_date=date(2020, 1, 1),
        next_verification_date=next_verification,
        status=status,
        remote=remote,
    )


def history(m: Meter, *, last: date, months: int, start: str, step: str, scale: int = 1) -> None:
    """Accepted readings for `months` consecutive months ending with `last`."""
    index = last.year * 12 + last.month - 1 - (months - 1)
    value = Decimal(start)
    previous: Decimal | None = None
    for _ in range(months):
        month = date(index // 12, index % 12 + 1, 1)
        Reading.objects.create(
            meter=m,
            scale=scale,
            value=value,
            month=month,
            taken_at=datetime(month.year, month.month, 20, 5, 0, tzinfo=UTC),
            source=ReadingSource.WEB,
            consumption=None if previous is None else value - previous,
        )
        previous = value
        value += Decimal(step)
        index += 1


def customer_with_meter(
    customer: Any, *, start: str = "100", **meter_kwargs: Any
) -> tuple[PersonalAccount, Meter]:
    """A Krasnoyarsk ЛС linked to `customer` with one hot-water meter and 12 months of
    readings up to October 2026: 100.000, 103.000 … 133.000 (3 m³ a month from `start`)."""
    branch = Branch.objects.filter(code="krasnoyarsk").first()
    if branch is None:
        branch = make_branch()
        price(branch, hot_water(), "230.5000", norm="3.500000")
    account = make_account(branch, hot_water())
    link(customer, account)
    m = meter(account, **meter_kwargs)
    history(m, last=date(2026, 10, 1), months=12, start=start, step="3")
    return account, m
