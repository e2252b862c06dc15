"""Demo data for `make run` and the tests: branches with requisites, a demo customer with two ЛС,
the service catalogue, tariffs and norms, meters with readings, and 24 closed months of
billing history plus the current month open (the first ЛС owes money, the second is paid
ahead).

Safe to run again: it updates what exists; closed months are left as they are.
`--accounts N` adds synthetic ЛС (see `synthetic_accounts_create`) with set-based SQL.
"""

from __future__ import annotations

import time as timer
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import Sum

from abonent.accounts.models import (
    AccountLink,
    AccountService,
    Address,
    Branch,
    PersonalAccount,
)
from abonent.appeals.demo import appeals_demo_seed
from abonent.billing.models import (
    BillingPeriod,
    Charge,
    EntryKind,
    LedgerEntry,
    Norm,
    NormBasis,
    PeriodStatus,
    Service,
    Tariff,
    Unit,
)
from abonent.billing.services import billing_run, period_close
from abonent.billing.services.sql import add_months, is_postgres
from abonent.core import clock
from abonent.identity.models import User
from abonent.meters.demo import meters_demo_seed
from abonent.meters.models import Meter, Reading, ReadingSource, ReadingStatus
from abonent.notices.demo import notices_demo_seed
from abonent.payments.demo import payments_demo_seed
from abonent.privacy.demo import staff_demo_seed

DEMO_PHONE = "+79000000001"
DEMO_EMAIL = "demo@abonent.local"
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 — a published demo login  # nosec B105
STAFF_PHONE = "+79000000000"
STAFF_PASSWORD = "admin-pass-2026"  # noqa: S105 — a published demo login  # nosec B105

BRANCHES: list[dict[str, Any]] = [
    {
        "code": "krasnoyarsk",
        "name": "Красноярск",
        "timezone": "Asia/Krasnoyarsk",
        "payee_name": "АО «Енисейская теплосетевая компания»",
        "payee_inn": "2465000141",
        "payee_kpp": "246501001",
        "payee_account": "40702810931000012345",
        "bank_name": "Красноярское отделение № 8646 ПАО Сбербанк",
        "bank_bic": "040407627",
        "bank_corr_account": "30101810800000000627",
        "call_centre_phone": "+73912280000",
    },
    {
        "code": "novosibirsk",
        "name": "Новосибирск",
        "timezone": "Asia/Novosibirsk",
        "payee_name": "АО «Новосибирская теплосетевая компания»",
        "payee_inn": "5405000182",
        "payee_kpp": "540501001",
        "payee_account": "40702810544050054321",
        "bank_name": "Сибирский банк ПАО Сбербанк",
        "bank_bic": "045004641",
        "bank_corr_account": "30101810500000000641",
        "call_centre_phone": "+73832890000",
    },
    {
        "code": "abakan",
        "name": "Абакан",
        "timezone": "Asia/Krasnoyarsk",
        "payee_name": "АО «Абаканская ТЭЦ»",
        "payee_inn": "1901000114",
        "payee_kpp": "190101001",
        "payee_account": "40702810371000000777",
        "bank_name": "Абаканское отделение № 8602 ПАО Сбербанк",
        "bank_bic": "049514608",
        "bank_corr_account": "30101810500000000608",
        "call_centre_phone": "+73902220000",
        "hours_open": time(9, 0),
        "hours_close": time(18, 0),
    },
]

DEMO_ACCOUNTS = [
    # (branch, number, settlement, street, house, flat, owner, area, residents, label)
    (
        "krasnoyarsk",
        "240100123456",
        "Красноярск",
        "ул. Ленина",
        "15",
        "42",
        "Иванова Анна Петровна",
        Decimal("54.30"),
        3,
        "Квартира",
    ),
    (
        "krasnoyarsk",
        "240100654321",
        "Красноярск",
        "ул. Карла Маркса",
        "7А",
        "3",
        "Иванова Анна Петровна",
        Decimal("38.10"),
        1,
        "Мамина квартира",
    ),
]

SERVICES: list[dict[str, Any]] = [
    {
        "code": "heating",
        "name": "Отопление",
        "unit": Unit.GCAL,
        "norm_basis": NormBasis.AREA,
        "metered": False,
        "sort_order": 1,
    },
    {
        "code": "hot-water",
        "name": "Горячее водоснабжение",
        "unit": Unit.M3,
        "norm_basis": NormBasis.RESIDENT,
        "metered": True,
        "sort_order": 2,
    },
    {
        "code": "coolant",
        "name": "Теплоноситель",
        "unit": Unit.M3,
        "norm_basis": NormBasis.RESIDENT,
        "metered": False,
        "sort_order": 3,
    },
]
# Tariffs change on 1 July 2025 and (as in 2026) on 1 October 2026; ₽ per unit, VAT included.
TARIFF_STARTS = [date(2024, 7, 1), date(2025, 7, 1), date(2026, 10, 1)]
TARIFFS: dict[str, dict[str, tuple[str, str, str]]] = {
    "krasnoyarsk": {
        "heating": ("2480.00", "2790.00", "3180.00"),
        "hot-water": ("198.00", "221.00", "252.00"),
        "coolant": ("46.00", "51.50", "58.70"),
    },
    "novosibirsk": {
        "heating": ("2350.00", "2630.00", "2990.00"),
        "hot-water": ("185.00", "207.00", "236.00"),
        "coolant": ("40.00", "45.00", "51.00"),
    },
    "abakan": {
        "heating": ("2600.00", "2900.00", "3190.00"),
        "hot-water": ("205.00", "228.00", "259.00"),
        "coolant": ("48.00", "53.00", "60.00"),
    },
}
# Нормативы per month: heating Гкал per m² (one value all year, kept simple), water per resident.
NORMS: dict[str, dict[str, str]] = {
    "krasnoyarsk": {"heating": "0.025400", "hot-water": "3.600000", "coolant": "3.600000"},
    "novosibirsk": {"heating": "0.022000", "hot-water": "3.500000", "coolant": "3.500000"},
    "abakan": {"heating": "0.027000", "hot-water": "3.600000", "coolant": "3.600000"},
}
NORMS_FROM = date(2024, 1, 1)
HISTORY_MONTHS = 24
OWING_NUMBER, AHEAD_NUMBER = "240100123456", "240100654321"


def catalogue_seed() -> dict[str, Service]:
    services = {}
    for data in SERVICES:
        fields = {k: v for k, v in data.items() if k != "code"}
        services[data["code"]], _ = Service.objects.update_or_create(
            code=data["code"], defaults=fields
        )
    for branch in Branch.objects.filter(code__in=TARIFFS):
        for code, prices in TARIFFS[branch.code].items():
            for i, (start, value) in enumerate(zip(TARIFF_STARTS, prices, strict=True)):
                end = TARIFF_STARTS[i + 1] if i + 1 < len(TARIFF_STARTS) else None
                Tariff.objects.update_or_create(
                    branch=branch,
                    service=services[code],
                    valid_from=start,
                    defaults={"price": Decimal(value), "valid_to": end},
                )
        for code, value in NORMS[branch.code].items():
            Norm.objects.update_or_create(
                branch=branch,
                service=services[code],
                valid_from=NORMS_FROM,
                defaults={"value": Decimal(value)},
            )
    return services


def _readings(
    account: PersonalAccount,
    service: Service,
    serial: str,
    months: list[date],
    per_month: Decimal,
    taken: datetime,
    skip: frozenset[date] = frozenset(),
) -> None:
    """A meter with monthly accepted readings; the months in `skip` have none (the water
    still flows, so the next reading covers them)."""
    meter, _ = Meter.objects.get_or_create(
        account=account,
        serial=serial,
        defaults={
            "service": service,
            "model": "СГВ-15",
            "installed_date": date(2022, 3, 1),
            "last_verified_date": date(2022, 3, 1),
            "next_verification_date": date(2028, 3, 1),
        },
    )
    value = Decimal("1000.000")
    for i, month in enumerate(months):
        value += per_month + Decimal(i % 4) * Decimal("0.350")
        if month in skip:
            continue
        Reading.objects.get_or_create(
            meter=meter,
            scale=1,
            month=month,
            status=ReadingStatus.ACCEPTED,
            defaults={"value": value, "taken_at": taken, "source": ReadingSource.WEB},
        )


def demo_billing_seed(*, now: datetime) -> str:
    """Services on the demo ЛС, meters and readings, 24 closed months, the current one open."""
    services = catalogue_seed()
    branch = Branch.objects.get(code="krasnoyarsk")
    local = now.astimezone(ZoneInfo(branch.timezone))
    current = date(local.year, local.month, 1)
    months = [add_months(current, k) for k in range(-HISTORY_MONTHS - 1, 1)]
    owing = PersonalAccount.objects.get(branch=branch, number=OWING_NUMBER)
    ahead = PersonalAccount.objects.get(branch=branch, number=AHEAD_NUMBER)
    for account in (owing, ahead):
        for code in ("heating", "hot-water"):
            AccountService.objects.get_or_create(
                account=account, service=services[code], defaults={"valid_from": months[0]}
            )
    taken = now - timedelta(days=2)
    _readings(owing, services["hot-water"], "ГВС-0712345", months, Decimal("8.400"), taken)
    # The second ЛС: two months without readings (billed on the average and recalculated
    # when the reading came back), and none yet this month.
    gap = frozenset({add_months(current, -3), add_months(current, -2), current})
    _readings(ahead, services["hot-water"], "ГВС-0954321", months, Decimal("2.900"), taken, gap)
    closed = 0
    for month in months[1:-1]:
        period = BillingPeriod.objects.filter(branch=branch, month=month).first()
        if period is not None and period.status == PeriodStatus.CLOSED:
            continue
        at = datetime.combine(add_months(month, 1), time(3, 0), tzinfo=UTC)
        run = billing_run(branch=branch, month=month, now=at)
        _demo_payments(owing=owing, ahead=ahead, month=month, last=months[-2])
        period_close(period=run.period, now=at, actor=None)
        closed += 1
    period = BillingPeriod.objects.filter(branch=branch, month=current).first()
    if period is None or not Charge.objects.filter(period=period).exists():
        billing_run(branch=branch, month=current, now=now)
    return f"{closed} months closed now, {current:%m.%Y} open"


def _charged(account: PersonalAccount, month: date) -> dict[int, Decimal]:
    rows = (
        Charge.objects.filter(account=account, period__month=month)
        .values("service_id")
        .annotate(s=Sum("amount"))
    )
    return {row["service_id"]: row["s"] for row in rows}


def _demo_payments(
    *, owing: PersonalAccount, ahead: PersonalAccount, month: date, last: date
) -> None:
    """Each ЛС pays last month's charges around the 10th. The first stops paying for the last
    two months (it owes); the second pays this month too and 1000 ₽ ahead per service."""
    at = datetime.combine(month.replace(day=10), time(5, 0), tzinfo=UTC)
    previous = add_months(month, -1)
    for account in (owing, ahead):
        if account == owing and month >= add_months(last, -1):
            continue
        amounts = _charged(account, previous)
        if account == ahead and month == last:
            for service_id, amount in _charged(account, month).items():
                amounts[service_id] = amounts.get(service_id, Decimal(0)) + amount + 1000
        for service_id, amount in amounts.items():
            if amount <= 0:
                continue
            LedgerEntry.objects.get_or_create(
                source_ref=f"demo:{account.number}:{month:%Y%m}:{service_id}",
                defaults={
                    "account": account,
                    "service_id": service_id,
                    "kind": EntryKind.PAYMENT,
                    "amount": -amount,
                    "month": month,
                    "at": at,
                    "note": "Оплата (демо)",
                },
            )


# ------------------------------------------------------------------ synthetic accounts

STREETS = [
    "ул. Ленина", "ул. Мира", "пр. Мира", "ул. Карла Маркса", "ул. Взлётная",
    "ул. Партизана Железняка", "ул. 9 Мая", "ул. Водопьянова", "ул. Красная площадь",
    "ул. Сибирская", "ул. Молодёжная", "ул. Советская", "ул. Кирова", "пр. Красноярский рабочий",
    "ул. Ады Лебедевой", "ул. Вавилова", "ул. Щорса", "ул. Гоголя", "ул. Ломоносова",
    "ул. Енисейская", "ул. Кутузова", "ул. Семафорная", "ул. Затонская", "ул. Бограда",
]  # fmt: skip
FIRST = ["Иван", "Анна", "Пётр", "Мария", "Сергей", "Елена", "Алексей", "Ольга"]
LAST = ["Иванов", "Петрова", "Сидоров", "Кузнецова", "Смирнов", "Попова", "Васильев", "Новикова"]
SYNTH_PREFIX = "77"


def _series(n: int) -> str:
    """A numbers source 1..n as `seq(n)` for both databases."""
    if is_postgres():
        return f"seq AS (SELECT g AS n FROM generate_series(1, {int(n)}) g)"  # noqa: S608 — numbers and names from this file only  # nosec B608
    return f"seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {int(n)})"  # noqa: S608 — numbers and names from this file only  # nosec B608


def _values(name: str, items: list[str]) -> str:
    rows = ", ".join(f"({i}, '{item}')" for i, item in enumerate(items))
    return f"{name}(i, v) AS (VALUES {rows})"


def _analyze(cursor: Any, table: str) -> None:
    if is_postgres():
        cursor.execute(f"ANALYZE {table}")


def synthetic_accounts_create(
    *,
    total: int,
    month: date,
    all_services: bool = False,
    branch_codes: list[str] | None = None,
) -> int:
    """Make sure `total` synthetic ЛС exist (numbers 77…), spread over the branches: address,
    account, 1–3 services (all three with `all_services`), a hot-water meter on every second
    one with hot water, readings for the 7 months before `month`, and for every other meter
    `month` itself (so the run has meter, average, norm and area lines). Set-based SQL: one
    INSERT … SELECT per table. Returns how many were added."""
    services = catalogue_seed()
    branches = list(Branch.objects.filter(code__in=branch_codes or TARIFFS).order_by("id"))
    have = PersonalAccount.objects.filter(number__startswith=SYNTH_PREFIX).count()
    if total <= have:
        return 0
    recursive = "" if is_postgres() else "RECURSIVE "
    nb = len(branches)
    branch_rows = ", ".join(f"({i}, {b.pk}, '{b.name}')" for i, b in enumerate(branches))
    head = (
        f"WITH {recursive}{_series(total)}, {_values('streets', STREETS)}, "  # noqa: S608 — numbers and names from this file only  # nosec B608
        f"{_values('firsts', FIRST)}, {_values('lasts', LAST)}, "
        f"branches(i, id, name) AS (VALUES {branch_rows}), "
        f"src AS (SELECT n, b.id AS branch_id, b.name AS settlement, st.v AS street, "
        f"  CAST((n / {len(STREETS)}) / 100 + 1 AS TEXT) AS house, "
        f"  CAST((n / {len(STREETS)}) % 100 + 101 AS TEXT) AS flat "
        f"  FROM seq JOIN branches b ON b.i = n % {nb} "
        f"  JOIN streets st ON st.i = n % {len(STREETS)} WHERE n > {have})"
    )
    number = f"'{SYNTH_PREFIX}' || SUBSTR('0000000000' || CAST(n AS TEXT), -10, 10)"
    if is_postgres():
        number = f"'{SYNTH_PREFIX}' || LPAD(CAST(n AS TEXT), 10, '0')"
    meter_months = [add_months(month, k) for k in range(-7, 1)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""{head}
INSERT INTO accounts_address (branch_id, settlement, street, house, building, flat)
SELECT branch_id, settlement, street, house, '', flat FROM src WHERE 1 = 1
ON CONFLICT DO NOTHING""",  # noqa: S608 — numbers and names from this file only  # nosec B608
        )
        # Fresh tables have no statistics: without them the join below is a nested loop
        # over the whole address table per row (hours for 10^5 rows instead of seconds).
        _analyze(cursor, "accounts_address")
        cursor.execute(
            f"""{head}
INSERT INTO accounts_personalaccount
  (branch_id, number, address_id, owner_name, area, residents, status)
SELECT src.branch_id, {number}, a.id,
  l.v || ' ' || f.v, 30 + (n * 7) % 60 + (n % 10) * 0.1, 1 + n % 4, 'open'
FROM src
JOIN accounts_address a ON a.branch_id = src.branch_id AND a.settlement = src.settlement
  AND a.street = src.street AND a.house = src.house AND a.building = '' AND a.flat = src.flat
JOIN firsts f ON f.i = n % {len(FIRST)} JOIN lasts l ON l.i = (n / 3) % {len(LAST)}""",  # noqa: S608 — numbers and names from this file only  # nosec B608
        )
        _analyze(cursor, "accounts_personalaccount")
        synth = (
            "SELECT id, CAST(SUBSTR(number, 3) AS BIGINT) AS n FROM accounts_personalaccount"  # noqa: S608 — numbers and names from this file only  # nosec B608
            f" WHERE number LIKE '{SYNTH_PREFIX}%%'"
            f" AND CAST(SUBSTR(number, 3) AS BIGINT) > {have}"
        )
        for code, rule in (
            ("heating", "1 = 1"),
            ("hot-water", "1 = 1" if all_services else "n %% 3 <> 0"),
            ("coolant", "1 = 1" if all_services else "n %% 5 = 0"),
        ):
            cursor.execute(
                f"""INSERT INTO accounts_accountservice
  (account_id, service_id, valid_from, valid_to)
SELECT id, %s, %s, NULL FROM ({synth}) s WHERE {rule}""",  # noqa: S608 — numbers and names from this file only  # nosec B608
                [services[code].pk, date(2024, 1, 1)],
            )
        _analyze(cursor, "accounts_accountservice")
        hot = "n %% 2 = 0" if all_services else "n %% 3 <> 0 AND n %% 2 = 0"
        cursor.execute(
            f"""INSERT INTO meters_meter (account_id, service_id, serial, model, digits, decimals,
  scales, installed_date, last_verified_date, next_verification_date, status, remote)
SELECT id, %s, 'ГВС-' || CAST(n AS TEXT), 'СГВ-15', 5, 3, 1, %s, NULL, NULL, 'working', %s
FROM ({synth}) s WHERE {hot}""",  # noqa: S608 — numbers and names from this file only  # nosec B608
            [services["hot-water"].pk, date(2022, 3, 1), False],
        )
        _analyze(cursor, "meters_meter")
        months = ", ".join(f"({k}, '{m.isoformat()}')" for k, m in enumerate(meter_months))
        date_cast = "CAST(mm.v AS DATE)" if is_postgres() else "mm.v"
        cursor.execute(
            f"""WITH mm(k, v) AS (VALUES {months})
INSERT INTO meters_reading (meter_id, scale, value, month, taken_at, source, status, reason)
SELECT m.id, 1, 100 + (s.n %% 500) + mm.k * (2 + s.n %% 5), {date_cast}, %s, 'web', 'accepted', ''
FROM meters_meter m JOIN ({synth}) s ON s.id = m.account_id
CROSS JOIN mm
WHERE m.service_id = %s AND (mm.k < 7 OR s.n %% 4 = 0)""",  # noqa: S608 — numbers and names from this file only  # nosec B608
            [
                connection.ops.adapt_datetimefield_value(
                    datetime.combine(month, time(5, 0), tzinfo=UTC)
                ),
                services["hot-water"].pk,
            ],
        )
    return total - have


class Command(BaseCommand):
    help = (
        "Load demo branches, a demo customer with two personal accounts and 24 months of "
        "billing, a staff user; --accounts N adds N synthetic accounts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--accounts", type=int, default=0, help="make sure N synthetic ЛС exist"
        )
        parser.add_argument(
            "--all-services", action="store_true", help="every synthetic ЛС gets 3 services"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        with transaction.atomic():
            branches = {}
            for data in BRANCHES:
                fields = {k: v for k, v in data.items() if k != "code"}
                branches[data["code"]], _ = Branch.objects.update_or_create(
                    code=data["code"], defaults=fields
                )
            demo = User.objects.filter(phone=DEMO_PHONE).first() or User(phone=DEMO_PHONE)
            demo.email = DEMO_EMAIL
            demo.first_name, demo.patronymic, demo.last_name = "Анна", "Петровна", "Иванова"
            demo.consent_version, demo.consent_at = "2026-11-01", demo.consent_at or now
            demo.set_password(DEMO_PASSWORD)
            demo.save()
            staff = User.objects.filter(phone=STAFF_PHONE).first() or User(phone=STAFF_PHONE)
            staff.email = "admin@abonent.local"
            staff.first_name, staff.last_name = "Администратор", "Абонента"
            staff.is_staff = staff.is_superuser = True
            staff.set_password(STAFF_PASSWORD)
            staff.save()
            for (
                branch,
                number,
                settlement,
                street,
                house,
                flat,
                owner,
                area,
                res,
                label,
            ) in DEMO_ACCOUNTS:
                address, _ = Address.objects.get_or_create(
                    branch=branches[branch],
                    settlement=settlement,
                    street=street,
                    house=house,
                    flat=flat,
                )
                account, _ = PersonalAccount.objects.update_or_create(
                    branch=branches[branch],
                    number=number,
                    defaults={
                        "address": address,
                        "owner_name": owner,
                        "area": area,
                        "residents": res,
                    },
                )
                AccountLink.objects.get_or_create(
                    user=demo, account=account, defaults={"label": label, "created_at": now}
                )
        with transaction.atomic():
            history = demo_billing_seed(now=now)
        self.stdout.write(f"Billing history: {history}.")
        self.stdout.write(meters_demo_seed(now=now))
        self.stdout.write(appeals_demo_seed(customer=demo, staff=staff, now=now))
        self.stdout.write(f"Payments: {payments_demo_seed(user=demo, now=now)}.")
        self.stdout.write(notices_demo_seed(customer=demo, staff=staff, now=now))
        self.stdout.write(staff_demo_seed())
        if options["accounts"]:
            started = timer.monotonic()
            local = now.astimezone(ZoneInfo("Asia/Krasnoyarsk"))
            added = synthetic_accounts_create(
                total=options["accounts"],
                month=date(local.year, local.month, 1),
                all_services=options["all_services"],
            )
            self.stdout.write(
                f"Synthetic accounts: {added} added in {timer.monotonic() - started:.1f} s."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(BRANCHES)} branches; "
                f"customer {DEMO_PHONE} / {DEMO_PASSWORD}; staff {STAFF_PHONE} / {STAFF_PASSWORD}."
            )
        )
