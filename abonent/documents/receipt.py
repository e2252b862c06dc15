"""The payment receipt («Квитанция об оплате»): what was paid for each ЛС and service, when,
how and the acquirer's transaction id, with the link to the 54-ФЗ fiscal receipt when the
acquirer gave one. Data built here; the layout is `templates/documents/receipt.typ`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from abonent.core.errors import Conflict
from abonent.documents import format as fmt
from abonent.documents.render import compile_pdf, to_json, typst_string
from abonent.identity.phones import format_phone

PAID = ("succeeded", "partially_refunded", "refunded")
GATEWAYS = {"sandbox": "Тестовый эквайер (песочница)", "yookassa": "ЮKassa"}


@dataclass(frozen=True)
class ReceiptDocument:
    filename: str
    ascii_filename: str
    data: dict[str, Any]
    content: bytes = b""


def payment_receipt_data(*, payment: Any) -> dict[str, Any]:
    """Everything the receipt prints, as strings (the payment with lines prefetched)."""
    lines = list(payment.lines.all())
    branch = lines[0].account.branch
    zone = ZoneInfo(branch.timezone)
    paid_at = (payment.paid_at or payment.updated_at).astimezone(zone)
    card = f"{payment.card_brand} •• {payment.card_last4}".strip(" •")
    user = payment.user
    return {
        "number": str(payment.pk),
        "paid_at": f"{paid_at:%d.%m.%Y %H:%M} ({branch.timezone})",
        "method": _("Банковская карта %(card)s") % {"card": card}
        if card
        else _("Банковская карта"),
        "gateway": GATEWAYS.get(payment.gateway, payment.gateway),
        "transaction": payment.gateway_payment_id or "—",
        "payer": " ".join(p for p in (user.last_name, user.first_name, user.patronymic) if p),
        "contact": user.email or format_phone(user.phone or ""),
        "payee": {
            "name": branch.payee_name,
            "inn": branch.payee_inn,
            "kpp": branch.payee_kpp,
            "account": branch.payee_account,
            "bank": branch.bank_name,
            "bic": branch.bank_bic,
        },
        "lines": [
            {
                "account": line.account.number,
                "address": str(line.account.address),
                "service": line.service.name,
                "amount": fmt.amount(line.amount),
            }
            for line in lines
        ],
        "total": fmt.amount(payment.amount),
        "refunded": fmt.amount(payment.refunded_amount) if payment.refunded_amount else "",
        "status": str(payment.get_status_display()),
        "fiscal_url": payment.fiscal_receipt_url,
        "commission": "0,00",
    }


def payment_receipt_render(*, payment: Any) -> ReceiptDocument:
    if payment.status not in PAID:
        raise Conflict(_("Квитанция будет готова, когда платёж пройдёт."), code="receipt_not_ready")
    data = payment_receipt_data(payment=payment)
    source = (
        f'#import "receipt.typ": receipt\n#receipt(json(bytes({typst_string(to_json(data))})))\n'
    )
    content = compile_pdf(source, timestamp=payment.paid_at)
    return ReceiptDocument(
        filename=f"Квитанция об оплате № {payment.pk}.pdf",
        ascii_filename=f"payment-{payment.pk}.pdf",
        data=data,
        content=content,
    )
