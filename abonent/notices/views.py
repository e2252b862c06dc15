"""«Информация»: outages at my addresses, notifications (unread first, live), news, the
receipts archive and the notification settings."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST
from django.views.static import serve

from abonent.core import clock
from abonent.core.errors import NotFound, ValidationFailed
from abonent.core.http import client_ip
from abonent.notices import selectors, services
from abonent.notices.models import Channel, NotificationKind

PAGE_SIZE = 20


def _page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A signed-in page of the «Информация» section; a foreign object is a plain 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.section = "info"  # type: ignore[attr-defined]
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapper


def _unread(request: HttpRequest) -> int:
    """Counted once per request: the navigation badge reuses it."""
    count = selectors.notification_unread_count(user=request.user)
    request.notices_unread = count  # type: ignore[attr-defined]
    return count


def _kind(request: HttpRequest) -> str | None:
    kind = request.GET.get("kind") or None
    return kind if kind in NotificationKind.values else None


@_page
def info_view(request: HttpRequest) -> HttpResponse:
    """The section's front page: outages first, then the latest notices and news."""
    now = clock.now()
    context = {
        "title": _("Информация"),
        "tab": "info",
        "notices": list(selectors.notification_list_for_user(user=request.user)[:5]),
        "unread": _unread(request),
    }
    if request.headers.get("HX-Request"):  # the live refresh of the notices block
        return render(request, "notices/_info_notices.html", context)
    context["outages"] = selectors.outage_list_for_user(user=request.user, now=now)
    context["news"] = list(selectors.news_list_for_user(user=request.user, now=now)[:3])
    return render(request, "notices/info.html", context)


@_page
def notifications_view(request: HttpRequest) -> HttpResponse:
    kind = _kind(request)
    page = Paginator(
        selectors.notification_list_for_user(user=request.user, kind=kind), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context = {
        "title": _("Оповещения"),
        "tab": "notifications",
        "page": page,
        "kind": kind or "",
        "kinds": selectors.notification_kinds(),
        "unread": _unread(request),
    }
    if request.headers.get("HX-Request"):
        return render(request, "notices/_notification_list.html", context)
    return render(request, "notices/notifications.html", context)


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@_page
@require_POST
def notification_read_view(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark read; «open» then follows the notice's link."""
    notification = services.notification_mark_read(
        user=request.user, notification_id=notification_id, now=clock.now()
    )
    if request.POST.get("open") and notification.link:
        return redirect(_back_link(request, notification.link))
    return redirect(_back(request, reverse("notices:list")))


def _back_link(request: HttpRequest, link: str) -> str:
    if url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return link
    return reverse("notices:list")


@_page
@require_POST
def notifications_read_all_view(request: HttpRequest) -> HttpResponse:
    marked = services.notifications_mark_all_read(
        user=request.user, now=clock.now(), kind=request.POST.get("kind") or None
    )
    if marked:
        messages.success(request, _("Все оповещения прочитаны."))
    return redirect(_back(request, reverse("notices:list")))


@_page
def news_list_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.news_list_for_user(user=request.user, now=clock.now()), 12).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notices/news_list.html",
        {"title": _("Новости и акции"), "tab": "news", "page": page},
    )


@_page
def news_detail_view(request: HttpRequest, news_id: int) -> HttpResponse:
    item = selectors.news_for_user(user=request.user, news_id=news_id, now=clock.now())
    return render(
        request, "notices/news_detail.html", {"title": item.title, "tab": "news", "item": item}
    )


@_page
def outage_view(request: HttpRequest, outage_id: int) -> HttpResponse:
    view = selectors.outage_for_user(user=request.user, outage_id=outage_id, now=clock.now())
    return render(
        request, "notices/outage.html", {"title": view.outage.title, "tab": "info", "o": view}
    )


@_page
def receipts_view(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind")
    kind = kind if kind in ("payment", "bill") else ""
    items = selectors.receipts_archive_for_user(user=request.user, kind=kind or None)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notices/receipts.html",
        {"title": _("Квитанции"), "tab": "receipts", "page": page, "kind": kind},
    )


def _settings_from_post(request: HttpRequest) -> dict[str, Any]:
    channels = {
        kind: [c for c in Channel.values if request.POST.get(f"ch_{kind}_{c}")]
        for kind in NotificationKind.values
    }
    return {
        "channels": channels,
        "quiet_enabled": bool(request.POST.get("quiet_enabled")),
        "quiet_from": request.POST.get("quiet_from", ""),
        "quiet_to": request.POST.get("quiet_to", ""),
    }


@_page
def settings_view(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    message = ""
    status = 200
    posted: dict[str, Any] | None = None
    if request.method == "POST":
        posted = _settings_from_post(request)
        try:
            services.notification_settings_update(
                user=request.user, now=clock.now(), ip=client_ip(request), **posted
            )
        except ValidationFailed as exc:
            errors, message, status = exc.fields, exc.message, exc.status
        else:
            messages.success(request, _("Настройки оповещений сохранены."))
            return redirect("notices:settings")
    prefs = selectors.notification_preferences(user=request.user)
    return render(
        request,
        "notices/settings.html",
        {
            "title": _("Настройки оповещений"),
            "tab": "settings",
            "prefs": prefs,
            "posted": posted,
            "errors": errors,
            "error_message": message,
            "quiet_from": posted["quiet_from"] if posted else f"{prefs.quiet_from:%H:%M}",
            "quiet_to": posted["quiet_to"] if posted else f"{prefs.quiet_to:%H:%M}",
            "quiet_enabled": posted["quiet_enabled"] if posted else prefs.quiet_enabled,
        },
        status=status,
    )


@cache_control(max_age=24 * 3600, public=True)
def public_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Public files (news pictures) from the local public folder; production serves them
    from a bucket or the reverse proxy instead."""
    return serve(request, path, document_root=str(settings.PUBLIC_MEDIA_ROOT))
