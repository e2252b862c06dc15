"""Customer pages of «Обращения»: the list, a new appeal, a thread with live updates,
close / rate / reopen, and a call-back request. (Operator pages: operator_views.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from abonent.accounts.selectors import account_links_for_user, branch_for_user
from abonent.appeals import forms, selectors, services
from abonent.appeals.models import Message, Side
from abonent.core import clock
from abonent.core.errors import DomainError, NotFound
from abonent.core.forms import form_add_domain_error
from abonent.core.http import client_ip, not_found_as_404


def _section(request: HttpRequest) -> None:
    request.section = "appeals"  # type: ignore[attr-defined]


def wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def message_json(message: Message) -> JsonResponse:
    return JsonResponse(
        {"ok": True, "message": selectors.message_payload_fresh(message_id=message.pk)},
        status=201,
    )


def error_json(exc: DomainError) -> JsonResponse:
    return JsonResponse({"ok": False, **exc.as_dict()}, status=exc.status)


@login_required
def appeal_list_view(request: HttpRequest) -> HttpResponse:
    """«Обращения»: the customer's appeals with statuses and unread counts (web:appeals)."""
    _section(request)
    appeals = list(selectors.appeal_list_for_customer(user=request.user))
    return render(request, "appeals/list.html", {"title": _("Обращения"), "appeals": appeals})


def _account_choices(user: Any) -> list[tuple[int, str]]:
    return [
        (
            link.account_id,
            f"{link.label or _('ЛС')} {link.account.number} — {link.account.address}",
        )
        for link in account_links_for_user(user=user)
    ]


@login_required
def appeal_new_view(request: HttpRequest) -> HttpResponse:
    _section(request)
    form = forms.AppealForm(
        request.POST or None, request.FILES or None, accounts=_account_choices(request.user)
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                appeal = services.appeal_create(
                    user=request.user,
                    category_id=data["category"].pk,
                    account_id=data.get("account") or None,
                    subject=data["subject"],
                    body=data["body"],
                    files=request.FILES.getlist("attachments"),
                    now=clock.now(),
                    ip=client_ip(request),
                )
            except DomainError as exc:
                form_add_domain_error(form, exc, field_map={"files": "attachments"})
                status = exc.status
            else:
                messages.success(request, _("Обращение отправлено."))
                return redirect("appeals:detail", appeal_id=appeal.pk)
    branch = branch_for_user(user_id=request.user.pk)
    expect = selectors.expectations(branch=branch, now=clock.now()) if branch else None
    return render(
        request,
        "appeals/new.html",
        {
            "title": _("Новое обращение"),
            "form": form,
            "categories": list(selectors.category_list()),
            "expect": expect,
            "branch": branch,
        },
        status=status,
    )


def _thread_context(request: HttpRequest, appeal_id: int) -> dict[str, Any]:
    appeal = selectors.appeal_for_customer(user=request.user, appeal_id=appeal_id)
    view = selectors.thread_view(appeal=appeal, side=Side.CUSTOMER, now=clock.now())
    return {
        "title": appeal.subject,
        "appeal": appeal,
        "view": view,
        "tz": appeal.branch.timezone,
        "form": forms.MessageForm(),
        "rate_form": forms.RateForm(initial={"rating": appeal.rating}),
        "reopen_days": selectors.reopen_days(),
    }


@login_required
@not_found_as_404
def appeal_detail_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """The thread; opening it marks the specialists' messages read."""
    _section(request)
    context = _thread_context(request, appeal_id)
    services.appeal_mark_read(
        appeal_id=appeal_id, user=request.user, last_id=context["view"].last_id, now=clock.now()
    )
    return render(request, "appeals/detail.html", context)


@login_required
@require_POST
@not_found_as_404
def appeal_message_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """A message from the thread page: JSON for the page's script, a redirect without it."""
    _section(request)
    form = forms.MessageForm(request.POST, request.FILES)
    form.is_valid()
    try:
        message = services.message_send(
            appeal_id=appeal_id,
            user=request.user,
            body=form.cleaned_data.get("body", ""),
            files=request.FILES.getlist("attachments"),
            now=clock.now(),
            ip=client_ip(request),
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        if wants_json(request):
            return error_json(exc)
        context = _thread_context(request, appeal_id)
        form_add_domain_error(form, exc, field_map={"files": "attachments"})
        context["form"] = form
        return render(request, "appeals/detail.html", context, status=exc.status)
    if wants_json(request):
        return message_json(message)
    return redirect(f"{reverse('appeals:detail', args=[appeal_id])}#m{message.pk}")


def _action(
    request: HttpRequest, appeal_id: int, action: Callable[[], Any], done: str
) -> HttpResponse:
    try:
        action()
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("appeals:detail", appeal_id=appeal_id)


@login_required
@require_POST
@not_found_as_404
def appeal_close_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _action(
        request,
        appeal_id,
        lambda: services.appeal_close(appeal_id=appeal_id, user=request.user, now=clock.now()),
        _("Обращение закрыто. Спасибо!"),
    )


@login_required
@require_POST
@not_found_as_404
def appeal_reopen_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _action(
        request,
        appeal_id,
        lambda: services.appeal_reopen(appeal_id=appeal_id, user=request.user, now=clock.now()),
        _("Обращение снова открыто: напишите, что осталось нерешённым."),
    )


@login_required
@require_POST
@not_found_as_404
def appeal_rate_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    form = forms.RateForm(request.POST)
    if not form.is_valid():
        selectors.appeal_for_customer(user=request.user, appeal_id=appeal_id)
        messages.error(request, _("Поставьте оценку от 1 до 5."))
        return redirect("appeals:detail", appeal_id=appeal_id)
    return _action(
        request,
        appeal_id,
        lambda: services.appeal_rate(
            appeal_id=appeal_id,
            user=request.user,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
            now=clock.now(),
        ),
        _("Спасибо за оценку!"),
    )


def _slot_label(start: Any, end: Any, tz: ZoneInfo) -> str:
    a, b = start.astimezone(tz), end.astimezone(tz)
    day = formats.date_format(a, "l, j E").lower()
    return f"{day}, {a:%H:%M}–{b:%H:%M}"


@login_required
@not_found_as_404
def callback_view(request: HttpRequest) -> HttpResponse:
    """«Перезвоните мне»: a slot of the branch's working time, for an appeal or in general."""
    _section(request)
    raw_appeal = request.GET.get("appeal") or request.POST.get("appeal") or ""
    appeal = (
        selectors.appeal_for_customer(user=request.user, appeal_id=int(raw_appeal))
        if raw_appeal.isdigit()
        else None
    )
    branch = appeal.branch if appeal else branch_for_user(user_id=request.user.pk)
    if branch is None:
        raise Http404
    now = clock.now()
    tz = ZoneInfo(branch.timezone)
    slots = selectors.callback_slots_for(branch=branch, now=now)
    choices = [(start.isoformat(), _slot_label(start, end, tz)) for start, end in slots]
    form = forms.CallbackForm(request.POST or None, slots=choices)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.callback_request_create(
                    user=request.user,
                    appeal_id=appeal.pk if appeal else None,
                    slot_from=datetime.fromisoformat(form.cleaned_data["slot"]),
                    phone=form.cleaned_data["phone"] or None,
                    now=now,
                )
            except DomainError as exc:
                form_add_domain_error(form, exc, field_map={"starts_at": "slot"})
                status = exc.status
            else:
                messages.success(request, _("Специалист позвонит в выбранное время."))
                if appeal:
                    return redirect("appeals:detail", appeal_id=appeal.pk)
                return redirect("web:appeals")
    return render(
        request,
        "appeals/callback.html",
        {"title": _("Заказать звонок"), "form": form, "appeal": appeal, "branch": branch},
        status=status,
    )
