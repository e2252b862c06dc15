"""Accounts web pages: the «Счета» list, linking with a confirm step, an ЛС's charges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _

from abonent.accounts import forms, selectors, services
from abonent.billing.selectors import HistoryMonth
from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.forms import form_add_domain_error
from abonent.core.http import client_ip, not_found_as_404


def _section(request: HttpRequest) -> None:
    request.section = "accounts"  # type: ignore[attr-defined]


@login_required
def accounts_view(request: HttpRequest) -> HttpResponse:
    """The «Счета» list (also the home page)."""
    _section(request)
    summaries = selectors.accounts_summary(user=request.user, today=clock.now().date())
    return render(request, "web/home.html", {"accounts": summaries})


@login_required
def link_view(request: HttpRequest) -> HttpResponse:
    """Step 1: the form; step 2: the ЛС found, shown for confirmation; step 3: linked."""
    _section(request)
    # The city of the customer's first ЛС (or the default one) is the likeliest answer.
    branch = selectors.branch_for_user(user_id=request.user.pk)
    form = forms.LinkForm(request.POST or None, initial={"branch": branch})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and "edit" not in request.POST:
            try:
                if request.POST.get("confirm"):
                    link = services.account_link(
                        user=request.user,
                        **form.service_args(),
                        label=form.cleaned_data["label"],
                        now=clock.now(),
                        ip=client_ip(request),
                    )
                    messages.success(request, _("Лицевой счёт добавлен."))
                    return redirect("accounts:detail", account_id=link.account_id)
                preview = services.account_preview(
                    user=request.user, **form.service_args(), now=clock.now(), ip=client_ip(request)
                )
                return render(
                    request, "accounts/link_confirm.html", {"form": form, "preview": preview}
                )
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
        elif "edit" in request.POST:
            status = 200
    return render(request, "accounts/link.html", {"form": form}, status=status)


def _month_param(value: str | None) -> date | None:
    match = re.fullmatch(r"(\d{4})-(\d{2})", (value or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


@dataclass(frozen=True)
class Bar:
    month: date
    total: Decimal
    x: int
    y: int
    height: int
    label_x: int
    current: bool
    show_label: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: int
    bar_width: int
    bars: list[Bar]
    maximum: Decimal


CHART_HEIGHT = 160
CHART_TOP = 12
CHART_BASELINE = 132
SLOT = 24


def chart_bars(history: list[HistoryMonth], *, current: date | None) -> Chart | None:
    """Geometry of a server-drawn SVG bar chart of monthly charges (no script needed)."""
    if not history:
        return None
    maximum = max((h.total for h in history), default=Decimal(0))
    scale = Decimal(CHART_BASELINE - CHART_TOP) / maximum if maximum > 0 else Decimal(0)
    every = 1 if len(history) <= 12 else 3
    bars = []
    for index, month in enumerate(history):
        height = int((max(month.total, Decimal(0)) * scale).to_integral_value())
        if month.total > 0:
            height = max(height, 2)
        x = index * SLOT + 4
        bars.append(
            Bar(
                month=month.month,
                total=month.total,
                x=x,
                y=CHART_BASELINE - height,
                height=height,
                label_x=x + (SLOT - 8) // 2,
                current=month.month == current,
                show_label=(len(history) - 1 - index) % every == 0 or month.month == current,
            )
        )
    return Chart(
        width=len(history) * SLOT + 4,
        height=CHART_HEIGHT,
        baseline=CHART_BASELINE,
        bar_width=SLOT - 8,
        bars=bars,
        maximum=maximum,
    )


@login_required
@not_found_as_404
def detail_view(request: HttpRequest, account_id: int) -> HttpResponse:
    _section(request)
    page = selectors.account_page(
        user=request.user,
        account_id=account_id,
        month=_month_param(request.GET.get("month")),
        today=clock.now().date(),
    )
    return render(
        request,
        "accounts/detail.html",
        {
            "page": page,
            "account": page.summary,
            "chart": chart_bars(page.history, current=page.month),
            "month_title": formats.date_format(page.month, "F Y").lower() if page.month else "",
        },
    )


def _account_form_page(
    request: HttpRequest,
    *,
    account_id: int,
    form: Any,
    template: str,
    action: Any,
) -> HttpResponse:
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                return action(form.cleaned_data)
            except DomainError as exc:
                form_add_domain_error(form, exc)
                status = exc.status
    account = selectors.account_detail(user=request.user, link_or_account_id=account_id)
    return render(request, template, {"form": form, "account": account}, status=status)


@login_required
@not_found_as_404
def rename_view(request: HttpRequest, account_id: int) -> HttpResponse:
    _section(request)

    def rename(data: dict[str, Any]) -> HttpResponse:
        services.account_rename(
            user=request.user,
            account_id=account_id,
            label=data["label"],
            now=clock.now(),
            ip=client_ip(request),
        )
        messages.success(request, _("Название сохранено."))
        return redirect("accounts:detail", account_id=account_id)

    if request.method == "POST":
        form = forms.RenameForm(request.POST)
    else:
        link = selectors.account_link_for_user(user=request.user, account_id=account_id)
        form = forms.RenameForm(initial={"label": link.label})
    return _account_form_page(
        request, account_id=account_id, form=form, template="accounts/rename.html", action=rename
    )


@login_required
@not_found_as_404
def unlink_view(request: HttpRequest, account_id: int) -> HttpResponse:
    _section(request)
    if request.method == "POST":
        services.account_unlink(
            user=request.user, account_id=account_id, now=clock.now(), ip=client_ip(request)
        )
        messages.success(request, _("Лицевой счёт убран из кабинета."))
        return redirect("web:home")
    account = selectors.account_detail(user=request.user, link_or_account_id=account_id)
    return render(request, "accounts/unlink.html", {"account": account})
