"""«Счётчики» web pages: submit readings for several meters at once (with the confirm step
for a rollover or an unusual consumption), a meter's history with a chart, the PDF."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from abonent.core import clock
from abonent.core.errors import DomainError, NotFound
from abonent.core.http import client_ip, not_found_as_404
from abonent.documents.readings import readings_pdf_for_customer
from abonent.documents.responses import pdf_response
from abonent.meters import selectors, services
from abonent.meters.chart import consumption_chart
from abonent.meters.models import ReadingSource

_VALUE = re.compile(r"^v-(\d+)-(\d)$")
_CONFIRM = re.compile(r"^c-(\d+)-(rollover|high)$")


def _section(request: HttpRequest) -> None:
    request.section = "meters"  # type: ignore[attr-defined]


def _items(post: Any) -> tuple[list[services.ReadingInput], dict[str, str]]:
    """The typed values grouped by meter; a meter left blank is skipped."""
    values: dict[int, dict[int, str]] = {}
    entered: dict[str, str] = {}
    confirm: dict[int, set[str]] = {}
    for key in post:
        if match := _VALUE.match(key):
            meter_id, scale = int(match.group(1)), int(match.group(2))
            text = post.get(key, "").strip()[:40]
            entered[f"{meter_id}.{scale}"] = text
            values.setdefault(meter_id, {})[scale] = text
        elif match := _CONFIRM.match(key):
            confirm.setdefault(int(match.group(1)), set()).add(match.group(2))
            entered[f"c-{match.group(1)}-{match.group(2)}"] = "on"
    items = [
        services.ReadingInput(
            meter_id=meter_id,
            values={s: v for s, v in scales.items() if v},
            confirm=frozenset(confirm.get(meter_id, ())),
        )
        for meter_id, scales in sorted(values.items())
        if any(scales.values())
    ]
    return items, entered


@login_required
def meters_view(request: HttpRequest) -> HttpResponse:
    """Every linked ЛС with its meters and one form per ЛС for all of its meters."""
    _section(request)
    context: dict[str, Any] = {"title": _("Счётчики")}
    status = 200
    if request.method == "POST":
        items, entered = _items(request.POST)
        context.update(entered=entered, posted_account=request.POST.get("account", ""))
        try:
            if not items:
                raise DomainError(_("Введите показания хотя бы одного счётчика."), status=422)
            result = services.reading_submit(
                user=request.user,
                items=items,
                source=ReadingSource.WEB,
                now=clock.now(),
                ip=client_ip(request),
            )
        except services.ConfirmationRequired as exc:
            status = exc.status
            context.update(warnings=_group(exc.warnings), confirming=True)
        except DomainError as exc:
            status = exc.status
            context.update(error=exc.message, errors=_errors(exc))
        else:
            level = messages.WARNING if result.out_of_window else messages.SUCCESS
            messages.add_message(request, level, result.message)
            return redirect("web:meters")
    context["accounts"] = selectors.meters_overview(user=request.user, now=clock.now())
    return render(request, "meters/meters.html", context, status=status)


def _group(warnings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for warning in warnings:
        grouped.setdefault(str(warning["meter_id"]), []).append(warning)
    return grouped


def _errors(exc: DomainError) -> dict[str, str]:
    return {key: " ".join(messages) for key, messages in exc.fields.items()}


@login_required
@not_found_as_404
def meter_view(request: HttpRequest, meter_id: int) -> HttpResponse:
    """A meter's history: a chart of monthly consumption and every version in a table."""
    _section(request)
    page = selectors.meter_page(user=request.user, meter_id=meter_id)
    return render(
        request,
        "meters/meter.html",
        {"page": page, "chart": consumption_chart(page.history), "title": _("История показаний")},
    )


@login_required
def readings_pdf_view(request: HttpRequest, account_id: int) -> HttpResponse:
    try:
        document, content = readings_pdf_for_customer(
            user=request.user,
            account_id=account_id,
            raw_from=request.GET.get("from") or None,
            raw_to=request.GET.get("to") or None,
            now=clock.now(),
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:meters")
    return pdf_response(content, filename=document.filename, ascii_filename=document.ascii_filename)
