"""Producing documents: gather the data (selectors), draw the QR, compile the PDF.

Nothing here writes to the database; a bill's PDF is rendered on request (about 10 ms),
which is cheaper than storing and invalidating a file per bill.
"""

from __future__ import annotations

from datetime import date, datetime

from abonent.accounts.models import PersonalAccount
from abonent.billing.models import Bill
from abonent.documents import qr, render, selectors


def bill_render(*, bill: Bill) -> tuple[selectors.BillDocument, bytes]:
    document = selectors.bill_document(bill=bill)
    pdf = render.bill_pdf(
        data=document.data, qr_svg=qr.qr_svg(document.qr_payload), timestamp=document.issued_at
    )
    return document, pdf


def statement_render(
    *, account: PersonalAccount, month_from: date, month_to: date, now: datetime
) -> tuple[selectors.StatementDocument, bytes]:
    document = selectors.statement_document(
        account=account, month_from=month_from, month_to=month_to, now=now
    )
    return document, render.statement_pdf(data=document.data, timestamp=now)
