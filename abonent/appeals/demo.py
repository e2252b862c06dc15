"""Demo data for «Обращения»: categories with their SLA, canned answers, the demo staff user as
an operator, and one answered appeal of the demo customer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from abonent.appeals import services
from abonent.appeals.models import Appeal, CannedAnswer, Category

CATEGORIES = [
    ("Начисления и перерасчёт", "Почему такая сумма, перерасчёт, льготы", 16),
    ("Квитанции", "Не пришла квитанция, ошибка в квитанции", 8),
    ("Оплата", "Платёж не дошёл, вернуть деньги, карта", 8),
    ("Показания и счётчики", "Передача показаний, поверка, замена", 16),
    ("Переоформление лицевого счёта", "Смена собственника, документы", 24),
    ("Качество услуг", "Холодные батареи, нет горячей воды", 4),
    ("Другое", "", 24),
]
CANNED = [
    (
        "Приветствие",
        "Здравствуйте! Меня зовут {имя}, я специалист абонентского отдела. Уже смотрю ваш вопрос.",
    ),
    (
        "Нужны документы",
        "Для переоформления лицевого счёта пришлите, пожалуйста, скан или фото выписки из ЕГРН "
        "и паспорта нового собственника (страница с ФИО).",
    ),
    (
        "Перерасчёт сделан",
        "Перерасчёт выполнен, он будет виден в квитанции за следующий месяц. Спасибо за обращение!",
    ),
    (
        "Фото счётчика",
        "Пришлите, пожалуйста, фото счётчика так, чтобы были видны показания и заводской номер.",
    ),
]


def appeals_demo_seed(*, customer: Any, staff: Any, now: datetime) -> str:
    """Safe to run again: updates what exists, adds the demo appeal once."""
    for order, (name, description, sla) in enumerate(CATEGORIES, start=1):
        Category.objects.update_or_create(
            name=name, defaults={"description": description, "sla_hours": sla, "ordering": order}
        )
    for order, (title, body) in enumerate(CANNED, start=1):
        CannedAnswer.objects.update_or_create(
            title=title, defaults={"body": body, "ordering": order}
        )
    staff.groups.add(services.operators_group_ensure())
    if Appeal.objects.filter(user=customer).exists():
        return "appeals: already there"
    category = Category.objects.get(name="Начисления и перерасчёт")
    account = customer.account_links.order_by("created_at", "pk").first()
    asked = now - timedelta(days=3)
    appeal = services.appeal_create(
        user=customer,
        category_id=category.pk,
        account_id=account.account_id if account else None,
        subject="Перерасчёт за горячую воду",
        body=(
            "Здравствуйте! Два месяца не передавала показания, начислили по среднему. "
            "Сейчас передала — когда будет перерасчёт?"
        ),
        files=[],
        now=asked,
    )
    staff = type(staff).objects.get(pk=staff.pk)  # fresh permissions after joining the group
    services.appeal_take(appeal_id=appeal.pk, operator=staff, now=asked + timedelta(minutes=20))
    services.message_send(
        appeal_id=appeal.pk,
        user=staff,
        body=(
            "Здравствуйте, Анна Петровна! Показания получили, перерасчёт за два месяца "
            "сделан автоматически — он будет в квитанции за этот месяц."
        ),
        files=[],
        now=asked + timedelta(minutes=35),
        as_operator=True,
    )
    return f"appeals: {len(CATEGORIES)} categories, demo appeal № {appeal.pk}"
