"""Everything Abonent holds about one customer (152-ФЗ, ст. 14): gathered in one document,
rendered as JSON, or as a ZIP with the JSON, a Russian summary and the appeal attachments.

This module is the one place that reads every table about a person (read-only); a model that
names a user or an ЛС is either exported here or listed, with the reason, in the test that
enumerates them (`tests/test_export.py`). Never exported: card tokens (only brand, last four
digits and expiry), password and PIN hashes, device tokens, push keys, internal notes of
specialists, other customers' data on a shared ЛС, names of staff members."""

from __future__ import annotations

import io
import logging
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.core.files.storage import storages
from django.db.models import Prefetch

from abonent.accounts.models import AccountLink
from abonent.appeals.models import Appeal, Attachment, CallbackRequest, Message
from abonent.billing.models import Bill, Charge, PeriodStatus
from abonent.billing.selectors.balances import balances_for_accounts
from abonent.core.models import AuditEntry
from abonent.identity.models import Device
from abonent.meters.models import Meter, Reading
from abonent.notices.models import (
    ChannelPreference,
    Notification,
    NotificationSettings,
    PushSubscription,
)
from abonent.payments.models import AutopaySetting, Payment, SavedCard

log = logging.getLogger(__name__)

FORMAT = "abonent-personal-data"
VERSION = 1
# Attachments go into the ZIP up to this total; past it they are listed with their size only.
ZIP_ATTACHMENTS_MAX_BYTES = 50 * 1024 * 1024


def _v(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, *names: str) -> dict[str, Any]:
    return {name: _v(getattr(obj, name)) for name in names}


@dataclass
class Export:
    data: dict[str, Any]
    attachments: list[Attachment]

    def json_bytes(self) -> bytes:
        return orjson.dumps(self.data, option=orjson.OPT_INDENT_2)


# ---------------------------------------------------------------- gathering


def _profile(user: Any) -> dict[str, Any]:
    return {
        **_row(user, "id", "phone", "email", "last_name", "first_name", "patronymic"),
        "registered_at": _v(user.date_joined),
        "last_login_at": _v(user.last_login),
    }


def _accounts(user: Any) -> list[dict[str, Any]]:
    links = list(
        AccountLink.objects.filter(user=user)
        .select_related("account__branch", "account__address")
        .order_by("created_at", "pk")
    )
    account_ids = [link.account_id for link in links]
    balances = balances_for_accounts(account_ids=account_ids)
    bills: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for bill in (
        Bill.objects.filter(account_id__in=account_ids)
        .select_related("period")
        .order_by("period__month", "pk")
    ):
        bills[bill.account_id].append(
            {
                "number": bill.number,
                "month": _v(bill.period.month),
                **_row(bill, "opening_balance", "charged", "recalculated", "paid", "total_due"),
                "issued_at": _v(bill.issued_at),
            }
        )
    charges: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for charge in (
        Charge.objects.filter(account_id__in=account_ids, period__status=PeriodStatus.CLOSED)
        .select_related("service", "period")
        .order_by("period__month", "service__sort_order", "for_month", "pk")
    ):
        charges[charge.account_id].append(
            {
                "month": _v(charge.period.month),
                "for_month": _v(charge.for_month),
                "service": charge.service.name,
                **_row(charge, "method", "volume", "unit", "tariff", "amount"),
                "recalculation": charge.is_recalculation,
                "reason": charge.reason,
            }
        )
    meters: dict[int, list[dict[str, Any]]] = defaultdict(list)
    readings = Prefetch("readings", queryset=Reading.objects.order_by("month", "scale", "pk"))
    for m in (
        Meter.objects.filter(account_id__in=account_ids)
        .select_related("service")
        .prefetch_related(readings)
        .order_by("pk")
    ):
        meters[m.account_id].append(
            {
                **_row(m, "serial", "model", "status", "scales", "installed_date"),
                "service": m.service.name,
                **_row(m, "last_verified_date", "next_verification_date"),
                "readings": [
                    _row(r, "month", "scale", "value", "consumption", "source", "status")
                    | {"taken_at": _v(r.taken_at), "reason": r.reason}
                    for r in m.readings.all()
                ],
            }
        )
    out = []
    for link in links:
        account = link.account
        out.append(
            {
                "number": account.number,
                "branch": account.branch.name,
                "address": str(account.address),
                "owner_name": account.owner_name,
                **_row(account, "area", "residents", "status"),
                "label": link.label,
                "linked_at": _v(link.created_at),
                "balances": [
                    {"service": b.name, "balance": _v(b.balance)}
                    for b in balances.get(account.pk, [])
                ],
                "bills": bills[account.pk],
                "charges": charges[account.pk],
                "meters": meters[account.pk],
            }
        )
    return out


def _payments(user: Any) -> list[dict[str, Any]]:
    rows = (
        Payment.objects.filter(user=user)
        .prefetch_related("lines__account", "lines__service", "refunds")
        .order_by("created_at", "pk")
    )
    return [
        {
            **_row(p, "id", "purpose", "source", "status", "amount", "refunded_amount"),
            "card": f"{p.card_brand} •• {p.card_last4}" if p.card_last4 else "",
            "created_at": _v(p.created_at),
            "paid_at": _v(p.paid_at),
            "fiscal_receipt_url": p.fiscal_receipt_url,
            "lines": [
                {"account": line.account.number, "service": line.service.name}
                | _row(line, "amount", "refunded_amount")
                for line in p.lines.all()
            ],
            "refunds": [
                _row(r, "amount", "status", "reason", "created_at", "finished_at")
                for r in p.refunds.all()
            ],
        }
        for p in rows
    ]


def _cards(user: Any) -> list[dict[str, Any]]:
    # The acquirer's token is never exported: it is a key to charge the card.
    return [
        _row(c, "brand", "last4", "exp_month", "exp_year", "title", "created_at", "deleted_at")
        for c in SavedCard.objects.filter(user=user).order_by("created_at", "pk")
    ]


def _autopay(user: Any) -> list[dict[str, Any]]:
    return [
        {"account": a.account.number, "card": f"{a.card.brand} •• {a.card.last4}"}
        | _row(a, "mode", "day", "cap", "enabled", "created_at", "updated_at")
        for a in AutopaySetting.objects.filter(user=user).select_related("account", "card")
    ]


def _appeals(user: Any) -> tuple[list[dict[str, Any]], list[Attachment]]:
    messages = Prefetch(
        "messages",
        queryset=Message.objects.filter(is_internal=False)
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("pk"),
    )
    files: list[Attachment] = []
    out = []
    for appeal in (
        Appeal.objects.filter(user=user)
        .select_related("category", "account")
        .prefetch_related(messages)
        .order_by("created_at", "pk")
    ):
        thread = []
        for m in appeal.messages.all():
            attachments = list(m.attachments.all())
            files += attachments
            thread.append(
                {
                    "at": _v(m.created_at),
                    "from": "auto" if m.is_auto else ("operator" if m.is_operator else "you"),
                    "body": m.body,
                    "attachments": [
                        {
                            "id": a.pk,
                            "name": a.name,
                            "size": a.size,
                            "content_type": a.content_type,
                            "file": _zip_name(a),
                        }
                        for a in attachments
                    ],
                }
            )
        out.append(
            {
                "id": appeal.pk,
                "category": appeal.category.name,
                "account": appeal.account.number if appeal.account else None,
                **_row(appeal, "subject", "status", "created_at", "closed_at"),
                **_row(appeal, "rating", "rating_comment"),
                "messages": thread,
            }
        )
    return out, files


def _callbacks(user: Any) -> list[dict[str, Any]]:
    return [
        _row(c, "phone", "slot_from", "slot_to", "status", "created_at")
        for c in CallbackRequest.objects.filter(user=user).order_by("created_at", "pk")
    ]


def _notifications(user: Any) -> dict[str, Any]:
    settings_row = NotificationSettings.objects.filter(user=user).first()
    return {
        "items": [
            _row(n, "kind", "title", "body", "created_at", "read_at", "emergency")
            for n in Notification.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "quiet_hours": _row(settings_row, "quiet_enabled", "quiet_from", "quiet_to")
        if settings_row
        else None,
        "channels": [
            _row(p, "kind", "channel", "enabled")
            for p in ChannelPreference.objects.filter(user=user).order_by("kind", "channel")
        ],
        "push_subscriptions": [
            _row(s, "user_agent", "created_at", "last_success_at")
            for s in PushSubscription.objects.filter(user=user).order_by("created_at", "pk")
        ],
    }


def _devices(user: Any) -> list[dict[str, Any]]:
    return [
        _row(d, "kind", "name", "ip", "user_agent", "created_at", "last_seen_at", "revoked_at")
        | {"pin": d.has_pin}
        for d in Device.objects.filter(user=user).order_by("created_at", "pk")
    ]


def _audit(user: Any) -> list[dict[str, Any]]:
    """What was done with their data: their own actions with details; a staff member's as
    «сотрудник» with the action and object (the staff member's name stays internal)."""
    out = []
    rows = (
        AuditEntry.objects.filter(subject_user_id=user.pk)
        .select_related("actor")
        .order_by("at", "pk")
    )
    for e in rows:
        own = e.actor_id == user.pk
        staff = e.actor is not None and e.actor.is_staff and not own
        out.append(
            {
                "at": _v(e.at),
                "who": "you" if own else ("staff" if staff else "system"),
                "action": e.action,
                "object": e.object_type,
                "ip": e.ip if own else None,
                "details": e.data if own else {},
            }
        )
    return out


def export_collect(*, user: Any, now: datetime) -> Export:
    appeals, files = _appeals(user)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": _v(now),
        "profile": _profile(user),
        "consent": {"version": user.consent_version, "given_at": _v(user.consent_at)},
        "accounts": _accounts(user),
        "payments": _payments(user),
        "cards": _cards(user),
        "autopay": _autopay(user),
        "appeals": appeals,
        "callbacks": _callbacks(user),
        "notifications": _notifications(user),
        "devices": _devices(user),
        "audit": _audit(user),
    }
    return Export(data=data, attachments=files)


# ---------------------------------------------------------------- ZIP


def _zip_name(a: Attachment) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in a.name).strip() or "file"
    return f"attachments/{a.pk}-{safe}"


def export_zip(export: Export) -> bytes:
    """data.json, сводка.txt (Russian, for a person) and attachments/ (up to the cap)."""
    buffer = io.BytesIO()
    storage = storages["private"]
    skipped: list[str] = []
    total = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", export.json_bytes())
        for a in export.attachments:
            if total + a.size > ZIP_ATTACHMENTS_MAX_BYTES:
                skipped.append(a.name)
                continue
            try:
                with storage.open(a.path, "rb") as fh:
                    content = fh.read()
            except OSError:
                log.warning("export: attachment %s (%s) is missing from storage", a.pk, a.path)
                skipped.append(a.name)
                continue
            total += len(content)
            archive.writestr(_zip_name(a), content, compress_type=zipfile.ZIP_STORED)
        archive.writestr("сводка.txt", summary_text(export.data, skipped=skipped))
    return buffer.getvalue()


def summary_text(data: dict[str, Any], *, skipped: Sequence[str] = ()) -> str:
    p = data["profile"]
    name = " ".join(x for x in (p["last_name"], p["first_name"], p["patronymic"]) if x)
    lines = [
        "Абонент — ваши персональные данные",
        f"Выгрузка сформирована: {data['generated_at']}",
        "",
        "Полные данные — в файле data.json (формат JSON), вложения обращений — в папке "
        "attachments.",
        "",
        "ПРОФИЛЬ",
        f"  ФИО: {name or '—'}",
        f"  Телефон: {p['phone'] or '—'}",
        f"  E-mail: {p['email'] or '—'}",
        f"  Зарегистрирован: {p['registered_at']}",
        f"  Согласие на обработку данных: версия {data['consent']['version'] or '—'}, "
        f"дано {data['consent']['given_at'] or '—'}",
        "",
        f"ЛИЦЕВЫЕ СЧЕТА: {len(data['accounts'])}",
    ]
    for a in data["accounts"]:
        lines.append(f"  ЛС {a['number']}, {a['address']} ({a['branch']})")
        for b in a["balances"]:
            lines.append(f"    {b['service']}: баланс {b['balance']} ₽")
        lines.append(
            f"    квитанций: {len(a['bills'])}, начислений: {len(a['charges'])}, "
            f"счётчиков: {len(a['meters'])}, "
            f"показаний: {sum(len(m['readings']) for m in a['meters'])}"
        )
    paid = sum(
        (Decimal(x["amount"]) for x in data["payments"] if x["status"] == "succeeded"),
        Decimal("0.00"),
    )
    lines += [
        "",
        f"ПЛАТЕЖИ: {len(data['payments'])}, успешных на сумму {paid} ₽",
        f"СОХРАНЁННЫЕ КАРТЫ: {len(data['cards'])} (номера карт мы не храним, только последние "
        "4 цифры)",
    ]
    for c in data["cards"]:
        lines.append(f"  {c['brand']} •• {c['last4']}, до {c['exp_month']:02}/{c['exp_year']}")
    lines += [
        "",
        f"ОБРАЩЕНИЯ: {len(data['appeals'])}",
        *(
            f"  № {x['id']} «{x['subject']}»: сообщений {len(x['messages'])}"
            for x in data["appeals"]
        ),
        f"ОПОВЕЩЕНИЯ: {len(data['notifications']['items'])}",
        f"УСТРОЙСТВА И СЕАНСЫ: {len(data['devices'])}",
        f"ЖУРНАЛ ДЕЙСТВИЙ С ВАШИМИ ДАННЫМИ: {len(data['audit'])} записей "
        f"(из них сотрудников: {sum(1 for e in data['audit'] if e['who'] == 'staff')})",
    ]
    if skipped:
        lines += ["", "Не вошли в архив (слишком большие или недоступны): " + ", ".join(skipped)]
    return "\n".join(lines) + "\n"
