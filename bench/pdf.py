"""Bill PDFs per second, in-process on one core, beside a one-line Typst document.

    uv run python bench/pdf.py              # 300 bills
    uv run python bench/pdf.py -n 1000 --out /tmp/bills   # and keep a few PDFs to look at

Builds N distinct bills in memory (distinct ЛС numbers and sums, so every QR differs),
then times the whole path a download takes after the database: template data, the GOST
QR payload, the QR as SVG and the Typst PDF. The baseline is a one-line document compiled
by the same reused compiler: the floor Typst itself puts under any document. The last
line is the same bill with its data in `sys_inputs` (the alternative documents/render.py
explains). Pinned to one CPU when the OS allows, so "per core" means one core.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from abonent.accounts.models import Address, Branch, PersonalAccount  # noqa: E402
from abonent.billing.models import Bill  # noqa: E402
from abonent.documents import qr, render, selectors  # noqa: E402

MONTH = date(2026, 11, 1)
BRANCH = Branch(
    code="krsk",
    name="Красноярск",
    timezone="Asia/Krasnoyarsk",
    payee_name="АО «Енисейская теплоэнергетическая компания»",
    payee_inn="2460012345",
    payee_kpp="246001001",
    payee_account="40702810931000012345",
    bank_name="Красноярское отделение № 8646 ПАО Сбербанк",
    bank_bic="040407627",
    bank_corr_account="30101810800000000627",
    call_centre_phone="+73912000000",
)
ADDRESS = Address(branch=BRANCH, settlement="Красноярск", street="ул. Ленина", house="15", flat="7")


def bill_inputs(i: int) -> tuple[dict[str, object], str]:
    account = PersonalAccount(
        branch=BRANCH,
        number=f"{1_000_000_000 + i}",
        address=ADDRESS,
        owner_name="Иванова Анна Сергеевна",
        area=Decimal("54.30"),
        residents=2,
    )
    heating = Decimal("2400.00") + i % 997
    water = Decimal("1234.56") + i % 113
    total = heating + water + Decimal("150.00")
    bill = Bill(
        number=f"ЕПД-{MONTH:%Y%m}-{i:08d}",
        opening_balance=Decimal("150.00"),
        charged=heating + water,
        recalculated=Decimal("0.00"),
        paid=Decimal("0.00"),
        total_due=total,
        issued_at=datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
    )
    lines = [
        {
            "service": "Отопление",
            "volume": "1,512",
            "unit": "Гкал",
            "tariff": "2 586,0700",
            "method": "по нормативу",
            "amount": f"{heating:.2f}".replace(".", ","),
        },
        {
            "service": "Горячая вода",
            "volume": "4,200",
            "unit": "м³",
            "tariff": "293,9400",
            "method": "по счётчику",
            "amount": f"{water:.2f}".replace(".", ","),
        },
    ]
    data = selectors.bill_data(
        bill=bill, account=account, branch=BRANCH, month=MONTH, lines=lines, recalcs=[]
    )
    payload = qr.payment_qr_payload(
        branch=BRANCH,
        account=account,
        amount=total,
        period_month=MONTH,
        purpose=selectors.bill_purpose(account=account, month=MONTH),
    )
    return data, payload


def one_bill(i: int) -> bytes:
    data, payload = bill_inputs(i)
    return render.bill_pdf(data=data, qr_svg=qr.qr_svg(payload), timestamp=None)


ONE_LINE = "Привет, мир: одна строка № {}."
# The same bill with its data in `sys.inputs` instead of the entry source (the road not
# taken, see documents/render.py): new inputs invalidate all of Typst's caches.
SYS_INPUTS_ENTRY = (
    b'#import "bill.typ": bill\n#bill(json(bytes(sys.inputs.data)), bytes(sys.inputs.qr))\n'
)


def one_bill_by_sys_inputs(i: int) -> bytes:
    data, payload = bill_inputs(i)
    pdf = render.compiler().compile(
        input=SYS_INPUTS_ENTRY,
        format="pdf",
        sys_inputs={"data": render.to_json(data), "qr": qr.qr_svg(payload)},
        pdf_tags=False,
    )
    assert isinstance(pdf, bytes)
    return pdf


def rate(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return n / sum(times), statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    # Warm up: the first compile parses the template and loads the fonts.
    for i in range(5):
        one_bill(i)
        render.compile_pdf(ONE_LINE.format(i))

    base, base_ms = rate(lambda i: render.compile_pdf(ONE_LINE.format(i)), args.n)
    qr_rate, qr_ms = rate(lambda i: qr.qr_svg(bill_inputs(i)[1]), args.n)
    bills, bill_ms = rate(one_bill, args.n)
    via_inputs, via_inputs_ms = rate(one_bill_by_sys_inputs, args.n)
    print(f"one-line Typst document : {base:7.1f} /s  (median {base_ms:.2f} ms)")
    print(f"payment QR (payload+SVG): {qr_rate:7.1f} /s  (median {qr_ms:.2f} ms)")
    print(f"bill PDF, whole path    : {bills:7.1f} /s  (median {bill_ms:.2f} ms)  N={args.n}")
    print(f"bill / one-line ratio   : {bills / base:.0%}")
    print(f"same bill via sys_inputs: {via_inputs:7.1f} /s  (median {via_inputs_ms:.2f} ms)")
    if args.json:
        figures = {
            "bills": args.n,
            "bills_per_s": round(bills, 1),
            "bill_ms": round(bill_ms, 2),
            "one_line_per_s": round(base, 1),
            "one_line_ms": round(base_ms, 2),
            "qr_per_s": round(qr_rate, 1),
            "sys_inputs_per_s": round(via_inputs, 1),
        }
        args.json.write_text(json.dumps(figures, indent=1))  # fmt: skip
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for i in range(3):
            (args.out / f"bill-{i}.pdf").write_bytes(one_bill(i))


if __name__ == "__main__":
    main()
