"""Demo data for `make run` and the tests: branches with requisites, a demo customer with two ЛС.

Safe to run again: it updates what exists. (The large data set for benchmarks comes with
the billing issue.)
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from abonent.accounts.models import AccountLink, Address, Branch, PersonalAccount
from abonent.core import clock
from abonent.identity.models import User

DEMO_PHONE = "+79000000001"
DEMO_EMAIL = "demo@abonent.local"
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 — a published demo login
STAFF_PHONE = "+79000000000"
STAFF_PASSWORD = "admin-pass-2026"  # noqa: S105 — a published demo login

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


class Command(BaseCommand):
    help = "Load demo branches, a demo customer with two personal accounts, and a staff user."

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
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(BRANCHES)} branches; "
                f"customer {DEMO_PHONE} / {DEMO_PASSWORD}; staff {STAFF_PHONE} / {STAFF_PASSWORD}."
            )
        )
