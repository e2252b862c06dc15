"""Small builders for billing tests: a branch with heating and hot water, accounts, meters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

from abonent.accounts.models import AccountService, Address, Branch, PersonalAccount
from abonent.billing.models import Norm, NormBasis, Service, Tariff, Unit
from abonent.meters.models import Meter, Reading, ReadingSource

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
_seq = count(1)


def make_branch(code: str = "krasnoyarsk", name: str = "Красноярск") -> Branch:
    return Branch.objects.create(
        code=code,
        name=name,
        payee_name="АО «Тест»",
        payee_inn="2465000141",
        payee_kpp="246501001",
        payee_account="40702810931000012345",
        bank_name="Банк",
        bank_bic="040407627",
        bank_corr_account="30101810800000000627",
        call_centre_phone="+73912280000",
    )


def heating() -> Service:
    service, _ = Service.objects.get_or_create(
        code="heating",
        defaults={
            "name": "Отопление",
            "unit": Unit.GCAL,
            "norm_basis": NormBasis.AREA,
            "metered": True,
            "sort_order": 1,
        },
    )
    return service


def hot_water() -> Service:
    service, _ = Service.objects.get_or_create(
        code="hot-water",
        defaults={
            "name": "Горячее водоснабжение",
            "unit": Unit.M3,
            "norm_basis": NormBasis.RESIDENT,
            "metered": True,
            "sort_order": 2,
        },
    )
    return service


def price(
    branch: Branch,
    service: Service,
    value: str,
    *,
    norm: str | None = None,
    valid_from: date = date(2020, 1, 1),
    valid_to: date | None = None,
) -> Tariff:
    if norm is not None:
        Norm.objects.create(
            branch=branch, service=service, value=Decimal(norm), valid_from=valid_from
        )
    return Tariff.objects.create(
        branch=branch,
        service=service,
        price=Decimal(value),
        valid_from=valid_from,
        valid_to=valid_to,
    )


def make_account(
    branch: Branch,
    *services: Service,
    area: str = "50.00",
    residents: int = 2,
    number: str | None = None,
    since: date = date(2020, 1, 1),
) -> PersonalAccount:
    n = next(_seq)
    address = Address.objects.create(
        branch=branch, settlement=branch.name, street="ул. Ленина", house=str(n), flat="1"
    )
    account = PersonalAccount.objects.create(
        branch=branch,
        number=number or f"{240100000000 + n}",
        address=address,
        owner_name="Иванова Анна Петровна",
        area=Decimal(area),
        residents=residents,
    )
    for service in services:
        AccountService.objects.create(account=account, service=service, valid_from=since)
    return account


def make_meter(account: PersonalAccount, service: Service, serial: str = "M-1") -> Meter:
    return Meter.objects.create(
        account=account, service=service, serial=serial, installed_date=date(2020, 1, 1)
    )


def read(meter: Meter, month: date, value: str, scale: int = 1) -> Reading:
    return Reading.objects.create(
        meter=meter,
        scale=scale,
        value=Decimal(value),
        month=month,
        taken_at=NOW,
        source=ReadingSource.WEB,
    )


def read_monthly(meter: Meter, first: date, months: int, start: str, step: str) -> None:
    """Accepted readings for `months` consecutive months, growing by `step` each month."""
    value = Decimal(start)
    year, month = first.year, first.month
    for _ in range(months):
        read(meter, date(year, month, 1), str(value))
        value += Decimal(step)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
