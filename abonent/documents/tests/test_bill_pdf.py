"""The bill PDF: its QR decodes from the rendered page with every field right; text extracts."""

from __future__ import annotations

from decimal import Decimal

import pymupdf
import pytest
import zxingcpp
from PIL import Image

from abonent.billing.models import Bill
from abonent.documents import render, services
from abonent.documents.tests import factories as f

pytestmark = pytest.mark.django_db


def page_text(pdf: bytes) -> str:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        assert doc.page_count == 1
        return " ".join(doc[0].get_text().split())


def decode_qr(pdf: bytes) -> str:
    """Render page 1 at 200 dpi and read the one QR code on it, as a phone would."""
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        pix = doc[0].get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
        image = bytes(pix.samples)
        width, height = pix.width, pix.height
    picture = Image.frombytes("L", (width, height), image)
    found = zxingcpp.read_barcodes(picture)
    assert len(found) == 1
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def fields_of(payload: str) -> dict[str, str]:
    header, *pairs = payload.split("|")
    assert header == "ST00012"
    names = [pair.split("=", 1)[0] for pair in pairs]
    assert len(names) == len(set(names))
    return dict(pair.split("=", 1) for pair in pairs)


def test_qr_on_the_rendered_page_carries_every_field() -> None:
    account = f.make_account()
    bill = f.october_bill(account)
    branch = account.branch

    _document, pdf = services.bill_render(bill=bill)

    assert pdf.startswith(b"%PDF-")
    fields = fields_of(decode_qr(pdf))
    assert fields == {
        "Name": "АО «Енисейская ТЭК» филиал",  # the "|" of the payee's name is stripped
        "PersonalAcc": branch.payee_account,
        "BankName": branch.bank_name,
        "BIC": branch.bank_bic,
        "CorrespAcc": branch.bank_corr_account,
        "PayeeINN": branch.payee_inn,
        "KPP": branch.payee_kpp,
        "persAcc": account.number,
        "Sum": "504772",  # 150.00 + 5144.69 − 146.97 − 100.00 = 5047.72 ₽
        "Purpose": f"Оплата ЕПД за 10.2026, ЛС {account.number}",
        "paymPeriod": "102026",
    }
    assert Decimal(fields["Sum"]) / 100 == bill.total_due


def test_qr_has_no_sum_when_the_account_is_in_advance() -> None:
    account = f.make_account()
    bill = f.make_bill(account, opening="-500.00", charged="300.00")

    _document, pdf = services.bill_render(bill=bill)

    fields = fields_of(decode_qr(pdf))
    assert "Sum" not in fields
    assert fields["persAcc"] == account.number
    text = page_text(pdf)
    assert "Аванс на начало периода 500,00" in text
    assert "Итого к оплате 0,00" in text
    assert "Оплата не требуется" in text


def test_bill_text_is_russian_and_extractable() -> None:
    account = f.make_account(owner_name="Щукина Ёлка Эдуардовна")
    bill = f.october_bill(account)

    _document, pdf = services.bill_render(bill=bill)

    text = page_text(pdf)
    for expected in (
        "Единый платёжный документ",
        "за октябрь 2026",
        "Щукина Ёлка Эдуардовна",
        f"лицевой счёт № {account.number}",
        "Красноярск, ул. Ленина, д. 15",
        "ИНН 2460012345 / КПП 246001001",
        "БИК 040407627",
        "Отопление 1,512 Гкал 2 586,07 по счётчику 3 910,14",
        "Горячее водоснабжение 4,20 м³ 293,94 по нормативу 1 234,55",
        "Перерасчёты",
        "09.2026 Показания переданы после начисления по среднему −146,97",
        "Задолженность на начало периода 150,00",
        "Оплачено в периоде 100,00",
        "Итого к оплате 5 047,72",
        "Оплатить по QR-коду в приложении банка",
        "call-центр +7 (391) 200-00-00 (Красноярск)",
    ):
        assert expected.replace(" ", "") in text.replace(" ", "").replace("\xa0", ""), expected


def test_hostile_text_is_printed_not_run() -> None:
    account = f.make_account(owner_name='Иванов #set page(width: 1cm) "] \\ )#panic("x")')
    bill = f.make_bill(account, charged="10.00")

    _document, pdf = services.bill_render(bill=bill)

    assert 'Иванов #set page(width: 1cm) "] \\ )#panic("x")' in page_text(pdf)


def test_a_bill_renders_the_same_bytes_twice() -> None:
    account = f.make_account()
    bill = f.october_bill(account)

    first = services.bill_render(bill=bill)[1]
    second = services.bill_render(bill=Bill.objects.get(pk=bill.pk))[1]

    assert first == second


def test_a_template_error_is_a_render_error() -> None:
    with pytest.raises(render.RenderError):
        render.compile_pdf("#panic()")
