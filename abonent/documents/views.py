"""Web pages for documents: a linked ЛС's bills, and the PDFs (same rules as the API)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from abonent.core import clock
from abonent.core.errors import NotFound, ValidationFailed
from abonent.documents import selectors, services
from abonent.documents.responses import pdf_response


@login_required
def bill_list(request: HttpRequest, account_id: int) -> HttpResponse:
    try:
        account = selectors.account_for_customer(user=request.user, account_id=account_id)
        bills = selectors.bill_list_for_customer(user=request.user, account_id=account_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    today = clock.now().astimezone(ZoneInfo(account.branch.timezone)).date()
    month_from, month_to = selectors.statement_range(raw_from=None, raw_to=None, today=today)
    return render(
        request,
        "documents/bill_list.html",
        {
            "title": _("Квитанции и выписка"),
            "account": account,
            "bills": bills,
            "month_from": f"{month_from:%Y-%m}",
            "month_to": f"{month_to:%Y-%m}",
        },
    )


@login_required
def bill_pdf(request: HttpRequest, bill_id: int) -> HttpResponse:
    try:
        bill = selectors.bill_for_customer(user=request.user, bill_id=bill_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    document, content = services.bill_render(bill=bill)
    return pdf_response(content, filename=document.filename, ascii_filename=document.ascii_filename)


@login_required
def statement_pdf(request: HttpRequest, account_id: int) -> HttpResponse:
    try:
        account = selectors.account_for_customer(user=request.user, account_id=account_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    now = clock.now()
    try:
        month_from, month_to = selectors.statement_range(
            raw_from=request.GET.get("from") or None,
            raw_to=request.GET.get("to") or None,
            today=now.astimezone(ZoneInfo(account.branch.timezone)).date(),
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("documents:bill_list", account_id=account.pk)
    document, content = services.statement_render(
        account=account, month_from=month_from, month_to=month_to, now=now
    )
    return pdf_response(content, filename=document.filename, ascii_filename=document.ascii_filename)
