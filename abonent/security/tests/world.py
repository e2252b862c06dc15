"""A demo-like world for the security suites: two customers, each with a linked ЛС that has
charges, a bill, a meter with readings, a saved card, a paid payment, an appeal with an
attachment and an app device. The ids are what the fuzzer and the access matrix put into
paths; `other` owns the same kinds of rows, so "another customer's object" is always real."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.contrib.auth import get_user_model

from abonent.accounts.models import Branch
from abonent.appeals.models import Attachment, CallbackRequest
from abonent.appeals.tests.factories import (
    make_appeal,
    make_category,
    make_operator,
    pdf_bytes,
    upload,
)
from abonent.billing.models import BillingPeriod
from abonent.billing.tests.factories import read
from abonent.documents.tests.factories import link, make_account, make_branch, october_bill
from abonent.identity import services as identity_services
from abonent.meters.tests.factories import meter
from abonent.notices.models import Notification, PushSubscription
from abonent.payments.models import (
    Payment,
    PaymentLine,
    PaymentPurpose,
    PaymentStatus,
    SavedCard,
)

PASSWORD = "correct-horse-2026"  # the root conftest's CUSTOMER_PASSWORD
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
_seq = count(1)


@dataclass
class Side:
    """One customer and the ids of what they own."""

    user: Any
    token: str
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    owner: Side
    other: Side
    branch: Branch
    operator: Any

    def ids(self, who: str) -> dict[str, int]:
        return getattr(self, who).ids


def _customer(phone: str, first_name: str, last_name: str) -> Any:
    return get_user_model().objects.create_user(
        phone=phone,
        password=PASSWORD,
        first_name=first_name,
        patronymic="Ивановна",
        last_name=last_name,
        email=f"user{next(_seq)}@example.com",
    )


def _side(user: Any, branch: Branch, n: int) -> Side:
    account = make_account(branch=branch, owner_name=f"{user.last_name} Анна Ивановна")
    link(user, account)
    bill = october_bill(account)
    BillingPeriod.objects.filter(pk=bill.period_id).update(status="closed", closed_at=NOW)
    m = meter(account, serial=f"ГВС-{n}")
    reading = read(m, date(2026, 9, 1), "100.000")
    read(m, date(2026, 10, 1), "104.500")
    card = SavedCard.objects.create(
        user=user,
        gateway="sandbox",
        token=f"tok_world_{n}",
        brand="Мир",
        last4="0004",
        exp_month=12,
        exp_year=2030,
        created_at=NOW,
    )
    payment = Payment.objects.create(
        user=user,
        idempotency_key=f"world-payment-{n}",
        request_hash="0" * 64,
        status=PaymentStatus.SUCCEEDED,
        amount=Decimal("1500.00"),
        gateway="sandbox",
        gateway_payment_id=f"world-{n}",
        card=card,
        card_brand="Мир",
        card_last4="0004",
        created_at=NOW,
        updated_at=NOW,
        paid_at=NOW,
        consent_at=NOW,
    )
    charge = account.charges.order_by("pk").first()
    assert charge is not None
    PaymentLine.objects.create(
        payment=payment, account=account, service=charge.service, amount=Decimal("1500.00")
    )
    appeal = make_appeal(
        user,
        category=make_category(),
        account_id=account.pk,
        files=[upload("квитанция.pdf", pdf_bytes(), "application/pdf")],
        now=NOW,
    )
    attachment = Attachment.objects.filter(message__appeal=appeal).order_by("pk").first()
    assert attachment is not None
    callback = CallbackRequest.objects.create(
        user=user,
        appeal=appeal,
        branch=branch,
        phone=user.phone,
        slot_from=NOW,
        slot_to=NOW + timedelta(minutes=30),
        created_at=NOW,
    )
    card_check = Payment.objects.create(
        user=user,
        purpose=PaymentPurpose.CARD_CHECK,
        idempotency_key=f"world-check-{n}",
        request_hash="0" * 64,
        status=PaymentStatus.CANCELED,
        amount=Decimal("10.00"),
        gateway="sandbox",
        gateway_payment_id=f"world-check-{n}",
        created_at=NOW,
        updated_at=NOW,
    )
    notification = Notification.objects.create(
        user=user,
        kind="bill",
        title="Новая квитанция",
        created_at=NOW,
        dedupe_key=f"world-{n}",
    )
    subscription = PushSubscription.objects.create(
        user=user,
        endpoint=f"https://fcm.googleapis.com/fcm/send/world-{n}",
        p256dh="p256dh",
        auth="auth",
        created_at=NOW,
    )
    # The token signs the side's requests; `device_id` is another device of theirs to revoke.
    _, token = identity_services.device_open_app(
        user=user, name="Телефон", ip="127.0.0.1", user_agent="pytest", now=NOW
    )
    device, _ = identity_services.device_open_app(
        user=user, name="Планшет", ip="127.0.0.1", user_agent="pytest", now=NOW
    )
    ids = {
        "account_id": account.pk,
        "bill_id": bill.pk,
        "meter_id": m.pk,
        "reading_id": reading.pk,
        "card_id": card.pk,
        "payment_id": payment.pk,
        "appeal_id": appeal.pk,
        "message_id": attachment.message_id,
        "attachment_id": attachment.pk,
        "device_id": device.pk,
        "service_id": charge.service_id,
        "branch_id": branch.pk,
        "callback_id": callback.pk,
        "card_check_id": card_check.pk,
        "notification_id": notification.pk,
        "subscription_id": subscription.pk,
    }
    return Side(user=user, token=token, ids=ids)


def build_world() -> World:
    branch = make_branch()
    owner = _customer("+79000000101", "Анна", "Иванова")
    other = _customer("+79000000202", "Мария", "Смирнова")
    return World(
        owner=_side(owner, branch, 1),
        other=_side(other, branch, 2),
        branch=branch,
        operator=make_operator(phone="+79000000909"),
    )
