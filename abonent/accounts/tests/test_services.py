"""Linking an ЛС: all three parts must match; one message for any mismatch; a failure limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from abonent.accounts import services
from abonent.accounts.models import AccountLink
from abonent.accounts.tests.factories import NOW, link, make_account, make_branch
from abonent.core.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from abonent.core.models import AuditEntry

pytestmark = pytest.mark.django_db

NO_MATCH = (
    "Не нашли лицевой счёт с такими данными. "
    "Проверьте номер, фамилию собственника и адрес по квитанции."
)


def good(account: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "branch_id": account.branch_id,
        "number": "240100123456",
        "owner_surname": "Иванова",
        "settlement": "Красноярск",
        "street": "Карла Маркса",
        "house": "7а",
        "flat": "12",
        "now": NOW,
        "ip": "203.0.113.5",
    }
    data.update(changes)
    return data


def test_link_with_matching_data_links_and_audits(customer: Any) -> None:
    account = make_account()

    created = services.account_link(user=customer, **good(account), label="Мамина квартира")

    assert created.account == account
    assert created.label == "Мамина квартира"
    assert created.created_at == NOW
    audit = AuditEntry.objects.get(action="account.link")
    assert audit.actor_id == customer.pk
    assert audit.ip == "203.0.113.5"


@pytest.mark.parametrize(
    "changes",
    [
        {"number": "240100123457"},  # unknown number
        {"owner_surname": "Петрова"},
        {"owner_surname": ""},
        {"settlement": "Абакан"},
        {"street": "Ленина"},
        {"house": "7"},  # the letter is part of the house
        {"house": "7б"},
        {"flat": "13"},
        {"flat": ""},
        {"number": "абв"},
    ],
)
def test_any_mismatch_gives_the_same_message_and_links_nothing(
    customer: Any, changes: dict[str, Any]
) -> None:
    account = make_account()

    with pytest.raises(ValidationFailed) as exc:
        services.account_link(user=customer, **good(account, **changes))

    assert exc.value.message == NO_MATCH
    assert exc.value.code == "account_not_found"
    assert exc.value.fields == {}
    assert AccountLink.objects.count() == 0
    assert AuditEntry.objects.filter(action="account.link").count() == 0


def test_number_of_another_branch_does_not_match(customer: Any) -> None:
    account = make_account()
    other = make_branch("abk", "Абакан")

    with pytest.raises(ValidationFailed) as exc:
        services.account_link(user=customer, **good(account, branch_id=other.pk))

    assert exc.value.message == NO_MATCH


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("street", "ул. Карла Маркса"),
        ("street", "улица карла маркса"),
        ("street", "КАРЛА  МАРКСА"),
        ("street", "Карла Маркса ул."),
        ("settlement", "г. Красноярск"),
        ("settlement", "красноярск"),
        ("house", "7А"),
        ("house", "7 А"),
        ("house", "7-а"),
        ("house", "д. 7а"),
        ("owner_surname", "ИВАНОВА"),
        ("owner_surname", " иванова "),
        ("flat", "кв. 12"),
        ("number", " 2401 0012 3456 "),
    ],
)
def test_address_spelling_is_tolerated(customer: Any, field: str, value: str) -> None:
    account = make_account()

    created = services.account_link(user=customer, **good(account, **{field: value}))

    assert created.account == account


def test_surname_with_yo_matches_without_it(customer: Any) -> None:
    account = make_account(owner_name="Алёшина Вера Ивановна", building="", flat="3", house="15")

    created = services.account_link(
        user=customer, **good(account, owner_surname="Алешина", house="15", flat="3")
    )

    assert created.account == account


def test_closed_account_is_refused_clearly(customer: Any) -> None:
    account = make_account(status="closed")

    with pytest.raises(Conflict) as exc:
        services.account_link(user=customer, **good(account))

    assert exc.value.code == "account_closed"
    assert "закрыт" in exc.value.message
    assert AccountLink.objects.count() == 0


def test_already_linked_is_a_conflict(customer: Any) -> None:
    account = make_account()
    link(customer, account)

    with pytest.raises(Conflict) as exc:
        services.account_link(user=customer, **good(account))

    assert exc.value.code == "already_linked"
    assert exc.value.message == "Этот лицевой счёт уже добавлен в ваш кабинет."
    assert AccountLink.objects.count() == 1


def test_another_customer_may_link_the_same_account(customer: Any, other_customer: Any) -> None:
    account = make_account()
    link(other_customer, account)

    services.account_link(user=customer, **good(account))

    assert AccountLink.objects.filter(account=account).count() == 2


def test_ten_failures_an_hour_lock_linking_even_with_good_data(customer: Any) -> None:
    account = make_account()
    for _ in range(10):
        with pytest.raises(ValidationFailed):
            services.account_link(user=customer, **good(account, flat="99"))

    with pytest.raises(TooManyRequests) as exc:
        services.account_link(user=customer, **good(account))

    assert exc.value.status == 429
    assert exc.value.code == "link_attempts_exceeded"
    assert exc.value.retry_after is not None
    assert 0 < exc.value.retry_after <= 3600
    assert AccountLink.objects.count() == 0


def test_the_limit_counts_per_ip_across_users(customer: Any, other_customer: Any) -> None:
    account = make_account()
    for _ in range(10):
        with pytest.raises(ValidationFailed):
            services.account_link(user=other_customer, **good(account, flat="99"))

    with pytest.raises(TooManyRequests):
        services.account_link(user=customer, **good(account))
    created = services.account_link(user=customer, **good(account, ip="198.51.100.1"))

    assert created.user == customer


def test_failures_older_than_an_hour_do_not_count(customer: Any) -> None:
    account = make_account()
    for _ in range(10):
        with pytest.raises(ValidationFailed):
            services.account_link(user=customer, **good(account, flat="99"))

    created = services.account_link(
        user=customer, **good(account, now=NOW + timedelta(hours=1, seconds=1))
    )

    assert created.account == account


def test_preview_shows_the_account_and_links_nothing(customer: Any) -> None:
    account = make_account()

    preview = services.account_preview(user=customer, **good(account))

    assert preview.number == "240100123456"
    assert preview.owner == "Иванова А. П."
    assert preview.address == "Красноярск, ул. Карла Маркса, д. 7, корп. А, кв. 12"
    assert preview.services == ["Отопление", "Горячая вода"]
    assert preview.branch_name == "Красноярск"
    assert AccountLink.objects.count() == 0


def test_preview_with_a_mismatch_gives_the_same_message(customer: Any) -> None:
    account = make_account()

    with pytest.raises(ValidationFailed) as exc:
        services.account_preview(user=customer, **good(account, owner_surname="Сидорова"))

    assert exc.value.message == NO_MATCH


def test_rename_and_clear_label(customer: Any) -> None:
    account = make_account()
    link(customer, account)

    renamed = services.account_rename(
        user=customer, account_id=account.pk, label="  Дача  ", now=NOW
    )
    assert renamed.label == "Дача"
    cleared = services.account_rename(user=customer, account_id=account.pk, label="", now=NOW)

    assert cleared.label == ""
    assert AuditEntry.objects.filter(action="account.rename").count() == 2


def test_rename_rejects_a_long_label(customer: Any) -> None:
    account = make_account()
    link(customer, account, label="Дом")

    with pytest.raises(ValidationFailed):
        services.account_rename(user=customer, account_id=account.pk, label="я" * 61, now=NOW)

    assert AccountLink.objects.get().label == "Дом"


def test_unlink_removes_only_the_link(customer: Any, other_customer: Any) -> None:
    account = make_account()
    link(customer, account)
    link(other_customer, account)

    services.account_unlink(user=customer, account_id=account.pk, now=NOW)

    assert list(AccountLink.objects.values_list("user_id", flat=True)) == [other_customer.pk]
    assert AuditEntry.objects.filter(action="account.unlink").count() == 1


def test_foreign_account_cannot_be_renamed_or_unlinked(customer: Any, other_customer: Any) -> None:
    account = make_account()
    link(other_customer, account, label="Чужой")

    with pytest.raises(NotFound):
        services.account_rename(user=customer, account_id=account.pk, label="Моё", now=NOW)
    with pytest.raises(NotFound):
        services.account_unlink(user=customer, account_id=account.pk, now=NOW)

    assert AccountLink.objects.get().label == "Чужой"


def test_owner_masked() -> None:
    assert services.owner_masked("Иванова Анна Петровна") == "Иванова А. П."
    assert services.owner_masked("Ли") == "Ли"
