"""Demo meters for `seed_demo`: a second hot-water meter on each demo ЛС with 24 months of
readings (one of them due for verification in 45 days), and consumption filled in for the
meters the billing demo made.

The demo catalogue has no electricity service, so no two-scale meter is made; when a
service with the code `electricity` exists, the first ЛС gets a day/night meter too.
Safe to run again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from abonent.accounts.models import Branch, PersonalAccount
from abonent.billing.models import Service
from abonent.meters.models import Meter, Reading, ReadingSource, ReadingStatus
from abonent.meters.selectors import add_months
from abonent.meters.services.readings import consumption_backfill

DEMO_NUMBERS = ("240100123456", "240100654321")
HISTORY_MONTHS = 24


def _meter(account: PersonalAccount, service: Service, serial: str, **fields: object) -> Meter:
    meter, _created = Meter.objects.update_or_create(
        account=account, serial=serial, defaults={"service": service, **fields}
    )
    return meter


def _history(
    meter: Meter, *, months: list[date], start: Decimal, step: Decimal, scale: int = 1
) -> None:
    value = start
    for i, month in enumerate(months):
        value += step + Decimal(i % 3) * Decimal("0.4")
        Reading.objects.get_or_create(
            meter=meter,
            scale=scale,
            month=month,
            status=ReadingStatus.ACCEPTED,
            defaults={
                "value": value,
                "taken_at": datetime(month.year, month.month, 20, 6, 0, tzinfo=ZoneInfo("UTC")),
                "source": ReadingSource.WEB,
            },
        )


def meters_demo_seed(*, now: datetime) -> str:
    branch = Branch.objects.filter(code="krasnoyarsk").first()
    hot_water = Service.objects.filter(code="hot-water").first()
    accounts = list(PersonalAccount.objects.filter(branch=branch, number__in=DEMO_NUMBERS))
    if branch is None or hot_water is None or len(accounts) != len(DEMO_NUMBERS):
        return "Demo meters: skipped (run the billing demo first)."
    accounts.sort(key=lambda a: DEMO_NUMBERS.index(a.number))
    today = now.astimezone(ZoneInfo(branch.timezone)).date()
    current = today.replace(day=1)
    # Up to last month: this month's reading is for the customer to submit.
    months = [add_months(current, k) for k in range(-HISTORY_MONTHS, 0)]
    with transaction.atomic():
        kitchen = _meter(
            accounts[0],
            hot_water,
            "ГВС-0712346",
            model="Бетар СГВ-15",
            digits=5,
            decimals=3,
            installed_date=date(2022, 3, 1),
            last_verified_date=date(2022, 3, 1),
            next_verification_date=date(2028, 3, 1),
        )
        _history(kitchen, months=months, start=Decimal("310.000"), step=Decimal("2.600"))
        soon = _meter(
            accounts[1],
            hot_water,
            "ГВС-0954322",
            model="Пульсар 15",
            digits=5,
            decimals=3,
            installed_date=date(2020, 6, 1),
            last_verified_date=date(2020, 6, 1),
            next_verification_date=today + timedelta(days=45),
        )
        _history(soon, months=months, start=Decimal("780.000"), step=Decimal("1.900"))
        made = [kitchen, soon]
        electricity = Service.objects.filter(code="electricity").first()
        if electricity is not None:
            power = _meter(
                accounts[0],
                electricity,
                "Э-20231177",
                model="Меркурий 201.8",
                digits=6,
                decimals=1,
                scales=2,
                installed_date=date(2023, 1, 10),
                next_verification_date=date(2039, 1, 10),
            )
            _history(power, months=months, start=Decimal("4000"), step=Decimal("150"), scale=1)
            _history(power, months=months, start=Decimal("2000"), step=Decimal("70"), scale=2)
            made.append(power)
        ids = list(Meter.objects.filter(account__in=accounts).values_list("pk", flat=True))
        filled = consumption_backfill(meter_ids=ids)
    return f"Demo meters: {len(made)} added or updated, consumption filled for {filled} readings."
