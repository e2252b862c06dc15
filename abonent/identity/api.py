"""Identity API: sign-up, sign-in (session or device token), PIN, devices, profile."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.throttling import AnonRateThrottle, BaseThrottle
from ninja.utils import check_csrf

from abonent.core import clock
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.http import client_ip, user_agent
from abonent.core.ids import Id
from abonent.identity import selectors, services
from abonent.identity.auth import DeviceTokenAuth, customer_auth
from abonent.identity.models import Device, User
from abonent.identity.web_session import (
    current_device_id,
    session_keep_after_password_change,
    session_sign_in,
    session_sign_out,
)
from abonent.privacy import services as privacy_services

auth_router = Router(tags=["Вход и регистрация"])
me_router = Router(tags=["Профиль"], auth=customer_auth)
_throttle: list[BaseThrottle] = [AnonRateThrottle(settings.AUTH_RATE_PER_IP)]


# ---------------------------------------------------------------- schemas


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class TicketOut(Schema):
    request_id: str = Field(description="Передайте вместе с кодом при подтверждении")
    channel: Literal["sms", "email"]
    target: str = Field(description="Куда отправлен код (телефон в E.164 или e-mail)")
    expires_at: datetime
    resend_at: datetime = Field(description="Раньше этого времени новый код не отправить")


class UserOut(Schema):
    id: int
    phone: str | None
    phone_display: str
    email: str | None
    first_name: str
    patronymic: str
    last_name: str
    display_name: str
    date_joined: datetime


class DeviceOut(Schema):
    id: int
    kind: Literal["web", "app"]
    name: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    has_pin: bool
    current: bool = False


class SignInOut(Schema):
    user: UserOut
    token: str | None = Field(None, description="Bearer-токен устройства (только для client=app)")
    device: DeviceOut


class RegisterIn(Schema):
    login: str = Field(max_length=254, description="Мобильный телефон или e-mail")
    first_name: str = Field(max_length=60)
    patronymic: str = Field("", max_length=60)
    password: str = Field(max_length=128)
    password_confirm: str = Field(max_length=128)
    consent: bool = Field(description="Согласие с правилами и на обработку персональных данных")


class ClientMixin(Schema):
    client: Literal["app", "web"] = Field(
        "app", description="app — выдать токен устройства; web — сессионная cookie"
    )
    device_name: str = Field("", max_length=120, description="Например, «iPhone Анны»")


class ConfirmIn(ClientMixin):
    request_id: str = Field(max_length=64)
    code: str = Field(max_length=12)


class ResendIn(Schema):
    request_id: str = Field(max_length=64)


class LoginIn(ClientMixin):
    login: str = Field(max_length=254, description="Телефон или e-mail")
    password: str = Field(max_length=128)


class ResetIn(Schema):
    login: str = Field(max_length=254)


class ResetConfirmIn(Schema):
    request_id: str = Field(max_length=64)
    code: str = Field(max_length=12)
    password: str = Field(max_length=128)
    password_confirm: str = Field(max_length=128)


class PinIn(Schema):
    pin: str = Field(max_length=12, description="4–6 цифр")


class PinLoginIn(Schema):
    token: str = Field(max_length=128, description="Токен этого устройства (даже истёкший)")
    pin: str = Field(max_length=12)


class MePatchIn(Schema):
    first_name: str | None = Field(None, max_length=60)
    patronymic: str | None = Field(None, max_length=60)
    last_name: str | None = Field(None, max_length=60)
    phone: str | None = Field(None, max_length=32, description="Новый номер: придёт SMS с кодом")
    email: str | None = Field(
        None, max_length=254, description="Новый e-mail: придёт письмо с кодом"
    )


class MeOut(Schema):
    user: UserOut
    pending: TicketOut | None = Field(None, description="Ожидает подтверждения кодом")


class ContactConfirmIn(Schema):
    request_id: str = Field(max_length=64)
    code: str = Field(max_length=12)


class PasswordChangeIn(Schema):
    current_password: str = Field(max_length=128)
    new_password: str = Field(max_length=128)
    new_password_confirm: str = Field(max_length=128)
    sign_out_others: bool = Field(True, description="Выйти на всех других устройствах")


class PasswordIn(Schema):
    password: str = Field(max_length=128)


class MessageOut(Schema):
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# ---------------------------------------------------------------- helpers


def _device_out(device: Device, current_id: int | None) -> DeviceOut:
    return DeviceOut(
        id=device.pk,
        kind=device.kind,  # type: ignore[arg-type]
        name=device.name,
        ip=device.ip,
        created_at=device.created_at,
        last_seen_at=device.last_seen_at,
        has_pin=device.has_pin,
        current=device.pk == current_id,
    )


def _csrf_for_web(request: HttpRequest, data: ClientMixin) -> None:
    """A session sign-in from a browser must carry the CSRF token like any form."""
    if data.client == "web" and check_csrf(request) is not None:
        raise DomainError(_("Обновите страницу и повторите вход."), code="csrf_failed", status=403)


def _sign_in(request: HttpRequest, user: User, data: ClientMixin) -> SignInOut:
    if data.client == "web":
        session_sign_in(request, user)
        device = Device.objects.get(pk=request.session["device_id"])
        return SignInOut(
            user=UserOut.from_orm(user), token=None, device=_device_out(device, device.pk)
        )
    # The signal a browser sign-in sends too: axes clears the login's failure count on it.
    user_logged_in.send(sender=type(user), request=request, user=user)
    device, token = services.device_open_app(
        user=user,
        name=data.device_name,
        ip=client_ip(request),
        user_agent=user_agent(request),
        now=clock.now(),
    )
    return SignInOut(
        user=UserOut.from_orm(user), token=token, device=_device_out(device, device.pk)
    )


def _app_device(request: HttpRequest) -> Device:
    device = getattr(request, "device", None)
    if device is None:
        raise ValidationFailed(_("Цифровой пароль задаётся в приложении."), code="pin_app_only")
    return device


# ---------------------------------------------------------------- sign-up and sign-in


@auth_router.post(
    "/register",
    response={202: TicketOut, **ERRORS},
    throttle=_throttle,
    summary="Начать регистрацию",
)
def register(request: HttpRequest, data: RegisterIn):
    ticket = services.signup_start(
        login=data.login,
        first_name=data.first_name,
        patronymic=data.patronymic,
        password=data.password,
        password_confirm=data.password_confirm,
        consent=data.consent,
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(202, ticket)


@auth_router.post(
    "/register/confirm",
    response={201: SignInOut, **ERRORS, 403: ErrorOut},
    throttle=_throttle,
    summary="Подтвердить регистрацию кодом",
)
def register_confirm(request: HttpRequest, data: ConfirmIn):
    _csrf_for_web(request, data)
    user = services.signup_confirm(
        request_id=data.request_id, code=data.code, now=clock.now(), ip=client_ip(request)
    )
    return Status(201, _sign_in(request, user, data))


@auth_router.post(
    "/code/resend",
    response={202: TicketOut, **ERRORS},
    throttle=_throttle,
    summary="Отправить код ещё раз",
)
def code_resend(request: HttpRequest, data: ResendIn):
    return Status(
        202,
        services.code_resend(request_id=data.request_id, now=clock.now(), ip=client_ip(request)),
    )


@auth_router.post(
    "/login",
    response={200: SignInOut, **ERRORS, 403: ErrorOut},
    throttle=_throttle,
    summary="Войти",
)
def login(request: HttpRequest, data: LoginIn):
    _csrf_for_web(request, data)
    user = services.login_authenticate(request=request, login=data.login, password=data.password)
    return Status(200, _sign_in(request, user, data))


@auth_router.post(
    "/logout", response={204: None, 401: ErrorOut}, auth=customer_auth, summary="Выйти"
)
def logout(request: HttpRequest):
    device = getattr(request, "device", None)
    if device is not None:
        services.device_revoke_current(device_id=device.pk, now=clock.now())
    else:
        session_sign_out(request)
    return Status(204, None)


@auth_router.post(
    "/password/reset",
    response={202: TicketOut, **ERRORS},
    throttle=_throttle,
    summary="Забыли пароль",
)
def password_reset(request: HttpRequest, data: ResetIn):
    return Status(
        202, services.password_reset_start(login=data.login, now=clock.now(), ip=client_ip(request))
    )


@auth_router.post(
    "/password/reset/confirm",
    response={200: MessageOut, **ERRORS},
    throttle=_throttle,
    summary="Задать новый пароль по коду",
)
def password_reset_confirm(request: HttpRequest, data: ResetConfirmIn):
    services.password_reset_confirm(
        request_id=data.request_id,
        code=data.code,
        password=data.password,
        password_confirm=data.password_confirm,
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(200, MessageOut(message=_("Пароль изменён. Войдите с новым паролем.")))


# ---------------------------------------------------------------- PIN


@auth_router.post(
    "/pin",
    response={204: None, **ERRORS},
    auth=[DeviceTokenAuth()],
    summary="Задать цифровой пароль",
)
def pin_set(request: HttpRequest, data: PinIn):
    services.device_pin_set(device=_app_device(request), pin=data.pin, now=clock.now())
    return Status(204, None)


@auth_router.delete(
    "/pin",
    response={204: None, **ERRORS},
    auth=[DeviceTokenAuth()],
    summary="Удалить цифровой пароль",
)
def pin_remove(request: HttpRequest):
    services.device_pin_remove(device=_app_device(request), now=clock.now())
    return Status(204, None)


@auth_router.post(
    "/pin/login",
    response={200: SignInOut, **ERRORS},
    throttle=_throttle,
    summary="Войти по цифровому паролю",
)
def pin_login(request: HttpRequest, data: PinLoginIn):
    device, token = services.device_pin_login(
        token=data.token, pin=data.pin, now=clock.now(), ip=client_ip(request)
    )
    return Status(
        200,
        SignInOut(
            user=UserOut.from_orm(device.user), token=token, device=_device_out(device, device.pk)
        ),
    )


# ---------------------------------------------------------------- devices


@auth_router.get(
    "/devices",
    response={200: list[DeviceOut], 401: ErrorOut},
    auth=customer_auth,
    summary="Мои устройства",
)
def devices(request: HttpRequest):
    current = current_device_id(request)
    rows = selectors.device_list(user=request.user, now=clock.now())  # type: ignore[arg-type]
    return Status(200, [_device_out(d, current) for d in rows])


class RevokedOut(Schema):
    revoked: int


@auth_router.delete(
    "/devices",
    response={200: RevokedOut, 401: ErrorOut},
    auth=customer_auth,
    summary="Завершить все сеансы, кроме этого",
)
def devices_revoke_others(request: HttpRequest):
    count = services.devices_revoke_others(
        user=request.user,  # type: ignore[arg-type]
        keep_device_id=current_device_id(request),
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(200, RevokedOut(revoked=count))


@auth_router.delete(
    "/devices/{device_id}",
    response={204: None, **ERRORS},
    auth=customer_auth,
    summary="Завершить сеанс",
)
def device_revoke(request: HttpRequest, device_id: Id):
    services.device_revoke(
        user=request.user,  # type: ignore[arg-type]
        device_id=device_id,
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(204, None)


# ---------------------------------------------------------------- profile


@me_router.get("", response={200: UserOut, 401: ErrorOut}, summary="Мой профиль")
def me(request: HttpRequest):
    return Status(200, request.user)


@me_router.patch("", response={200: MeOut, **ERRORS}, summary="Изменить профиль")
def me_update(request: HttpRequest, data: MePatchIn):
    user, pending = services.profile_change(
        user=request.user,  # type: ignore[arg-type]
        first_name=data.first_name,
        patronymic=data.patronymic,
        last_name=data.last_name,
        phone=data.phone,
        email=data.email,
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(200, MeOut(user=UserOut.from_orm(user), pending=pending))  # type: ignore[arg-type]


@me_router.post(
    "/contact/confirm", response={200: UserOut, **ERRORS}, summary="Подтвердить новый контакт"
)
def me_contact_confirm(request: HttpRequest, data: ContactConfirmIn):
    return Status(
        200,
        services.contact_change_confirm(
            user=request.user,  # type: ignore[arg-type]
            request_id=data.request_id,
            code=data.code,
            now=clock.now(),
            ip=client_ip(request),
        ),
    )


@me_router.post("/password", response={200: MessageOut, **ERRORS}, summary="Сменить пароль")
def me_password(request: HttpRequest, data: PasswordChangeIn):
    user = services.password_change(
        user=request.user,  # type: ignore[arg-type]
        current_password=data.current_password,
        new_password=data.new_password,
        new_password_confirm=data.new_password_confirm,
        sign_out_others=data.sign_out_others,
        current_device_id=current_device_id(request),
        now=clock.now(),
        ip=client_ip(request),
    )
    if getattr(request, "device", None) is None:
        session_keep_after_password_change(request, user)
    return Status(200, MessageOut(message=_("Пароль изменён.")))


class ExportOut(Schema):
    """Everything Abonent holds about you (152-ФЗ, ст. 14); card tokens are never included."""

    format: Literal["abonent-personal-data"]
    version: int
    generated_at: datetime
    profile: dict[str, Any] = Field(description="Телефон, e-mail, ФИО, дата регистрации")
    consent: dict[str, Any] = Field(description="Согласие на обработку данных: версия и дата")
    accounts: list[dict[str, Any]] = Field(
        description="Привязанные ЛС: адрес, балансы, квитанции, начисления, счётчики, показания"
    )
    payments: list[dict[str, Any]]
    cards: list[dict[str, Any]] = Field(description="Сохранённые карты: только 4 последние цифры")
    autopay: list[dict[str, Any]]
    appeals: list[dict[str, Any]] = Field(description="Обращения с перепиской и вложениями")
    callbacks: list[dict[str, Any]]
    notifications: dict[str, Any] = Field(description="Оповещения, тихие часы, каналы, push")
    devices: list[dict[str, Any]]
    audit: list[dict[str, Any]] = Field(description="Журнал действий с вашими данными")


@me_router.get(
    "/export",
    response={200: ExportOut, **ERRORS},
    summary="Выгрузить все мои данные (152-ФЗ)",
    description=(
        "Всё, что Абонент хранит о вас, одним JSON-файлом (Content-Disposition: attachment). "
        "Не чаще DATA_EXPORT_MAX_PER_DAY (по умолчанию 5) раз в сутки: иначе 429 с Retry-After. "
        "Архив ZIP с вложениями обращений — кнопка «Скачать мои данные» в профиле на сайте."
    ),
)
def me_export(request: HttpRequest) -> HttpResponse:
    content_type, content = privacy_services.data_export_create(
        user=request.user, fmt="json", now=clock.now(), ip=client_ip(request)
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = 'attachment; filename="abonent-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@me_router.delete("", response={204: None, **ERRORS}, summary="Удалить учётную запись")
def me_delete(request: HttpRequest, data: PasswordIn):
    services.user_delete(
        user=request.user,  # type: ignore[arg-type]
        password=data.password,
        now=clock.now(),
        ip=client_ip(request),
    )
    if getattr(request, "device", None) is None:
        session_sign_out(request)
    return Status(204, None)
