"""Payments API: saved cards, payments (idempotent), receipts, acquirer notifications."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from abonent.core import clock
from abonent.core.http import client_ip
from abonent.core.ids import Id
from abonent.core.pagination import Pagination
from abonent.documents.receipt import payment_receipt_render
from abonent.documents.responses import pdf_response
from abonent.identity.api import ErrorOut
from abonent.identity.auth import customer_auth
from abonent.payments import selectors, services
from abonent.payments.models import Payment, SavedCard
from abonent.payments.services.notify import failure_text
from abonent.payments.state import OPEN, PAID

router = Router(tags=["Оплата и карты"])

ERRORS = {401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# ---------------------------------------------------------------- cards


class CardOut(Schema):
    id: int
    brand: str
    last4: str = Field(description="Последние 4 цифры; номер карты не хранится")
    exp_month: int
    exp_year: int
    title: str
    created_at: datetime


class CardCheckIn(Schema):
    idempotency_key: str = Field(
        "", max_length=64, description="Необязательно: повтор с тем же ключом — та же проверка"
    )


class CardCheckOut(Schema):
    check_id: int = Field(description="id проверочного платежа: GET /payments/{id}")
    status: str
    confirmation_url: str = Field(description="Страница банка: ввод карты и 3-D Secure")


class CardRenameIn(Schema):
    title: str = Field(max_length=40)


@router.get(
    "/cards",
    response={200: list[CardOut], 401: ErrorOut},
    auth=customer_auth,
    summary="Мои сохранённые карты",
)
@paginate(Pagination)
def cards_list(request: HttpRequest) -> Any:
    return selectors.card_list_for_user(user=request.user)


@router.post(
    "/cards",
    response={201: CardCheckOut, **ERRORS},
    auth=customer_auth,
    summary="Добавить карту: проверка 10 ₽ (блокировка и сразу возврат)",
    description=(
        "Создаёт проверочный платёж на 10 ₽ и возвращает confirmation_url — страницу банка, "
        "где клиент вводит карту (и проходит 3-D Secure, если банк попросит). После "
        "подтверждения карта появляется в GET /cards, а 10 ₽ сразу разблокируются."
    ),
)
def cards_add(request: HttpRequest, data: CardCheckIn) -> Any:
    check = services.card_check_start(
        user=request.user,
        site_url=_site_url(request),
        now=clock.now(),
        ip=client_ip(request),
        idempotency_key=data.idempotency_key,
    )
    return Status(
        201,
        {"check_id": check.pk, "status": check.status, "confirmation_url": check.confirmation_url},
    )


@router.patch(
    "/cards/{id:card_id}",
    response={200: CardOut, **ERRORS},
    auth=customer_auth,
    summary="Назвать карту («Зарплатная»)",
)
def cards_rename(request: HttpRequest, card_id: int, data: CardRenameIn) -> SavedCard:
    return services.card_rename(
        user=request.user,
        card_id=card_id,
        title=data.title,
        now=clock.now(),
        ip=client_ip(request),
    )


@router.delete(
    "/cards/{id:card_id}",
    response={204: None, 401: ErrorOut, 404: ErrorOut},
    auth=customer_auth,
    summary="Удалить карту",
)
def cards_delete(request: HttpRequest, card_id: int) -> Any:
    services.card_delete(user=request.user, card_id=card_id, now=clock.now(), ip=client_ip(request))
    return Status(204, None)


# ---------------------------------------------------------------- payments


class LineIn(Schema):
    account_id: Id
    service_id: Id
    amount: Decimal = Field(description="Сумма, ₽: строка «1234.50», не больше двух знаков")


class PaymentIn(Schema):
    lines: list[LineIn] = Field(description="Что оплатить: ЛС × услуга × сумма; 0 — пропустить")
    consent: bool = Field(description="Согласие с правилами оплаты (/pay/rules/)")
    card_id: Id | None = Field(None, description="Сохранённая карта; без неё — новая карта")
    save_card: bool = Field(False, description="Сохранить новую карту для следующих оплат")
    idempotency_key: str = Field(
        max_length=64,
        description=(
            "Ключ клиента (8–64 символа): повтор с тем же ключом и телом вернёт тот же платёж, "
            "с тем же ключом и другим телом — 409 idempotency_key_reused"
        ),
    )


class PaymentLineOut(Schema):
    account_id: int
    account_number: str
    service_id: int
    service: str
    amount: Decimal

    @staticmethod
    def resolve_account_number(obj: Any) -> str:
        return str(obj.account.number)

    @staticmethod
    def resolve_service(obj: Any) -> str:
        return str(obj.service.name)


class PaymentOut(Schema):
    id: int
    purpose: str = Field(description="dues — оплата услуг, card_check — проверка карты")
    status: str = Field(
        description="created, pending, waiting_for_capture, succeeded, failed, canceled, "
        "refunded, partially_refunded"
    )
    status_label: str
    amount: Decimal
    refunded_amount: Decimal
    created_at: datetime
    paid_at: datetime | None
    card_brand: str
    card_last4: str
    confirmation_url: str = Field(description="Куда отправить клиента, пока платёж не завершён")
    failure_reason: str
    failure_message: str
    fiscal_receipt_url: str = Field(description="Чек 54-ФЗ у эквайера, если он его выдал")
    receipt_url: str = Field(description="Квитанция об оплате (PDF), когда платёж прошёл")
    lines: list[PaymentLineOut]

    @staticmethod
    def resolve_status_label(obj: Payment) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_confirmation_url(obj: Payment) -> str:
        return obj.confirmation_url if obj.status in OPEN else ""

    @staticmethod
    def resolve_failure_message(obj: Payment) -> str:
        return failure_text(obj.failure_reason) if obj.failure_reason else ""

    @staticmethod
    def resolve_receipt_url(obj: Payment) -> str:
        if obj.status not in PAID or obj.purpose != "dues":
            return ""
        return reverse("api:payment_receipt", kwargs={"payment_id": obj.pk})

    @staticmethod
    def resolve_lines(obj: Payment) -> list[Any]:
        return list(obj.lines.all())


@router.post(
    "/payments",
    response={200: PaymentOut, 201: PaymentOut, **ERRORS},
    auth=customer_auth,
    summary="Оплатить: несколько ЛС и услуг одним платежом, без комиссии",
    description=(
        "201 — новый платёж, 200 — повтор с тем же ключом (тот же платёж). Дальше клиента "
        "ведут на confirmation_url (новая карта или 3-D Secure); с сохранённой картой платёж "
        "обычно сразу succeeded. Статус — GET /payments/{id}."
    ),
)
def payments_create(request: HttpRequest, data: PaymentIn) -> Any:
    result = services.payment_start(
        user=request.user,
        lines=[services.LineInput(x.account_id, x.service_id, x.amount) for x in data.lines],
        consent=data.consent,
        card_id=data.card_id,
        save_card=data.save_card,
        idempotency_key=data.idempotency_key,
        site_url=_site_url(request),
        now=clock.now(),
        ip=client_ip(request),
    )
    payment = selectors.payment_for_user(user=request.user, payment_id=result.payment.pk)
    return Status(201 if result.created else 200, payment)


@router.get(
    "/payments",
    response={200: list[PaymentOut], 401: ErrorOut},
    auth=customer_auth,
    summary="Мои платежи и их состояние",
)
@paginate(Pagination)
def payments_list(request: HttpRequest) -> Any:
    return selectors.payment_list_for_user(user=request.user)


@router.get(
    "/payments/{id:payment_id}",
    response={200: PaymentOut, 401: ErrorOut, 404: ErrorOut},
    auth=customer_auth,
    summary="Платёж: состояние, строки, чек",
)
def payments_detail(request: HttpRequest, payment_id: int) -> Payment:
    return selectors.payment_for_user(user=request.user, payment_id=payment_id)


@router.get(
    "/payments/{id:payment_id}/receipt.pdf",
    url_name="payment_receipt",
    response={200: None, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=customer_auth,
    summary="Квитанция об оплате (PDF) со ссылкой на чек 54-ФЗ",
    openapi_extra=PDF_RESPONSE,
)
def payments_receipt(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = selectors.payment_for_user(user=request.user, payment_id=payment_id, purpose="dues")
    document = payment_receipt_render(payment=payment)
    return pdf_response(
        document.content, filename=document.filename, ascii_filename=document.ascii_filename
    )


class WebhookOut(Schema):
    status: str


@router.post(
    "/payments/webhooks/{gateway}",
    response={200: WebhookOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=None,
    summary="Уведомления эквайера (не для приложений)",
    description=(
        "sandbox — подпись HMAC-SHA256 тела в X-Sandbox-Signature; yookassa — только с "
        "опубликованных адресов ЮKassa, состояние платежа перепроверяется запросом к API. "
        "Повтор события с тем же id ничего не меняет."
    ),
)
def payments_webhook(request: HttpRequest, gateway: str) -> Any:
    outcome = services.webhook_receive(
        gateway_name=gateway,
        body=request.body,
        headers=request.headers,
        client_ip=client_ip(request),
        now=clock.now(),
    )
    return {"status": outcome}
