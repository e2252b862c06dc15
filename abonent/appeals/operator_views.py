"""The operator console: the queue by deadline with filters, a thread with live answers,
canned answers, internal notes, take / hand over / close, the customer's ЛС, balances and
recent payments
beside it, and a report of answer times. Staff in the «Операторы» group only; anyone else
gets a 404 (the console is not advertised)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from abonent.accounts.selectors import accounts_summary, branch_list
from abonent.appeals import forms, selectors, services
from abonent.appeals.models import AppealStatus, Side
from abonent.appeals.views import error_json, message_json, wants_json
from abonent.core import clock
from abonent.core.errors import DomainError, NotFound
from abonent.core.http import client_ip, not_found_as_404
from abonent.payments.selectors import payment_list_for_user
from abonent.privacy.services import STAFF_VIEWED, staff_access_record_safely

QUEUE_PAGE = 50


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.is_operator(request.user):
            raise Http404
        return not_found_as_404(view)(request, *args, **kwargs)

    return wrapper


def _filters_form(request: HttpRequest) -> forms.QueueFilterForm:
    return forms.QueueFilterForm(
        request.GET or None,
        branches=[(b.pk, b.name) for b in branch_list()],
        categories=[(c.pk, c.name) for c in selectors.category_list()],
        statuses=[(s.value, str(s.label)) for s in AppealStatus if s != AppealStatus.CLOSED],
    )


@operator_required
def queue_view(request: HttpRequest) -> HttpResponse:
    form = _filters_form(request)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.QueueFilters(
        branch_id=data.get("branch") or None,
        category_id=data.get("category") or None,
        status=data.get("status") or None,
        mine=bool(data.get("mine")),
    )
    queue = selectors.operator_queue(filters=filters, operator=request.user)
    page = Paginator(queue, QUEUE_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "appeals/operator/queue.html",
        {
            "title": _("Очередь обращений"),
            "form": form,
            "page": page,
            "now": clock.now(),
            "callbacks": selectors.open_callbacks().order_by("slot_from")[:20],
            "query": request.GET.urlencode(),
        },
    )


@operator_required
def appeal_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = selectors.appeal_for_operator(appeal_id=appeal_id)
    now = clock.now()
    view = selectors.thread_view(appeal=appeal, side=Side.OPERATOR, now=now, include_internal=True)
    services.appeal_mark_read(
        appeal_id=appeal_id, user=request.user, last_id=view.last_id, now=now, as_operator=True
    )
    operators = [(u.pk, u.full_name or str(u)) for u in selectors.operator_list()]
    # The page shows the customer's ЛС, balances and payments: a staff read, audited.
    staff_access_record_safely(
        actor=request.user,
        action=STAFF_VIEWED,
        object_type=appeal._meta.label_lower,
        object_id=str(appeal.pk),
        subject_user_ids=[appeal.user_id],
        ip=client_ip(request),
        now=now,
        data={"via": "console"},
        throttle=True,
    )
    return render(
        request,
        "appeals/operator/appeal.html",
        {
            "title": _("Обращение № %(n)d") % {"n": appeal.pk},
            "appeal": appeal,
            "view": view,
            "tz": appeal.branch.timezone,
            "form": forms.OperatorMessageForm(),
            "hand_over_form": forms.HandOverForm(operators=operators),
            "canned": selectors.canned_answers_for(category=appeal.category),
            "accounts": accounts_summary(user=appeal.user, today=now.date()),
            "payments": payment_list_for_user(user=appeal.user)[:5],
            "customer": appeal.user,
            "overdue": appeal.first_answered_at is None and now > appeal.deadline_at,
        },
    )


@operator_required
@require_POST
def message_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    form = forms.OperatorMessageForm(request.POST, request.FILES)
    form.is_valid()
    data = form.cleaned_data
    try:
        message = services.message_send(
            appeal_id=appeal_id,
            user=request.user,
            body=data.get("body", ""),
            files=request.FILES.getlist("attachments"),
            now=clock.now(),
            as_operator=True,
            internal=bool(data.get("internal")),
            waiting_customer=bool(data.get("waiting")),
            ip=client_ip(request),
        )
    except NotFound:
        raise
    except DomainError as exc:
        if wants_json(request):
            return error_json(exc)
        messages.error(request, exc.message)
        return redirect("appeals:operator_appeal", appeal_id=appeal_id)
    if wants_json(request):
        return message_json(message)
    return redirect("appeals:operator_appeal", appeal_id=appeal_id)


def _operator_action(
    request: HttpRequest, appeal_id: int, action: Callable[[], Any], done: str, *, back: str = ""
) -> HttpResponse:
    try:
        action()
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    if back:
        return redirect(back)
    return redirect("appeals:operator_appeal", appeal_id=appeal_id)


@operator_required
@require_POST
def take_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _operator_action(
        request,
        appeal_id,
        lambda: services.appeal_take(appeal_id=appeal_id, operator=request.user, now=clock.now()),
        _("Обращение в работе у вас."),
    )


@operator_required
@require_POST
def hand_over_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    raw = request.POST.get("to", "")
    return _operator_action(
        request,
        appeal_id,
        lambda: services.appeal_hand_over(
            appeal_id=appeal_id,
            operator=request.user,
            to_user_id=int(raw) if raw.isdigit() else 0,
            note=request.POST.get("note", ""),
            now=clock.now(),
        ),
        _("Обращение передано."),
    )


@operator_required
@require_POST
def close_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    return _operator_action(
        request,
        appeal_id,
        lambda: services.appeal_close(
            appeal_id=appeal_id, user=request.user, now=clock.now(), as_operator=True
        ),
        _("Обращение закрыто."),
    )


@operator_required
@require_POST
def callback_done_view(request: HttpRequest, callback_id: int) -> HttpResponse:
    services.callback_done(callback_id=callback_id, operator=request.user, now=clock.now())
    messages.success(request, _("Звонок отмечен."))
    return redirect("appeals:operator_queue")


def _date(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


@operator_required
def report_view(request: HttpRequest) -> HttpResponse:
    today = clock.now().date()
    date_to = _date(request.GET.get("to"), today)
    date_from = _date(request.GET.get("from"), date_to - timedelta(days=29))
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    report = selectors.answer_time_report(date_from=date_from, date_to=date_to, now=clock.now())
    return render(
        request,
        "appeals/operator/report.html",
        {"title": _("Время ответа"), "report": report},
    )
