"""Import and export for an external billing system: exact counts and sums, all-or-nothing
files, exactly-once balances, closed periods refused, CSV `;`/`,` and JSON, exact exports."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Sum

from abonent.accounts.models import AccountService, Address, PersonalAccount
from abonent.billing.models import (
    BillingPeriod,
    Charge,
    ChargeMethod,
    EntryKind,
    LedgerEntry,
    PeriodStatus,
)
from abonent.billing.services.exchange import (
    PAYMENT_FIELDS,
    READING_FIELDS,
    exchange_parse,
    exchange_render,
    export_payments,
    export_readings,
    import_accounts,
    import_balances,
    import_charges,
)
from abonent.billing.tests.factories import (
    NOW,
    heating,
    hot_water,
    make_account,
    make_branch,
    make_meter,
    read,
)
from abonent.core.errors import Conflict, ValidationFailed
from abonent.meters.models import ReadingStatus

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
NOV = date(2026, 11, 1)


@pytest.fixture
def branch():
    branch = make_branch()
    heating()
    hot_water()
    return branch


@pytest.fixture
def accounts(branch):
    return (
        make_account(branch, heating(), hot_water(), number="240100000001"),
        make_account(branch, heating(), number="240100000002"),
    )


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def parse(content: bytes):
    return exchange_parse(content=content)


# ---------------------------------------------------------------- parsing


def test_parse_detects_semicolon_comma_and_json():
    semi = parse(csv_bytes("account;service;amount", "240100000001;heating;1,50"))
    comma = parse(csv_bytes("account,service,amount", '240100000001,heating,"1,50"'))
    js = parse(b'[{"account": "240100000001", "service": "heating", "amount": 1.50}]')

    expected = {"account": "240100000001", "service": "heating", "amount": "1,50"}
    assert [(r.line, r.data) for r in semi.rows] == [(2, expected)]
    assert [(r.line, r.data) for r in comma.rows] == [(2, expected)]
    assert [(r.line, r.data) for r in js.rows] == [(1, expected | {"amount": "1.50"})]
    assert len(semi.digest) == 16


# ---------------------------------------------------------------- accounts


def test_import_accounts_creates_accounts_addresses_and_services(branch):
    parsed = parse((DATA / "accounts.csv").read_bytes())

    report = import_accounts(branch=branch, rows=parsed.rows, now=NOW)

    assert (report.ok, report.rows, report.created, report.skipped) == (True, 2, 2, 0)
    first = PersonalAccount.objects.get(branch=branch, number="240100000001")
    assert (first.owner_name, first.area, first.residents) == (
        "Иванов Иван Иванович",
        Decimal("54.30"),
        3,
    )
    assert (first.address.street, first.address.house, first.address.flat) == (
        "ул. Мира",
        "10",
        "5",
    )
    assert sorted(
        AccountService.objects.filter(account__branch=branch).values_list(
            "account__number", "service__code"
        )
    ) == [
        ("240100000001", "heating"),
        ("240100000001", "hot-water"),
        ("240100000002", "heating"),
    ]
    assert Address.objects.filter(branch=branch).count() == 2

    again = import_accounts(branch=branch, rows=parsed.rows, now=NOW)
    assert (again.ok, again.created, again.skipped) == (True, 0, 2)
    assert PersonalAccount.objects.filter(branch=branch).count() == 2


def test_import_accounts_bad_rows_write_nothing_and_are_all_reported(branch):
    content = csv_bytes(
        "account;owner_name;settlement;street;house;area;services",
        "240100000001;Иванов И. И.;Красноярск;ул. Мира;10;50;heating",
        "12AB;Петров П. П.;Красноярск;ул. Мира;11;50;heating",
        "240100000003;Сидоров С. С.;Красноярск;;12;50.123;heating",
        "240100000004;Орлова О. О.;Красноярск;ул. Мира;13;50;gas",
    )

    report = import_accounts(branch=branch, rows=parse(content).rows, now=NOW)

    assert not report.ok
    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "номер ЛС «12AB»: нужно от 6 до 20 цифр"),
        (4, "не заполнено поле «street»"),
        (5, "неизвестная услуга «gas»"),
    ]
    assert PersonalAccount.objects.count() == 0
    assert Address.objects.count() == 0


# ---------------------------------------------------------------- charges


def test_import_charges_creates_import_lines_in_a_new_open_period(branch, accounts):
    parsed = parse((DATA / "charges.csv").read_bytes())

    report = import_charges(branch=branch, month=NOV, rows=parsed.rows, now=NOW)

    assert (report.ok, report.created, report.total) == (True, 3, Decimal("9021.25"))
    period = BillingPeriod.objects.get(branch=branch, month=NOV)
    assert period.status == PeriodStatus.OPEN
    charges = Charge.objects.filter(period=period)
    assert charges.count() == 3
    assert set(charges.values_list("method", flat=True)) == {ChargeMethod.IMPORT}
    assert charges.aggregate(s=Sum("amount"))["s"] == Decimal("9021.25")
    line = charges.get(account=accounts[0], service=hot_water())
    assert (line.volume, line.tariff, line.amount, line.unit, line.for_month) == (
        Decimal("10.500000"),
        Decimal("230.5000"),
        Decimal("2420.25"),
        "м³",
        NOV,
    )


def test_import_charges_one_bad_row_writes_nothing(branch, accounts):
    content = csv_bytes(
        "account;service;amount",
        "240100000001;heating;100.00",
        "240100000002;heating;100.005",
        "240100000001;hot-water;5.00",
    )

    report = import_charges(branch=branch, month=NOV, rows=parse(content).rows, now=NOW)

    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "«amount»: не больше 2 знаков после запятой")
    ]
    assert Charge.objects.count() == 0
    assert BillingPeriod.objects.count() == 0


def test_import_charges_unknown_account_and_duplicate_line(branch, accounts):
    content = csv_bytes(
        "account,service,amount",
        "240100000001,heating,1.00",
        "240100000001,heating,2.00",
        "240100999999,heating,3.00",
    )

    report = import_charges(branch=branch, month=NOV, rows=parse(content).rows, now=NOW)

    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "начисление ЛС 240100000001 по услуге «heating» уже есть"),
        (4, "ЛС 240100999999 не найден в филиале"),
    ]
    assert Charge.objects.count() == 0


def test_import_charges_into_closed_period_is_refused(branch, accounts):
    BillingPeriod.objects.create(
        branch=branch, month=NOV, status=PeriodStatus.CLOSED, closed_at=NOW
    )
    parsed = parse((DATA / "charges.csv").read_bytes())

    with pytest.raises(Conflict) as info:
        import_charges(branch=branch, month=NOV, rows=parsed.rows, now=NOW)

    assert info.value.message == "Период 11.2026 закрыт: импорт в него невозможен."
    assert Charge.objects.count() == 0


# ---------------------------------------------------------------- balances


def test_import_balances_json_posts_once(branch, accounts):
    parsed = parse((DATA / "balances.json").read_bytes())

    report = import_balances(
        branch=branch, month=NOV, rows=parsed.rows, file_digest=parsed.digest, now=NOW
    )
    again = import_balances(
        branch=branch, month=NOV, rows=parsed.rows, file_digest=parsed.digest, now=NOW
    )

    assert (report.ok, report.created, report.skipped, report.total) == (
        True,
        3,
        0,
        Decimal("1300.75"),
    )
    assert (again.ok, again.created, again.skipped, again.total) == (True, 0, 3, Decimal("0"))
    entries = LedgerEntry.objects.filter(kind=EntryKind.OPENING)
    assert entries.count() == 3
    assert entries.aggregate(s=Sum("amount"))["s"] == Decimal("1300.75")
    assert sorted(entries.values_list("source_ref", flat=True)) == [
        f"import:krasnoyarsk:{parsed.digest}:{n}" for n in (1, 2, 3)
    ]


def test_import_balances_bad_row_writes_nothing(branch, accounts):
    content = (
        b'[{"account": "240100000001", "service": "heating", "amount": "12.50"},'
        b' {"account": "240100000002", "service": "heating", "amount": "abc"}]'
    )
    parsed = parse(content)

    report = import_balances(
        branch=branch, month=NOV, rows=parsed.rows, file_digest=parsed.digest, now=NOW
    )

    assert [(r.line, r.reason) for r in report.rejected] == [(2, "«amount»: не число (abc)")]
    assert LedgerEntry.objects.count() == 0


# ---------------------------------------------------------------- commands


def test_command_import_prints_report_and_exits_1_on_rejection(branch, accounts, tmp_path):
    good = StringIO()
    call_command(
        "billing_import", "--branch", "krasnoyarsk", "--kind", "charges", "--period", "2026-11",
        str(DATA / "charges.csv"), stdout=good,
    )  # fmt: skip
    assert "записано 3" in good.getvalue()
    assert "сумма 9021.25" in good.getvalue()

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes("account;service;amount", "240100000001;gas;1.00"))
    out = StringIO()
    with pytest.raises(SystemExit) as info:
        call_command(
            "billing_import", "--branch", "krasnoyarsk", "--kind", "balances",
            "--period", "2026-11", str(bad), stdout=out,
        )  # fmt: skip
    assert info.value.code == 1
    assert "строка 2: неизвестная услуга «gas»" in out.getvalue()
    assert LedgerEntry.objects.count() == 0


# ---------------------------------------------------------------- exports


def test_export_payments_exact(branch, accounts):
    def pay(account, amount, at, ref):
        LedgerEntry.objects.create(
            account=account, service=heating(), kind=EntryKind.PAYMENT, amount=Decimal(amount),
            month=NOV, at=at, source_ref=ref,
        )  # fmt: skip

    # Krasnoyarsk is UTC+7: 17:30 UTC on the 19th is already the 20th there.
    pay(accounts[0], "-1000.00", datetime(2026, 11, 19, 17, 30, tzinfo=UTC), "payment:1:1")
    pay(accounts[1], "-250.50", datetime(2026, 11, 10, 3, 0, tzinfo=UTC), "payment:2:1")
    pay(accounts[1], "-1.00", datetime(2026, 11, 21, 0, 0, tzinfo=UTC), "payment:3:1")
    LedgerEntry.objects.create(
        account=accounts[0], service=heating(), kind=EntryKind.OPENING, amount=Decimal("9.00"),
        month=NOV, at=datetime(2026, 11, 15, tzinfo=UTC),
    )  # fmt: skip

    rows = export_payments(branch=branch, date_from=date(2026, 11, 10), date_to=date(2026, 11, 20))

    assert rows == [
        {"account": "240100000002", "service": "heating", "date": "2026-11-10",
         "amount": "250.50", "month": "2026-11", "ref": "payment:2:1"},
        {"account": "240100000001", "service": "heating", "date": "2026-11-20",
         "amount": "1000.00", "month": "2026-11", "ref": "payment:1:1"},
    ]  # fmt: skip
    assert exchange_render(rows=rows, fmt="csv", fields=PAYMENT_FIELDS) == (
        "account;service;date;amount;month;ref\n"
        "240100000002;heating;2026-11-10;250.50;2026-11;payment:2:1\n"
        "240100000001;heating;2026-11-20;1000.00;2026-11;payment:1:1\n"
    )


def test_export_readings_exact_and_command_json(branch, accounts, tmp_path):
    meter = make_meter(accounts[0], hot_water(), serial="HW-77")
    read(meter, NOV, "123.4560")
    read(meter, date(2026, 10, 1), "100.0000")
    rejected = read(make_meter(accounts[1], heating(), serial="H-1"), NOV, "5.0000")
    rejected.status = ReadingStatus.REJECTED
    rejected.save()

    rows = export_readings(branch=branch, month=NOV)

    expected = [
        {"account": "240100000001", "service": "hot-water", "serial": "HW-77", "scale": "1",
         "value": "123.4560", "month": "2026-11", "source": "web"},
    ]  # fmt: skip
    assert rows == expected
    assert exchange_render(rows=rows, fmt="csv", fields=READING_FIELDS) == (
        "account;service;serial;scale;value;month;source\n"
        "240100000001;hot-water;HW-77;1;123.4560;2026-11;web\n"
    )
    target = tmp_path / "readings.json"
    call_command(
        "billing_export", "--branch", "krasnoyarsk", "--kind", "readings", "--period", "2026-11",
        "--format", "json", "-o", str(target), stderr=StringIO(),
    )  # fmt: skip
    assert json.loads(target.read_text(encoding="utf-8")) == expected


def test_import_balances_into_closed_period_is_refused(branch, accounts):
    BillingPeriod.objects.create(
        branch=branch, month=NOV, status=PeriodStatus.CLOSED, closed_at=NOW
    )
    parsed = parse((DATA / "balances.json").read_bytes())

    with pytest.raises(Conflict):
        import_balances(
            branch=branch, month=NOV, rows=parsed.rows, file_digest=parsed.digest, now=NOW
        )

    assert LedgerEntry.objects.count() == 0


def test_parse_rejects_a_file_without_header_or_not_utf8():
    with pytest.raises(ValidationFailed, match="заголовка"):
        parse(b"\n")
    with pytest.raises(ValidationFailed, match="UTF-8"):
        parse("account;service\n1;отопление\n".encode("cp1251"))
    with pytest.raises(ValidationFailed, match="список объектов"):
        parse(b'{"account": "240100000001"}')


def test_amounts_accept_spaces_and_a_comma_as_decimal_separator(branch, accounts):
    content = csv_bytes("account;service;amount", "240100000001;heating;1 234,56")
    parsed = parse(content)

    report = import_balances(
        branch=branch, month=NOV, rows=parsed.rows, file_digest=parsed.digest, now=NOW
    )

    assert (report.created, report.total) == (1, Decimal("1234.56"))
    assert LedgerEntry.objects.get().amount == Decimal("1234.56")


def test_command_export_payments_of_a_period_to_stdout(branch, accounts):
    LedgerEntry.objects.create(
        account=accounts[0], service=heating(), kind=EntryKind.PAYMENT, amount=Decimal("-75.00"),
        month=NOV, at=datetime(2026, 11, 30, 16, 59, tzinfo=UTC), source_ref="payment:9:1",
    )  # fmt: skip
    LedgerEntry.objects.create(
        account=accounts[0], service=heating(), kind=EntryKind.PAYMENT, amount=Decimal("-5.00"),
        month=NOV, at=datetime(2026, 11, 30, 17, 0, tzinfo=UTC), source_ref="payment:9:2",
    )  # fmt: skip
    out = StringIO()

    call_command(
        "billing_export", "--branch", "krasnoyarsk", "--kind", "payments", "--period", "2026-11",
        stdout=out,
    )  # fmt: skip

    assert out.getvalue() == (
        "account;service;date;amount;month;ref\n"
        "240100000001;heating;2026-11-30;75.00;2026-11;payment:9:1\n"
    )
