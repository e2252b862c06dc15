"""Web pages: «Оплата» (every ЛС and service, editable amounts, live total), the result,
the payments list and receipts, saved cards, autopay, the payment rules."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.http import client_ip, not_found_as_404
from abonent.documents.receipt import payment_receipt_render
from abonent.documents.responses import pdf_response
from abonent.payments import selectors, services
from abonent.payments.models import AutopayMode, PaymentPurpose
from abonent.payments.services.notify import failure_text
from abonent.payments.state import OPEN, PAID


def _section(request: HttpRequest) -> None:
    request.section = "pay"  # type: ignore[attr-defined]


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _parse_amount(raw: str) -> Decimal | str:
    """«1 234,50» → Decimal('1234.50'); empty → 0; junk is handed on as a string (the
    service then says what is wrong with it)."""
    text = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    if not text:
        return Decimal("0")
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


# ---------------------------------------------------------------- «Оплата»


@login_required
@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest) -> HttpResponse:
    _section(request)
    accounts = selectors.pay_form_accounts(user=request.user, today=clock.now().date())
    cards = list(selectors.card_list_for_user(user=request.user))
    only = request.GET.get("account", "")
    error = ""
    field_errors: dict[str, str] = {}
    status = 200
    values: dict[str, str] = {}
    included = {
        a.summary.account_id for a in accounts if not only or str(a.summary.account_id) == only
    }
    method = request.POST.get("method") or (str(cards[-1].pk) if cards else "new")
    if request.method == "POST":
        included = {
            a.summary.account_id
            for a in accounts
            if request.POST.get(f"include_{a.summary.account_id}")
        }
        lines: list[services.LineInput] = []
        index_of: dict[int, str] = {}
        for account in accounts:
            for line in account.lines:
                values[line.field] = request.POST.get(line.field, "").strip()
                if account.summary.account_id not in included:
                    continue
                index_of[len(lines)] = line.field
                lines.append(
                    services.LineInput(
                        line.account_id, line.service_id, _parse_amount(values[line.field])
                    )
                )
        try:
            if not lines:
                raise DomainError(_("Выберите хотя бы один лицевой счёт."), code="no_lines")
            result = services.payment_start(
                user=request.user,
                lines=lines,
                consent=bool(request.POST.get("consent")),
                card_id=int(method) if method.isdigit() else None,
                save_card=method == "new" and bool(request.POST.get("save_card")),
                idempotency_key=request.POST.get("idempotency_key", ""),
                site_url=_site_url(request),
                now=clock.now(),
                ip=client_ip(request),
            )
        except DomainError as exc:
            error, status = exc.message, exc.status
            for name, msgs in exc.fields.items():
                parts = name.split(".")
                if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit():
                    field_errors[index_of.get(int(parts[1]), "")] = msgs[0]
                elif msgs:
                    field_errors[name] = msgs[0]
        else:
            payment = result.payment
            if payment.status in OPEN and payment.confirmation_url:
                return redirect(payment.confirmation_url)
            return redirect("payments:result", payment_id=payment.pk)
    rows = [
        {
            "account": account,
            "included": account.summary.account_id in included,
            "lines": [
                {
                    "line": line,
                    "value": values.get(line.field, f"{line.due:.2f}".replace(".", ",")),
                    "error": field_errors.get(line.field, ""),
                }
                for line in account.lines
            ],
        }
        for account in accounts
    ]
    return render(
        request,
        "payments/pay.html",
        {
            "title": _("Оплата"),
            "rows": rows,
            "cards": cards,
            "method": method,
            "save_card": request.POST.get("save_card", "1" if request.method == "GET" else ""),
            "consent": bool(request.POST.get("consent")),
            "error": error,
            "consent_error": field_errors.get("consent", ""),
            "idempotency_key": request.POST.get("idempotency_key") or secrets.token_hex(16),
            "line_max": services.validation.line_max(),
        },
        status=status,
    )


def pay_rules(request: HttpRequest) -> HttpResponse:
    return render(request, "payments/rules.html", {"title": _("Правила оплаты")})


def _payment_context(payment: Any) -> dict[str, Any]:
    return {
        "payment": payment,
        "is_open": payment.status in OPEN,
        "is_paid": payment.status in PAID,
        "failure": failure_text(payment.failure_reason) if payment.failure_reason else "",
    }


@login_required
@not_found_as_404
def result_page(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Where the bank sends the customer back, and a payment's own page."""
    _section(request)
    payment = selectors.payment_for_user(
        user=request.user, payment_id=payment_id, purpose=PaymentPurpose.DUES
    )
    if payment.status in OPEN:
        services.payment_refresh(payment=payment, now=clock.now())
        payment = selectors.payment_for_user(user=request.user, payment_id=payment_id)
    template = (
        "payments/_status.html" if request.headers.get("HX-Request") else "payments/result.html"
    )
    return render(
        request,
        template,
        {"title": _("Платёж № %(id)s") % {"id": payment.pk}, **_payment_context(payment)},
    )


@login_required
def payment_list_page(request: HttpRequest) -> HttpResponse:
    _section(request)
    page = Paginator(selectors.payment_list_for_user(user=request.user), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "payments/list.html", {"title": _("История платежей"), "page": page})


@login_required
@not_found_as_404
def receipt_pdf(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = selectors.payment_for_user(
        user=request.user, payment_id=payment_id, purpose=PaymentPurpose.DUES
    )
    if payment.status not in PAID:
        raise Http404(_("Квитанция будет готова, когда платёж пройдёт."))
    document = payment_receipt_render(payment=payment)
    return pdf_response(
        document.content, filename=document.filename, ascii_filename=document.ascii_filename
    )


# ---------------------------------------------------------------- cards


@login_required
def cards_page(request: HttpRequest) -> HttpResponse:
    _section(request)
    return render(
        request,
        "payments/cards.html",
        {"title": _("Карты оплаты"), "cards": selectors.card_list_for_user(user=request.user)},
    )


@login_required
@require_POST
def card_add(request: HttpRequest) -> HttpResponse:
    try:
        check = services.card_check_start(
            user=request.user,
            site_url=_site_url(request),
            now=clock.now(),
            ip=client_ip(request),
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("payments:cards")
    if check.status in OPEN and check.confirmation_url:
        return redirect(check.confirmation_url)
    return redirect("payments:card_result", payment_id=check.pk)


@login_required
@not_found_as_404
def card_result(request: HttpRequest, payment_id: int) -> HttpResponse:
    _section(request)
    check = selectors.payment_for_user(
        user=request.user, payment_id=payment_id, purpose=PaymentPurpose.CARD_CHECK
    )
    if check.status in OPEN:
        services.payment_refresh(payment=check, now=clock.now())
        check = selectors.payment_for_user(user=request.user, payment_id=payment_id)
    template = (
        "payments/_card_status.html"
        if request.headers.get("HX-Request")
        else "payments/card_result.html"
    )
    return render(request, template, {"title": _("Новая карта"), **_payment_context(check)})


@login_required
@not_found_as_404
@require_http_methods(["GET", "POST"])
def card_rename(request: HttpRequest, card_id: int) -> HttpResponse:
    _section(request)
    card = services.validation.card_for_user(user=request.user, card_id=card_id)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            services.card_rename(
                user=request.user,
                card_id=card_id,
                title=request.POST.get("title", ""),
                now=clock.now(),
                ip=client_ip(request),
            )
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("Название карты сохранено."))
            return redirect("payments:cards")
    return render(
        request,
        "payments/card_rename.html",
        {"title": _("Название карты"), "card": card, "error": error},
        status=status,
    )


@login_required
@not_found_as_404
@require_http_methods(["GET", "POST"])
def card_delete(request: HttpRequest, card_id: int) -> HttpResponse:
    _section(request)
    card = services.validation.card_for_user(user=request.user, card_id=card_id)
    if request.method == "POST":
        services.card_delete(
            user=request.user, card_id=card_id, now=clock.now(), ip=client_ip(request)
        )
        messages.success(request, _("Карта удалена."))
        return redirect("payments:cards")
    return render(request, "payments/card_delete.html", {"title": _("Удалить карту"), "card": card})


# ---------------------------------------------------------------- autopay


@login_required
@require_http_methods(["GET", "POST"])
def autopay_page(request: HttpRequest) -> HttpResponse:
    _section(request)
    accounts = selectors.pay_form_accounts(user=request.user)
    cards = list(selectors.card_list_for_user(user=request.user))
    settings_by_account = {
        s.account_id: s for s in selectors.autopay_list_for_user(user=request.user)
    }
    errors: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        account_id = int(request.POST.get("account", "0") or 0)
        try:
            if request.POST.get("delete"):
                services.autopay_delete(
                    user=request.user, account_id=account_id, now=clock.now(), ip=client_ip(request)
                )
                messages.success(request, _("Автоплатёж отключён."))
            else:
                day = request.POST.get("day", "")
                services.autopay_save(
                    user=request.user,
                    account_id=account_id,
                    card_id=int(request.POST.get("card", "0") or 0),
                    mode=request.POST.get("mode", ""),
                    day=int(day) if day.isdigit() else None,
                    cap=_parse_amount(request.POST.get("cap", "")),
                    enabled=True,
                    now=clock.now(),
                    ip=client_ip(request),
                )
                messages.success(request, _("Автоплатёж сохранён."))
        except DomainError as exc:
            errors[account_id] = exc.message
            status = exc.status
        else:
            return redirect("payments:autopay")
    return render(
        request,
        "payments/autopay.html",
        {
            "title": _("Автоплатёж"),
            "rows": [
                {
                    "account": a.summary,
                    "setting": settings_by_account.get(a.summary.account_id),
                    "error": errors.get(a.summary.account_id, ""),
                }
                for a in accounts
            ],
            "cards": cards,
            "modes": AutopayMode,
            "days": range(1, 29),
        },
        status=status,
    )
