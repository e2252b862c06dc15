"""Identity web pages: thin views around the services, errors shown beside the fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from ninja.throttling import AnonRateThrottle

from abonent.core import clock
from abonent.core.errors import DomainError
from abonent.core.forms import form_add_domain_error
from abonent.core.http import client_ip
from abonent.identity import forms, selectors, services
from abonent.identity.models import User
from abonent.identity.phones import format_phone
from abonent.identity.web_session import (
    current_device_id,
    session_keep_after_password_change,
    session_sign_in,
    session_sign_out,
)

SIGNUP_KEY = "signup_ticket"
RESET_KEY = "reset_ticket"
CONTACT_KEY = "contact_ticket"


def _remember(request: HttpRequest, key: str, ticket: services.CodeTicket) -> None:
    request.session[key] = {
        "request_id": ticket.request_id,
        "channel": ticket.channel,
        "target": ticket.target,
        "resend_at": ticket.resend_at.isoformat(),
    }


def _target_display(ticket: dict[str, Any]) -> str:
    return format_phone(ticket["target"]) if ticket["channel"] == "sms" else ticket["target"]


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("web:home")


def lockout_response(
    request: HttpRequest, response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """django-axes hook: our views and API already answer a lockout themselves."""
    if response is not None:
        return response
    return JsonResponse(
        {
            "code": "login_locked",
            "message": _("Слишком много неудачных попыток входа."),
            "fields": {},
        },
        status=429,
    )


# The sign-in forms share the API's per-address budget (AUTH_RATE_PER_IP, one cache bucket):
# django-axes locks a login after repeated failures, this stops one address from trying
# many logins (password spraying) or pumping codes through the web forms instead of the API.
_SIGN_IN_THROTTLE = AnonRateThrottle(settings.AUTH_RATE_PER_IP)
TOO_MANY = gettext_lazy("Слишком много попыток с вашего адреса. Подождите минуту и повторите.")


def _form_page(
    request: HttpRequest,
    *,
    form: Any,
    template: str,
    action: Callable[[dict[str, Any]], HttpResponse],
    context: dict[str, Any] | None = None,
    field_map: dict[str, str] | None = None,
    rate_limited: bool = False,
) -> HttpResponse:
    """GET shows the form; a valid POST runs `action` (one service call and a redirect); a
    service's DomainError goes back to the form beside its field, with the error's status.
    `rate_limited` forms (sign-in, sign-up, codes) answer 429 past the per-address budget."""
    status = 200
    if request.method == "POST":
        status = 400
        if rate_limited and not _SIGN_IN_THROTTLE.allow_request(request):
            form.add_error(None, str(TOO_MANY))
            response = render(request, template, {"form": form, **(context or {})}, status=429)
            response["Retry-After"] = "60"
            return response
        if form.is_valid():
            try:
                return action(form.cleaned_data)
            except DomainError as exc:
                form_add_domain_error(form, exc, field_map=field_map)
                status = exc.status
    return render(request, template, {"form": form, **(context or {})}, status=status)


# ---------------------------------------------------------------- sign-in


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next_url(request))

    def sign_in(data: dict[str, Any]) -> HttpResponse:
        user = services.login_authenticate(
            request=request, login=data["username"], password=data["password"]
        )
        session_sign_in(request, user)
        return redirect(_next_url(request))

    return _form_page(
        request,
        form=forms.LoginForm(request.POST or None),
        template="identity/login.html",
        action=sign_in,
        context={"next": _next_url(request)},
        rate_limited=True,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session_sign_out(request)
    messages.info(request, _("Вы вышли из личного кабинета."))
    return redirect("identity:login")


# ---------------------------------------------------------------- sign-up


def signup_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")

    def start(data: dict[str, Any]) -> HttpResponse:
        ticket = services.signup_start(
            login=data["login"],
            first_name=data["first_name"],
            patronymic=data["patronymic"],
            password=data["password"],
            password_confirm=data["password_confirm"],
            consent=data["consent"],
            now=clock.now(),
            ip=client_ip(request),
        )
        _remember(request, SIGNUP_KEY, ticket)
        return redirect("identity:signup_confirm")

    return _form_page(
        request,
        form=forms.SignupForm(request.POST or None),
        template="identity/signup.html",
        action=start,
        rate_limited=True,
    )


def _code_page(
    request: HttpRequest,
    *,
    key: str,
    form: Any,
    template: str,
    action: Callable[[dict[str, Any], dict[str, Any]], HttpResponse],
    restart: str,
) -> HttpResponse:
    """The «enter the code» step of a flow whose ticket is kept in the session under `key`."""
    ticket = request.session.get(key)
    if not ticket:
        return redirect(restart)
    if request.method == "POST" and "resend" in request.POST:
        try:
            new = services.code_resend(
                request_id=ticket["request_id"], now=clock.now(), ip=client_ip(request)
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            _remember(request, key, new)
            messages.success(request, _("Мы отправили новый код."))
        return redirect(request.path)
    return _form_page(
        request,
        form=form,
        template=template,
        action=lambda data: action(ticket, data),
        rate_limited=True,
        context={
            "target": _target_display(ticket),
            "channel": ticket["channel"],
            "resend_at": ticket["resend_at"],
        },
    )


def signup_confirm_view(request: HttpRequest) -> HttpResponse:
    def confirmed(ticket: dict[str, Any], data: dict[str, Any]) -> HttpResponse:
        user = services.signup_confirm(
            request_id=ticket["request_id"],
            code=data["code"],
            now=clock.now(),
            ip=client_ip(request),
        )
        request.session.pop(SIGNUP_KEY, None)
        session_sign_in(request, user)
        messages.success(
            request,
            _("Добро пожаловать, %(name)s! Регистрация завершена.") % {"name": user.display_name},
        )
        return redirect("web:home")

    return _code_page(
        request,
        key=SIGNUP_KEY,
        form=forms.CodeForm(request.POST or None),
        template="identity/signup_confirm.html",
        action=confirmed,
        restart="identity:signup",
    )


# ---------------------------------------------------------------- password reset


def reset_view(request: HttpRequest) -> HttpResponse:
    def start(data: dict[str, Any]) -> HttpResponse:
        ticket = services.password_reset_start(
            login=data["login"], now=clock.now(), ip=client_ip(request)
        )
        _remember(request, RESET_KEY, ticket)
        return redirect("identity:reset_confirm")

    return _form_page(
        request,
        form=forms.ResetStartForm(request.POST or None),
        template="identity/reset.html",
        action=start,
        rate_limited=True,
    )


def reset_confirm_view(request: HttpRequest) -> HttpResponse:
    def confirmed(ticket: dict[str, Any], data: dict[str, Any]) -> HttpResponse:
        services.password_reset_confirm(
            request_id=ticket["request_id"],
            code=data["code"],
            password=data["password"],
            password_confirm=data["password_confirm"],
            now=clock.now(),
            ip=client_ip(request),
        )
        request.session.pop(RESET_KEY, None)
        messages.success(request, _("Пароль изменён. Войдите с новым паролем."))
        return redirect("identity:login")

    return _code_page(
        request,
        key=RESET_KEY,
        form=forms.ResetConfirmForm(request.POST or None),
        template="identity/reset_confirm.html",
        action=confirmed,
        restart="identity:reset",
    )


# ---------------------------------------------------------------- profile


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]

    def save(data: dict[str, Any]) -> HttpResponse:
        services.profile_update(user=user, now=clock.now(), ip=client_ip(request), **data)
        messages.success(request, _("Данные сохранены."))
        return redirect("identity:profile")

    initial = {"first_name": user.first_name, "patronymic": user.patronymic}
    initial["last_name"] = user.last_name
    return _form_page(
        request,
        form=forms.ProfileForm(request.POST or None, initial=initial),
        template="identity/profile.html",
        action=save,
        context={
            "devices": selectors.device_list(user=user, now=clock.now()),
            "current_device_id": current_device_id(request),
            "export_per_day": settings.DATA_EXPORT_MAX_PER_DAY,
        },
    )


@login_required
def contact_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ("phone", "email"):
        return redirect("identity:profile")

    def start(data: dict[str, Any]) -> HttpResponse:
        ticket = services.contact_change_start(
            user=request.user,  # type: ignore[arg-type]
            **{kind: data["value"]},
            now=clock.now(),
            ip=client_ip(request),
        )
        _remember(request, CONTACT_KEY, ticket)
        return redirect("identity:contact_confirm")

    form = forms.ContactForm(request.POST or None, initial={"kind": kind})
    form.fields["value"].label = _("Новый номер телефона") if kind == "phone" else _("Новый e-mail")
    return _form_page(
        request,
        form=form,
        template="identity/contact.html",
        action=start,
        context={"kind": kind},
        field_map={"phone": "value", "email": "value"},
    )


@login_required
def contact_confirm_view(request: HttpRequest) -> HttpResponse:
    def confirmed(ticket: dict[str, Any], data: dict[str, Any]) -> HttpResponse:
        services.contact_change_confirm(
            user=request.user,  # type: ignore[arg-type]
            request_id=ticket["request_id"],
            code=data["code"],
            now=clock.now(),
            ip=client_ip(request),
        )
        request.session.pop(CONTACT_KEY, None)
        messages.success(request, _("Контакт изменён."))
        return redirect("identity:profile")

    return _code_page(
        request,
        key=CONTACT_KEY,
        form=forms.CodeForm(request.POST or None),
        template="identity/contact_confirm.html",
        action=confirmed,
        restart="identity:profile",
    )


@login_required
def password_view(request: HttpRequest) -> HttpResponse:
    def change(data: dict[str, Any]) -> HttpResponse:
        user = services.password_change(
            user=request.user,  # type: ignore[arg-type]
            current_password=data["current_password"],
            new_password=data["new_password"],
            new_password_confirm=data["new_password_confirm"],
            sign_out_others=data["sign_out_others"],
            current_device_id=current_device_id(request),
            now=clock.now(),
            ip=client_ip(request),
        )
        session_keep_after_password_change(request, user)
        messages.success(request, _("Пароль изменён."))
        return redirect("identity:profile")

    return _form_page(
        request,
        form=forms.PasswordChangeForm(request.POST or None),
        template="identity/password.html",
        action=change,
    )


@login_required
@require_POST
def device_revoke_view(request: HttpRequest, device_id: int) -> HttpResponse:
    if device_id == current_device_id(request):
        return logout_view(request)
    try:
        services.device_revoke(
            user=request.user,  # type: ignore[arg-type]
            device_id=device_id,
            now=clock.now(),
            ip=client_ip(request),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Сеанс завершён."))
    return redirect("identity:profile")


@login_required
@require_POST
def devices_revoke_others_view(request: HttpRequest) -> HttpResponse:
    count = services.devices_revoke_others(
        user=request.user,  # type: ignore[arg-type]
        keep_device_id=current_device_id(request),
        now=clock.now(),
        ip=client_ip(request),
    )
    messages.success(request, _("Завершено сеансов: %(count)s.") % {"count": count})
    return redirect("identity:profile")


@login_required
def delete_view(request: HttpRequest) -> HttpResponse:
    def delete(data: dict[str, Any]) -> HttpResponse:
        services.user_delete(
            user=request.user,  # type: ignore[arg-type]
            password=data["password"],
            now=clock.now(),
            ip=client_ip(request),
        )
        session_sign_out(request)
        messages.info(request, _("Учётная запись удалена, персональные данные стёрты."))
        return redirect("identity:login")

    return _form_page(
        request,
        form=forms.DeleteForm(request.POST or None),
        template="identity/delete.html",
        action=delete,
    )
