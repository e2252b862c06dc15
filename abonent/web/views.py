from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control

from abonent.accounts.views import accounts_view

SECTIONS = {
    "meters": _("Счётчики"),
}


def home(request: HttpRequest) -> HttpResponse:
    """«Счета»: the list of linked ЛС with balances (the accounts app's page)."""
    return accounts_view(request)


@login_required
def section(request: HttpRequest, section: str) -> HttpResponse:
    request.section = section  # type: ignore[attr-defined]
    return render(request, f"web/{section}.html", {"title": SECTIONS[section]})


def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "web/terms.html")


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "web/privacy.html")


def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "web/offline.html")


@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> HttpResponse:
    return render(request, "web/manifest.webmanifest", content_type="application/manifest+json")


@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    response = render(request, "web/sw.js", content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """Readiness for the load balancer and monitoring: the database answers; the jobs kept in
    the outbox while the broker was down are counted (a growing count means the broker or
    the relay is down — pages and payments still work meanwhile)."""
    from abonent.core.outbox import outbox_state

    state = outbox_state()
    oldest = state.oldest_at.isoformat() if state.oldest_at else None
    return JsonResponse({"status": "ok", "outbox": {"pending": state.pending, "oldest_at": oldest}})
