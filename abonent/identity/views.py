"""Identity web pages: thin views around the services, errors shown beside the fields."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

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


# ---------------------------------------------------------------- sign-in


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = forms.LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_authenticate(
                request=request,
                login=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
        else:
            session_sign_in(request, user)
            return redirect(_next_url(request))
    elif request.method == "POST":
        status = 400
    return render(
        request, "identity/login.html", {"form": form, "next": _next_url(request)}, status=status
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
    form = forms.SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
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
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
        else:
            _remember(request, SIGNUP_KEY, ticket)
            return redirect("identity:signup_confirm")
    elif request.method == "POST":
        status = 400
    return render(request, "identity/signup.html", {"form": form}, status=status)


def _code_page(
    request: HttpRequest,
    *,
    key: str,
    form: Any,
    template: str,
    on_valid: Any,
    restart: str,
) -> HttpResponse:
    ticket = request.session.get(key)
    if not ticket:
        return redirect(restart)
    status = 200
    if request.method == "POST" and "resend" in request.POST:
        try:
            new = services.code_resend(
                request_id=ticket["request_id"], now=clock.now(), ip=client_ip(request)
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            _remember(request, key, new)
            messages.success(request, _("Мы отправили новый код."))
        return redirect(request.path)
    if request.method == "POST" and form.is_valid():
        try:
            return on_valid(ticket, form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "target": _target_display(ticket),
        "channel": ticket["channel"],
        "resend_at": ticket["resend_at"],
    }
    return render(request, template, context, status=status)


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
        on_valid=confirmed,
        restart="identity:signup",
    )


# ---------------------------------------------------------------- password reset


def reset_view(request: HttpRequest) -> HttpResponse:
    form = forms.ResetStartForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.password_reset_start(
                login=form.cleaned_data["login"], now=clock.now(), ip=client_ip(request)
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
        else:
            _remember(request, RESET_KEY, ticket)
            return redirect("identity:reset_confirm")
    elif request.method == "POST":
        status = 400
    return render(request, "identity/reset.html", {"form": form}, status=status)


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
        on_valid=confirmed,
        restart="identity:reset",
    )


# ---------------------------------------------------------------- profile


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = forms.ProfileForm(
        request.POST or None,
        initial={
            "first_name": user.first_name,
            "patronymic": user.patronymic,
            "last_name": user.last_name,
        },
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(
                user=user, now=clock.now(), ip=client_ip(request), **form.cleaned_data
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
        else:
            messages.success(request, _("Данные сохранены."))
            return redirect("identity:profile")
    elif request.method == "POST":
        status = 400
    devices = selectors.device_list(user=user, now=clock.now())
    context = {
        "form": form,
        "devices": devices,
        "current_device_id": current_device_id(request),
    }
    return render(request, "identity/profile.html", context, status=status)


@login_required
def contact_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ("phone", "email"):
        return redirect("identity:profile")
    form = forms.ContactForm(request.POST or None, initial={"kind": kind})
    status = 200
    if request.method == "POST" and form.is_valid():
        value = form.cleaned_data["value"]
        try:
            ticket = services.contact_change_start(
                user=request.user,  # type: ignore[arg-type]
                phone=value if kind == "phone" else None,
                email=value if kind == "email" else None,
                now=clock.now(),
                ip=client_ip(request),
            )
        except DomainError as exc:
            form.add_error("value", exc.message)
            status = exc.status
        else:
            _remember(request, CONTACT_KEY, ticket)
            return redirect("identity:contact_confirm")
    elif request.method == "POST":
        status = 400
    form.fields["value"].label = _("Новый номер телефона") if kind == "phone" else _("Новый e-mail")
    return render(request, "identity/contact.html", {"form": form, "kind": kind}, status=status)


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
        on_valid=confirmed,
        restart="identity:profile",
    )


@login_required
def password_view(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordChangeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
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
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
        else:
            session_keep_after_password_change(request, user)
            messages.success(request, _("Пароль изменён."))
            return redirect("identity:profile")
    elif request.method == "POST":
        status = 400
    return render(request, "identity/password.html", {"form": form}, status=status)


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
        messages.error(request, exc.message)
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
    form = forms.DeleteForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.user_delete(
                user=request.user,  # type: ignore[arg-type]
                password=form.cleaned_data["password"],
                now=clock.now(),
                ip=client_ip(request),
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
            status = exc.status
        else:
            session_sign_out(request)
            messages.info(request, _("Учётная запись удалена, персональные данные стёрты."))
            return redirect("identity:login")
    elif request.method == "POST":
        status = 400
    return render(request, "identity/delete.html", {"form": form}, status=status)
