"""The sandbox acquirer's HTTP face: a small JSON API for merchants (Bearer shop secret) and
the hosted pages a customer sees (card form, 3-D Secure, fiscal receipt)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from abonent.core import clock
from abonent.payments.gateways.sandbox.bank import services
from abonent.payments.gateways.sandbox.bank.models import BankStatus


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sandbox_bank:root")).rstrip("/")


def _api(view: Callable[..., dict[str, Any]]) -> Callable[..., HttpResponse]:
    """JSON in/out, the shop's secret as a Bearer token, errors as {"code","message"}."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        expected = f"Bearer {settings.PAYMENTS_SANDBOX_SHOP_SECRET}"
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return JsonResponse({"code": "unauthorized", "message": "bad credentials"}, status=401)
        try:
            data = json.loads(request.body or b"{}") if request.method == "POST" else {}
            if not isinstance(data, dict):
                raise services.BankError("body must be a JSON object")
            result = view(request, data, *args, **kwargs)
        except json.JSONDecodeError:
            return JsonResponse({"code": "invalid_json", "message": "malformed JSON"}, status=400)
        except services.BankError as exc:
            return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)
        return JsonResponse(result, json_dumps_params={"ensure_ascii": False})

    return wrapper


def root(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox_bank/about.html", {"cards": services.TEST_CARDS.values()})


@require_http_methods(["GET", "POST"])
@_api
def payments(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    if request.method != "POST":
        raise services.BankError("use POST to create a payment", code="method_not_allowed")
    payment, _ = services.bank_payment_create(
        data=data,
        idempotence_key=request.headers.get("Idempotence-Key", ""),
        now=clock.now(),
        base_url=_base_url(request),
    )
    return services.payment_json(payment, base_url=_base_url(request))


@require_http_methods(["GET"])
@_api
def payment_detail(request: HttpRequest, data: dict[str, Any], public_id: str) -> dict[str, Any]:
    payment = services.bank_payment_get(public_id=public_id)
    return services.payment_json(payment, base_url=_base_url(request))


@require_http_methods(["POST"])
@_api
def payment_capture(request: HttpRequest, data: dict[str, Any], public_id: str) -> dict[str, Any]:
    payment = services.bank_payment_capture(
        public_id=public_id, amount=data.get("amount"), now=clock.now(), base_url=_base_url(request)
    )
    return services.payment_json(payment, base_url=_base_url(request))


@require_http_methods(["POST"])
@_api
def payment_cancel(request: HttpRequest, data: dict[str, Any], public_id: str) -> dict[str, Any]:
    payment = services.bank_payment_cancel(
        public_id=public_id, now=clock.now(), base_url=_base_url(request)
    )
    return services.payment_json(payment, base_url=_base_url(request))


@require_http_methods(["POST"])
@_api
def refunds(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    refund = services.bank_refund_create(
        data=data,
        idempotence_key=request.headers.get("Idempotence-Key", ""),
        now=clock.now(),
        base_url=_base_url(request),
    )
    return services.refund_json(refund)


# ---------------------------------------------------------------- hosted pages


def _page_payment(public_id: str) -> Any:
    try:
        return services.bank_payment_get(public_id=public_id)
    except services.BankError as exc:
        raise Http404("Платёж не найден") from exc


def _finish(payment: Any) -> HttpResponse:
    if payment.return_url:
        return HttpResponseRedirect(payment.return_url)
    return HttpResponseRedirect(reverse("sandbox_bank:done", args=[payment.public_id]))


def _expiry(value: str) -> tuple[int, int]:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) not in (4, 6):
        return 0, 0
    month = int(digits[:2])
    year = int(digits[2:])
    return month, year + 2000 if year < 100 else year


@csrf_exempt  # a separate «bank»: its form posts to itself; no Abonent session is involved
@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _page_payment(public_id)
    if payment.status != BankStatus.PENDING:
        return _finish(payment)
    if payment.card_id:
        return HttpResponseRedirect(reverse("sandbox_bank:three_ds", args=[public_id]))
    error = ""
    status = 200
    if request.method == "POST":
        month, year = _expiry(request.POST.get("expiry", ""))
        cvc = request.POST.get("cvc", "").strip()
        try:
            if not (cvc.isdigit() and len(cvc) == 3):
                raise services.BankError("Введите три цифры CVC/CVV с обратной стороны карты.")
            payment = services.card_submit(
                public_id=public_id,
                number=request.POST.get("number", ""),
                exp_month=month,
                exp_year=year,
                now=clock.now(),
                base_url=_base_url(request),
            )
        except services.BankError as exc:
            error, status = exc.message, 400
        else:
            if payment.status == BankStatus.PENDING:
                return HttpResponseRedirect(reverse("sandbox_bank:three_ds", args=[public_id]))
            return _finish(payment)
    return render(
        request,
        "sandbox_bank/pay.html",
        {
            "payment": payment,
            "error": error,
            "number": request.POST.get("number", ""),
            "expiry": request.POST.get("expiry", ""),
            "cards": services.TEST_CARDS.values(),
        },
        status=status,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def three_ds_page(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _page_payment(public_id)
    if payment.status != BankStatus.PENDING or payment.card_id is None:
        return _finish(payment)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            payment, finished = services.three_ds_submit(
                public_id=public_id,
                code=request.POST.get("code", ""),
                cancel="cancel" in request.POST,
                now=clock.now(),
                base_url=_base_url(request),
            )
        except services.BankError as exc:
            error, status = exc.message, 400
        else:
            if finished:
                return _finish(payment)
            left = services.THREE_DS_MAX_ATTEMPTS - payment.three_ds_attempts
            error, status = f"Неверный код. Осталось попыток: {left}.", 400
    return render(
        request,
        "sandbox_bank/three_ds.html",
        {"payment": payment, "error": error, "code": services.THREE_DS_CODE},
        status=status,
    )


def done_page(request: HttpRequest, public_id: str) -> HttpResponse:
    return render(request, "sandbox_bank/done.html", {"payment": _page_payment(public_id)})


def receipt_page(request: HttpRequest, public_id: str) -> HttpResponse:
    payment = _page_payment(public_id)
    if not payment.receipt or payment.status != BankStatus.SUCCEEDED:
        raise Http404("Чека нет")
    receipt = payment.receipt
    return render(
        request,
        "sandbox_bank/receipt.html",
        {
            "payment": payment,
            "items": receipt.get("items", []),
            "customer": receipt.get("customer", {}),
            "fd": int(payment.pk) + 10000,
        },
    )
