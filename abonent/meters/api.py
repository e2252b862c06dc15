"""Meters API: a linked ЛС's meters, submitting a reading, a meter's history, the PDF."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from abonent.core import clock
from abonent.core.http import client_ip
from abonent.core.pagination import Pagination
from abonent.documents.readings import readings_pdf_for_customer
from abonent.documents.responses import pdf_response
from abonent.identity.api import ErrorOut
from abonent.identity.auth import customer_auth
from abonent.meters import selectors, services
from abonent.meters.models import Reading, ReadingSource

router = Router(tags=["Счётчики и показания"], auth=customer_auth)


class WindowOut(Schema):
    period: date = Field(description="Месяц, за который будут учтены показания, переданные сейчас")
    is_open: bool = Field(description="Идёт ли приём показаний (по времени филиала)")
    day_from: int
    day_to: int
    opens_on: date
    closes_on: date
    closes_at: datetime = Field(description="Когда закроется приём (время филиала)")
    days_left: int = Field(description="Сколько дней приёма осталось после сегодняшнего")
    text: str = Field(description="«Приём показаний с 15 по 25 число, осталось 3 дня»")


class ScaleOut(Schema):
    scale: int
    name: str = Field(description="«день», «ночь»…; пусто у однотарифного счётчика")
    last_value: Decimal | None
    last_period: date | None
    last_taken_at: datetime | None
    submitted: bool = Field(description="Показание за текущий период уже принято")


class MeterOut(Schema):
    id: int
    service: str
    unit: str
    serial: str
    model: str
    digits: int
    decimals: int
    status: str = Field(description="working / expired / removed")
    remote: bool
    installed_date: date
    last_verified_date: date | None
    next_verification_date: date | None
    verification_state: str = Field(description="ok / soon (≤ 60 дней) / expired / unknown")
    verification_text: str
    accepts_readings: bool
    refusal_code: str | None = Field(description="meter_expired / meter_remote / meter_removed")
    refusal_message: str | None
    scales: list[ScaleOut]


class AccountMetersOut(Schema):
    account_id: int
    number: str
    window: WindowOut
    period_closed: bool
    count: int
    items: list[MeterOut]


def _meter_out(row: selectors.MeterRow) -> MeterOut:
    meter = row.meter
    return MeterOut(
        id=meter.pk,
        service=row.service,
        unit=row.unit,
        serial=meter.serial,
        model=meter.model,
        digits=meter.digits,
        decimals=meter.decimals,
        status=meter.status,
        remote=meter.remote,
        installed_date=meter.installed_date,
        last_verified_date=meter.last_verified_date,
        next_verification_date=meter.next_verification_date,
        verification_state=row.verification.state,
        verification_text=row.verification.text,
        accepts_readings=row.refusal is None,
        refusal_code=row.refusal.code if row.refusal else None,
        refusal_message=row.refusal.message if row.refusal else None,
        scales=[
            ScaleOut(
                scale=s.scale,
                name=s.name,
                last_value=s.value,
                last_period=s.month,
                last_taken_at=s.taken_at,
                submitted=s.this_period,
            )
            for s in row.scales
        ],
    )


@router.get(
    "/accounts/{id:account_id}/meters",
    response={200: AccountMetersOut, 401: ErrorOut, 404: ErrorOut},
    summary="Счётчики лицевого счёта: последние показания, окно приёма, поверка",
)
def account_meters(request: HttpRequest, account_id: int):
    page = selectors.account_meters(user=request.user, account_id=account_id, now=clock.now())
    w = page.window
    return AccountMetersOut(
        account_id=page.account.pk,
        number=page.account.number,
        window=WindowOut(
            period=w.period,
            is_open=w.is_open,
            day_from=w.day_from,
            day_to=w.day_to,
            opens_on=w.opens_on,
            closes_on=w.closes_on,
            closes_at=w.closes_at,
            days_left=w.days_left,
            text=w.text,
        ),
        period_closed=page.period_closed,
        count=len(page.meters),
        items=[_meter_out(row) for row in page.meters],
    )


class ScaleValueIn(Schema):
    scale: int = Field(1, ge=1, le=4, description="Зона: 1 — день (или единственная), 2 — ночь…")
    value: str | Decimal = Field(description="Показание: «12345,678» или 12345.678")


class ReadingIn(Schema):
    values: list[ScaleValueIn] = Field(description="По одному значению на каждую зону счётчика")
    confirm: list[Literal["rollover", "high"]] = Field(
        default_factory=list,
        description=(
            "Подтверждённые предупреждения из ответа 409 `confirmation_required`: "
            "rollover — счётчик перешёл через ноль, high — расход больше обычного в 3 раза"
        ),
    )


class ReadingOut(Schema):
    id: int
    scale: int
    value: Decimal
    period: date
    taken_at: datetime
    source: str = Field(description="web / app / operator / import / remote")
    status: str = Field(description="accepted / superseded / rejected / confirm")
    reason: str
    consumption: Decimal | None = Field(description="Расход с прошлого показания")
    supersedes_id: int | None = Field(description="Какую версию исправляет")
    rollover: bool
    out_of_window: bool

    @staticmethod
    def resolve_period(obj: Reading) -> date:
        return obj.month


class SubmitOut(Schema):
    meter_id: int
    period: date
    out_of_window: bool = Field(description="Передано вне окна: учтено за следующий период")
    created: bool = Field(description="False — такие же показания уже были приняты")
    corrected: bool
    message: str
    readings: list[ReadingOut]


@router.post(
    "/meters/{id:meter_id}/readings",
    response={
        200: SubmitOut,
        201: SubmitOut,
        401: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    summary="Передать показание (по значению на зону)",
    description=(
        "201 — принято (или исправлено: прежняя версия остаётся в истории); 200 — такие же "
        "показания уже приняты, ничего не изменилось. Вне окна приёма показание сохраняется "
        "и учитывается за следующий месяц (`out_of_window`, `message`). 409 "
        "`confirmation_required` — значение меньше прошлого или расход втрое выше обычного: "
        "в ответе `warnings` (code rollover/high); повторите запрос с `confirm`. 409 "
        "`meter_expired` / `meter_remote` / `meter_removed` / `period_closed` — не "
        "принимается. 422 — не число, отрицательное, лишние цифры, не хватает зоны; ключи "
        "`fields` — «<id счётчика>.<зона>»."
    ),
)
def meter_reading_submit(request: HttpRequest, meter_id: int, data: ReadingIn):
    device = getattr(request, "device", None)
    source = ReadingSource.APP if getattr(device, "kind", "") == "app" else ReadingSource.WEB
    values: dict[int, str] = {}
    for item in data.values:
        values[item.scale] = str(item.value)
    result = services.reading_submit(
        user=request.user,
        items=[
            services.ReadingInput(meter_id=meter_id, values=values, confirm=frozenset(data.confirm))
        ],
        source=source,
        now=clock.now(),
        ip=client_ip(request),
    )
    meter = result.meters[0]
    body = {
        "meter_id": meter.meter.pk,
        "period": result.period,
        "out_of_window": result.out_of_window,
        "created": meter.created,
        "corrected": meter.corrected,
        "message": result.message,
        "readings": meter.readings,
    }
    return Status(201 if meter.created else 200, body)


@router.get(
    "/meters/{id:meter_id}/readings",
    response=list[ReadingOut],
    summary="История показаний счётчика: все версии, с расходом",
)
@paginate(Pagination)
def meter_readings(request: HttpRequest, meter_id: int):
    meter = selectors.meter_for_customer(user=request.user, meter_id=meter_id)
    return selectors.meter_readings(meter=meter)


@router.get(
    "/accounts/{id:account_id}/readings.pdf",
    summary="Переданные показания за период (PDF)",
    openapi_extra={
        "responses": {
            200: {
                "description": "PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def readings_pdf(
    request: HttpRequest,
    account_id: int,
    month_from: str | None = Query(None, alias="from", description="ГГГГ-ММ"),
    month_to: str | None = Query(None, alias="to", description="ГГГГ-ММ"),
) -> HttpResponse:
    document, content = readings_pdf_for_customer(
        user=request.user,
        account_id=account_id,
        raw_from=month_from,
        raw_to=month_to,
        now=clock.now(),
    )
    return pdf_response(content, filename=document.filename, ascii_filename=document.ascii_filename)
