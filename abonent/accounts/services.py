"""Accounts writes: linking an ЛС to a customer (checked against the bill), renaming, unlinking.

Linking asks for the number, the owner's surname and the address together and answers any
mismatch with one message, so that nobody can learn which part was wrong; failures are
limited per user and per IP (the counters live in the cache).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink, AccountStatus, Address, PersonalAccount
from abonent.core.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from abonent.core.services import audit_record

LINK_FAILURE_LIMIT = 10
LINK_FAILURE_WINDOW = timedelta(hours=1)
LABEL_MAX_LENGTH = 60


def _no_match_message() -> str:
    return _(
        "Не нашли лицевой счёт с такими данными. "
        "Проверьте номер, фамилию собственника и адрес по квитанции."
    )


# ---------------------------------------------------------------- normalisation

_STREET_PREFIXES = (
    "улица",
    "ул",
    "проспект",
    "пр-кт",
    "просп",
    "пр",
    "переулок",
    "пер",
    "бульвар",
    "б-р",
    "бул",
    "шоссе",
    "ш",
    "площадь",
    "пл",
    "проезд",
    "пр-д",
    "микрорайон",
    "мкр",
    "набережная",
    "наб",
)
_SETTLEMENT_PREFIXES = ("город", "г", "посёлок", "поселок", "пос", "п", "село", "с", "деревня", "д")
_HOUSE_PREFIXES = ("дом", "д")
_FLAT_PREFIXES = ("квартира", "кв")
_BUILDING_WORDS = ("корпус", "корп", "к", "строение", "стр", "литера", "лит")


def _base(text: str) -> str:
    text = (text or "").lower().replace("ё", "е")
    text = re.sub(r"[«»\"'`]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _strip_prefixes(text: str, prefixes: tuple[str, ...]) -> str:
    """Drop a leading or trailing type word («ул.», «улица», «г.»…) and punctuation."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        match = re.match(rf"^{re.escape(prefix)}(\.\s*|\s+)(.+)$", text)
        if match:
            text = match.group(2)
            break
    for suffix in sorted(prefixes, key=len, reverse=True):
        match = re.match(rf"^(.+?)[\s,]+{re.escape(suffix)}\.?$", text)
        if match:
            text = match.group(1)
            break
    return re.sub(r"[.,\s]+", " ", text).strip()


def normalize_settlement(text: str) -> str:
    return _strip_prefixes(_base(text), _SETTLEMENT_PREFIXES)


def normalize_street(text: str) -> str:
    return _strip_prefixes(_base(text), _STREET_PREFIXES)


def normalize_house(house: str, building: str = "") -> str:
    """«7а», «7 А», «д. 7-а», «7 корп. 2» → a compact form: digits and letters only."""
    text = _strip_prefixes(_base(house), _HOUSE_PREFIXES) + " " + _base(building)
    for word in sorted(_BUILDING_WORDS, key=len, reverse=True):
        text = re.sub(rf"(?<![а-яa-z]){re.escape(word)}\.?(?![а-яa-z])", " ", text)
    return re.sub(r"[^0-9a-zа-я]", "", text)


def normalize_flat(text: str) -> str:
    return re.sub(r"[^0-9a-zа-я]", "", _strip_prefixes(_base(text), _FLAT_PREFIXES))


def normalize_surname(text: str) -> str:
    words = _base(text).replace("-", " ").split()
    return words[0] if words else ""


def address_matches(
    address: Address, *, settlement: str, street: str, house: str, flat: str
) -> bool:
    return (
        normalize_settlement(address.settlement) == normalize_settlement(settlement)
        and normalize_street(address.street) == normalize_street(street)
        and normalize_house(address.house, address.building) == normalize_house(house)
        and normalize_flat(address.flat) == normalize_flat(flat)
    )


def owner_masked(owner_name: str) -> str:
    """«Иванова Анна Петровна» → «Иванова А. П.»: enough to recognise, not to copy."""
    words = owner_name.split()
    if not words:
        return ""
    return " ".join([words[0], *(f"{w[0].upper()}." for w in words[1:])])


# ---------------------------------------------------------------- failure limit


def _failure_keys(*, user: Any, ip: str | None) -> list[str]:
    keys = [f"accounts:link-fail:user:{user.pk}"]
    if ip:
        keys.append(f"accounts:link-fail:ip:{ip}")
    return keys


def _recent(key: str, *, now: datetime) -> list[float]:
    since = (now - LINK_FAILURE_WINDOW).timestamp()
    return [t for t in cache.get(key, []) if t > since]


def _check_failure_limit(*, user: Any, ip: str | None, now: datetime) -> None:
    for key in _failure_keys(user=user, ip=ip):
        recent = _recent(key, now=now)
        if len(recent) >= LINK_FAILURE_LIMIT:
            retry = math.ceil(min(recent) + LINK_FAILURE_WINDOW.total_seconds() - now.timestamp())
            minutes = max(1, (retry + 59) // 60)
            raise TooManyRequests(
                _(
                    "Слишком много неудачных попыток. Попробуйте снова через %(minutes)s мин. "
                    "или позвоните в call-центр."
                )
                % {"minutes": minutes},
                code="link_attempts_exceeded",
                retry_after=max(1, retry),
            )


def _record_failure(*, user: Any, ip: str | None, now: datetime) -> None:
    timeout = int(LINK_FAILURE_WINDOW.total_seconds())
    for key in _failure_keys(user=user, ip=ip):
        cache.set(key, [*_recent(key, now=now), now.timestamp()], timeout)


# ---------------------------------------------------------------- preview and link


@dataclass(frozen=True)
class AccountPreview:
    account_id: int
    branch_id: int
    branch_name: str
    number: str
    address: str
    owner: str
    services: list[str] = field(default_factory=list)


def _find_account(
    *,
    user: Any,
    branch_id: int,
    number: str,
    owner_surname: str,
    settlement: str,
    street: str,
    house: str,
    flat: str,
    now: datetime,
    ip: str | None,
) -> PersonalAccount:
    """The ЛС the customer described, or a failure counted against them (one message)."""
    _check_failure_limit(user=user, ip=ip, now=now)
    number = re.sub(r"\s+", "", number or "")
    account = (
        PersonalAccount.objects.select_related("address", "branch")
        .filter(branch_id=branch_id, branch__is_active=True, number=number)
        .first()
        if number.isdigit()
        else None
    )
    surname = normalize_surname(owner_surname)
    if (
        account is None
        or not surname
        or normalize_surname(account.owner_name) != surname
        or not address_matches(
            account.address, settlement=settlement, street=street, house=house, flat=flat
        )
    ):
        _record_failure(user=user, ip=ip, now=now)
        raise ValidationFailed(_no_match_message(), code="account_not_found")
    if account.status == AccountStatus.CLOSED:
        raise Conflict(
            _(
                "Этот лицевой счёт закрыт: по нему больше нет начислений. "
                "Если это ошибка, позвоните в call-центр."
            ),
            code="account_closed",
        )
    if AccountLink.objects.filter(user=user, account=account).exists():
        raise Conflict(_("Этот лицевой счёт уже добавлен в ваш кабинет."), code="already_linked")
    return account


def account_preview(
    *,
    user: Any,
    branch_id: int,
    number: str,
    owner_surname: str,
    settlement: str,
    street: str,
    house: str,
    flat: str,
    now: datetime,
    ip: str | None,
) -> AccountPreview:
    """What `account_link` with the same data would link; writes nothing but the counter."""
    account = _find_account(
        user=user,
        branch_id=branch_id,
        number=number,
        owner_surname=owner_surname,
        settlement=settlement,
        street=street,
        house=house,
        flat=flat,
        now=now,
        ip=ip,
    )
    services = [
        s.service.name
        for s in account.account_services.select_related("service").order_by(
            "service__sort_order", "service__name"
        )
        if s.valid_from <= now.date() and (s.valid_to is None or s.valid_to > now.date())
    ]
    return AccountPreview(
        account_id=account.pk,
        branch_id=account.branch_id,
        branch_name=account.branch.name,
        number=account.number,
        address=str(account.address),
        owner=owner_masked(account.owner_name),
        services=services,
    )


def account_link(
    *,
    user: Any,
    branch_id: int,
    number: str,
    owner_surname: str,
    settlement: str,
    street: str,
    house: str,
    flat: str,
    now: datetime,
    ip: str | None,
    label: str = "",
) -> AccountLink:
    account = _find_account(
        user=user,
        branch_id=branch_id,
        number=number,
        owner_surname=owner_surname,
        settlement=settlement,
        street=street,
        house=house,
        flat=flat,
        now=now,
        ip=ip,
    )
    label = _clean_label(label)
    try:
        with transaction.atomic():
            link = AccountLink.objects.create(
                user=user, account=account, label=label, created_at=now
            )
            audit_record(
                now=now,
                action="account.link",
                actor=user,
                target=link,
                ip=ip,
                data={"account_id": account.pk, "number": account.number},
            )
    except IntegrityError as exc:  # a double click that raced the check above
        raise Conflict(
            _("Этот лицевой счёт уже добавлен в ваш кабинет."), code="already_linked"
        ) from exc
    return link


def _clean_label(label: str) -> str:
    label = re.sub(r"\s+", " ", label or "").strip()
    if len(label) > LABEL_MAX_LENGTH:
        raise ValidationFailed(
            _("Название — не длиннее %(n)s символов.") % {"n": LABEL_MAX_LENGTH},
            code="label_too_long",
            fields={"label": [_("Не длиннее %(n)s символов.") % {"n": LABEL_MAX_LENGTH}]},
        )
    return label


def _own_link(*, user: Any, account_id: int, for_update: bool = False) -> AccountLink:
    links = AccountLink.objects.filter(user=user, account_id=account_id).select_related("account")
    if for_update:
        links = links.select_for_update()
    link = links.first()
    if link is None:
        raise NotFound(_("Лицевой счёт не найден."), code="account_not_found")
    return link


@transaction.atomic
def account_rename(
    *, user: Any, account_id: int, label: str, now: datetime, ip: str | None = None
) -> AccountLink:
    """Give a linked ЛС the customer's own name («Дача»); an empty name clears it."""
    link = _own_link(user=user, account_id=account_id, for_update=True)
    old = link.label
    link.label = _clean_label(label)
    link.save(update_fields=["label"])
    audit_record(
        now=now,
        action="account.rename",
        actor=user,
        target=link,
        ip=ip,
        data={"from": old, "to": link.label},
    )
    return link


@transaction.atomic
def account_unlink(*, user: Any, account_id: int, now: datetime, ip: str | None = None) -> None:
    link = _own_link(user=user, account_id=account_id, for_update=True)
    audit_record(
        now=now,
        action="account.unlink",
        actor=user,
        target=link,
        ip=ip,
        data={"account_id": link.account_id, "number": link.account.number},
    )
    link.delete()


def account_links_remove_all(*, user: Any) -> int:
    """Unlink every ЛС of a user (on account deletion); the ЛС themselves stay with the utility."""
    deleted, _rows = AccountLink.objects.filter(user=user).delete()
    return deleted
