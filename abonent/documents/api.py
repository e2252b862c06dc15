"""Documents API: the bills of a linked ЛС, a bill's PDF, a statement PDF."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from abonent.billing.models import Bill
from abonent.core import clock
from abonent.core.pagination import Pagination
from abonent.documents import selectors, services
from abonent.documents.responses import pdf_response
from abonent.identity.auth import customer_auth

router = Router(tags=["Квитанции и выписки"], auth=customer_auth)

PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


class BillOut(Schema):
    id: int
    period: date
    number: str
    opening_balance: Decimal
    charged: Decimal
    recalculated: Decimal
    paid: Decimal
    total_due: Decimal
    issued_at: datetime
    pdf_url: str

    @staticmethod
    def resolve_period(obj: object) -> date:
        return obj.period.month  # type: ignore[attr-defined]

    @staticmethod
    def resolve_pdf_url(obj: object) -> str:
        return reverse("api:bill_pdf", kwargs={"bill_id": obj.pk})  # type: ignore[attr-defined]


@router.get(
    "/accounts/{id:account_id}/bills",
    response=list[BillOut],
    summary="Квитанции (ЕПД) по лицевому счёту",
)
@paginate(Pagination)
def bill_list(request: HttpRequest, account_id: int) -> list[Bill]:
    return selectors.bill_list_for_customer(user=request.user, account_id=account_id)


@router.get(
    "/bills/{id:bill_id}.pdf",
    url_name="bill_pdf",
    summary="Квитанция (ЕПД) в PDF с QR-кодом для оплаты",
    openapi_extra=PDF_RESPONSE,
)
def bill_pdf(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = selectors.bill_for_customer(user=request.user, bill_id=bill_id)
    document, content = services.bill_render(bill=bill)
    return pdf_response(content, filename=document.filename, ascii_filename=document.ascii_filename)


@router.get(
    "/accounts/{id:account_id}/statement.pdf",
    summary="Выписка начислений и оплат за период (PDF)",
    openapi_extra=PDF_RESPONSE,
)
def statement_pdf(
    request: HttpRequest,
    account_id: int,
    month_from: str | None = Query(None, alias="from", description="ГГГГ-ММ"),
    month_to: str | None = Query(None, alias="to", description="ГГГГ-ММ"),
) -> HttpResponse:
    account = selectors.account_for_customer(user=request.user, account_id=account_id)
    now = clock.now()
    first, last = selectors.statement_range(
        raw_from=month_from,
        raw_to=month_to,
        today=now.astimezone(ZoneInfo(account.branch.timezone)).date(),
    )
    document, content = services.statement_render(
        account=account, month_from=first, month_to=last, now=now
    )
    return pdf_response(content, filename=document.filename, ascii_filename=document.ascii_filename)
