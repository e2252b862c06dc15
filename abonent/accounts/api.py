from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from abonent.accounts import selectors, services
from abonent.accounts.models import Branch
from abonent.billing.selectors import Breakdown
from abonent.core import clock
from abonent.core.errors import ValidationFailed
from abonent.core.http import client_ip
from abonent.core.ids import Id
from abonent.identity.api import ErrorOut
from abonent.identity.auth import customer_auth

router = Router(tags=["Филиалы и лицевые счета"])

ERRORS = {401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class BranchOut(Schema):
    id: int
    code: str
    name: str
    timezone: str
    call_centre_phone: str
    # "08:00" (local time of the branch). Not `time`: OpenAPI's "time" format is RFC 3339's
    # full-time, which needs a UTC offset that a branch's opening hours do not have.
    hours_open: str = Field(pattern=r"^\d{2}:\d{2}$", description="ЧЧ:ММ, время филиала")
    hours_close: str = Field(pattern=r"^\d{2}:\d{2}$", description="ЧЧ:ММ, время филиала")
    working_days: list[int]
    reading_day_from: int
    reading_day_to: int

    @staticmethod
    def resolve_hours_open(obj: Branch) -> str:
        return f"{obj.hours_open:%H:%M}"

    @staticmethod
    def resolve_hours_close(obj: Branch) -> str:
        return f"{obj.hours_close:%H:%M}"

    @staticmethod
    def resolve_working_days(obj: object) -> list[int]:
        return [int(d) for d in str(getattr(obj, "working_days", "")).split(",") if d]


@router.get(
    "/branches",
    response=list[BranchOut],
    summary="Города: call-центр, часы работы, приём показаний",
)
def branches(request: HttpRequest):
    return selectors.branch_list()


# ---------------------------------------------------------------- linked accounts


class ServiceBalanceOut(Schema):
    service_id: int
    code: str
    name: str
    unit: str
    balance: Decimal = Field(description="> 0 — к оплате (красным), < 0 — переплата (зелёным)")


class AccountOut(Schema):
    id: int = Field(description="id лицевого счёта: его используют все пути /accounts/{id}")
    number: str
    label: str = Field(description="Своё название («Дача»), может быть пустым")
    address: str
    owner_name: str
    status: str
    branch_id: int
    branch_name: str
    area: Decimal
    residents: int
    services: list[ServiceBalanceOut]
    total: Decimal = Field(description="> 0 — итого к оплате, < 0 — итого переплата")

    @staticmethod
    def resolve_id(obj: selectors.AccountSummary) -> int:
        return obj.account_id


class LinkIn(Schema):
    branch_id: Id
    number: str = Field(max_length=20, description="Номер лицевого счёта из квитанции")
    owner_surname: str = Field(max_length=100, description="Фамилия собственника")
    settlement: str = Field(max_length=100, description="Населённый пункт")
    street: str = Field(max_length=150)
    house: str = Field(max_length=20, description="Дом с корпусом или литерой: «7а», «12 к2»")
    flat: str = Field("", max_length=10, description="Квартира; пусто для частного дома")
    label: str = Field("", max_length=60, description="Своё название, необязательно")


class PreviewOut(Schema):
    branch_id: int
    branch_name: str
    number: str
    address: str
    owner: str = Field(description="Собственник: фамилия и инициалы")
    services: list[str]


class RenameIn(Schema):
    label: str = Field(max_length=60, description="Своё название; пустая строка — убрать")


def _link_args(data: LinkIn) -> dict[str, Any]:
    return {
        "branch_id": data.branch_id,
        "number": data.number,
        "owner_surname": data.owner_surname,
        "settlement": data.settlement,
        "street": data.street,
        "house": data.house,
        "flat": data.flat,
    }


@router.get(
    "/accounts",
    response={200: list[AccountOut], 401: ErrorOut},
    auth=customer_auth,
    summary="Мои лицевые счета с балансом по услугам",
)
@paginate(LimitOffsetPagination)
def accounts_list(request: HttpRequest):
    return selectors.accounts_summary(user=request.user, today=clock.now().date())


@router.post(
    "/accounts/link/preview",
    response={200: PreviewOut, **ERRORS},
    auth=customer_auth,
    summary="Проверить данные и показать ЛС перед привязкой",
    description=(
        "Те же проверки, что у POST /accounts/link, но ничего не привязывает: ответ — что "
        "будет добавлено (номер, адрес, собственник с инициалами, услуги). Неудачные попытки "
        "считаются вместе с /accounts/link: 10 в час на пользователя и на IP, затем 429."
    ),
)
def accounts_link_preview(request: HttpRequest, data: LinkIn):
    return services.account_preview(
        user=request.user, **_link_args(data), now=clock.now(), ip=client_ip(request)
    )


@router.post(
    "/accounts/link",
    response={201: AccountOut, **ERRORS},
    auth=customer_auth,
    summary="Привязать лицевой счёт",
    description=(
        "Номер ЛС, фамилия собственника и адрес должны совпасть с квитанцией. На любое "
        "несовпадение — один и тот же ответ 422 `account_not_found`; закрытый ЛС — 409 "
        "`account_closed`; уже добавленный — 409 `already_linked`; после 10 неудачных "
        "попыток в час — 429 с Retry-After. Сначала можно вызвать /accounts/link/preview."
    ),
)
def accounts_link(request: HttpRequest, data: LinkIn):
    link = services.account_link(
        user=request.user,
        **_link_args(data),
        label=data.label,
        now=clock.now(),
        ip=client_ip(request),
    )
    return Status(
        201, selectors.account_detail(user=request.user, link_or_account_id=link.account_id)
    )


@router.get(
    "/accounts/{account_id}",
    response={200: AccountOut, 401: ErrorOut, 404: ErrorOut},
    auth=customer_auth,
    summary="Лицевой счёт: адрес, услуги, баланс",
)
def accounts_detail(request: HttpRequest, account_id: Id):
    return selectors.account_detail(
        user=request.user, link_or_account_id=account_id, today=clock.now().date()
    )


@router.patch(
    "/accounts/{account_id}",
    response={200: AccountOut, **ERRORS},
    auth=customer_auth,
    summary="Переименовать лицевой счёт («Дача»)",
)
def accounts_rename(request: HttpRequest, account_id: Id, data: RenameIn):
    services.account_rename(
        user=request.user,
        account_id=account_id,
        label=data.label,
        now=clock.now(),
        ip=client_ip(request),
    )
    return selectors.account_detail(user=request.user, link_or_account_id=account_id)


@router.delete(
    "/accounts/{account_id}",
    response={204: None, 401: ErrorOut, 404: ErrorOut},
    auth=customer_auth,
    summary="Убрать лицевой счёт из кабинета",
)
def accounts_unlink(request: HttpRequest, account_id: Id):
    services.account_unlink(
        user=request.user, account_id=account_id, now=clock.now(), ip=client_ip(request)
    )
    return Status(204, None)


# ---------------------------------------------------------------- charges


class ChargeLineOut(Schema):
    service_id: int
    service: str
    for_month: date
    volume: Decimal
    unit: str
    tariff: Decimal
    method: str = Field(description="meter / average / norm / area / import")
    method_label: str
    amount: Decimal
    is_recalculation: bool
    reason: str


class ServiceMoneyOut(Schema):
    service_id: int
    service: str
    opening: Decimal = Field(description="Долг (+) или переплата (−) на начало месяца")
    charged: Decimal
    recalculated: Decimal
    paid: Decimal = Field(description="Оплачено в этом месяце")
    corrections: Decimal
    closing: Decimal = Field(description="Долг (+) или переплата (−) на конец месяца")


class ComparisonOut(Schema):
    service_id: int
    service: str
    amount: Decimal
    previous: Decimal | None = Field(description="Начислено за прошлый месяц")
    year_ago: Decimal | None = Field(description="Начислено за тот же месяц год назад")
    change_previous: Decimal | None
    change_year_ago: Decimal | None
    notes: list[str] = Field(description="Почему сумма изменилась: тариф, объём, способ")


class BreakdownOut(Schema):
    account_id: int
    period: str = Field(description="YYYY-MM")
    lines: list[ChargeLineOut]
    recalculations: list[ChargeLineOut]
    services: list[ServiceMoneyOut]
    opening: Decimal
    charged: Decimal
    recalculated: Decimal
    paid: Decimal
    corrections: Decimal
    closing: Decimal
    comparisons: list[ComparisonOut]

    @staticmethod
    def resolve_period(obj: Breakdown) -> str:
        return f"{obj.month:%Y-%m}"


class PeriodQuery(Schema):
    period: str | None = Field(
        None, description="Месяц YYYY-MM; без него — последний месяц с начислениями"
    )


def _parse_period(value: str | None) -> date | None:
    if not value:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationFailed(
            _("Укажите месяц в виде ГГГГ-ММ."),
            code="invalid_period",
            fields={"period": [_("Месяц в виде ГГГГ-ММ, например 2026-10.")]},
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


@router.get(
    "/accounts/{account_id}/charges",
    response={200: BreakdownOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=customer_auth,
    summary="Начисления за месяц: услуга, объём, тариф, способ, перерасчёты, сальдо",
)
def accounts_charges(request: HttpRequest, account_id: Id, filters: Query[PeriodQuery]):
    return selectors.account_charges(
        user=request.user, account_id=account_id, month=_parse_period(filters.period)
    )
