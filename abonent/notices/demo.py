"""Demo data for `manage.py seed_demo`: news (one a promotion, with pictures), a planned
outage at the demo customer's house tomorrow, and a few past notifications. Safe to run
again: everything is found by its title or key and refreshed."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw

from abonent.accounts.models import Branch
from abonent.billing.models import Service
from abonent.notices.models import (
    News,
    NewsKind,
    Notification,
    NotificationKind,
    Outage,
    OutageAddress,
    OutageKind,
)

NEWS = [
    (
        NewsKind.NEWS,
        "Отопительный сезон начался во всех районах",
        "Тепло подано в 100 % жилых домов. Если батареи холодные — напишите нам.",
        "С 15 сентября тепло подано во все жилые дома города. Если в квартире холодно, "
        "сначала проверьте, открыты ли краны на радиаторах и нет ли в них воздуха.\n\n"
        "Если батареи по-прежнему холодные, напишите обращение в разделе «Обращения» или "
        "позвоните в call-центр — мастер приедет в течение суток.",
        ((13, 91, 105), (143, 195, 202)),
        3,
    ),
    (
        NewsKind.PROMO,
        "Оплата без комиссии и автоплатёж",
        "Подключите автоплатёж — и квитанция оплатится сама в удобный день.",
        "Оплата картой в личном кабинете и в приложении — без комиссии. Сохраните карту и "
        "включите автоплатёж: накануне мы пришлём напоминание с суммой, а платёж пройдёт в "
        "выбранный день.\n\nПроверка карты — 10 ₽, которые банк сразу возвращает.",
        ((245, 163, 59), (253, 236, 208)),
        10,
    ),
    (
        NewsKind.NEWS,
        "Показания счётчиков — с 15 по 25 число",
        "Передавайте показания в разделе «Счётчики»: без них начисление идёт по среднему.",
        "Показания приборов учёта горячей воды принимаются с 15 по 25 число каждого месяца. "
        "Передать их можно в разделе «Счётчики» личного кабинета или в приложении.\n\n"
        "Если показания не переданы, начисление выполняется по среднему расходу, а через "
        "три месяца — по нормативу.",
        ((10, 71, 83), (196, 224, 228)),
        20,
    ),
]


def _picture(colors: tuple[tuple[int, int, int], tuple[int, int, int]]) -> bytes:
    """A calm 16:9 illustration: a gradient with a stylised flame."""
    width, height = 960, 540
    top, bottom = colors
    image = Image.new("RGB", (width, height), top)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        k = y / (height - 1)
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * k) for a, b in zip(top, bottom, strict=True)),
        )
    cx, cy = width * 0.72, height * 0.55
    draw.ellipse([cx - 150, cy - 150, cx + 150, cy + 150], fill=(255, 255, 255))
    draw.polygon(
        [
            (cx, cy - 110),
            (cx + 70, cy + 20),
            (cx + 40, cy + 95),
            (cx - 40, cy + 95),
            (cx - 70, cy + 20),
        ],
        fill=(245, 163, 59),
    )
    draw.ellipse([cx - 30, cy + 15, cx + 30, cy + 85], fill=(255, 214, 140))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def notices_demo_seed(*, customer: Any, staff: Any, now: datetime) -> str:
    branch = Branch.objects.get(code="krasnoyarsk")
    tz = ZoneInfo(branch.timezone)
    with transaction.atomic():
        for i, (kind, title, lead, body, colors, days_ago) in enumerate(NEWS, start=1):
            item = News.objects.filter(title=title).first() or News(title=title, created_at=now)
            item.kind, item.lead, item.body = kind, lead, body
            item.published_at = now - timedelta(days=days_ago)
            item.all_branches, item.updated_at = True, now
            if not item.picture:
                item.picture.save(f"demo-{i}.png", ContentFile(_picture(colors)), save=False)
                item.picture_alt = "Иллюстрация: пламя на цветном фоне"
            item.save()

        tomorrow = now.astimezone(tz).date() + timedelta(days=1)
        starts = datetime.combine(tomorrow, time(10, 0), tzinfo=tz)
        outage = Outage.objects.filter(
            branch=branch, title="Ремонт теплотрассы на ул. Ленина"
        ).first()
        outage = outage or Outage(
            branch=branch, title="Ремонт теплотрассы на ул. Ленина", created_at=now
        )
        outage.kind = OutageKind.PLANNED
        outage.service = Service.objects.get(code="hot-water")
        outage.description = "Замена задвижки на тепловой камере ТК-12. Холодная вода будет."
        outage.starts_at, outage.expected_end_at = starts, starts + timedelta(hours=8)
        outage.ended_at = outage.cancelled_at = None
        outage.published_at = outage.published_at or now
        outage.created_by, outage.updated_at = staff, now
        outage.save()
        OutageAddress.objects.get_or_create(
            outage=outage, settlement="Красноярск", street="ул. Ленина", house="15"
        )

        when = f"{starts:%d.%m} с 10:00 до 18:00"
        past = [
            (
                NotificationKind.OUTAGE,
                f"Плановое отключение: горячее водоснабжение, {starts:%d.%m}",
                f"ул. Ленина, д. 15. {when}. Замена задвижки на тепловой камере ТК-12.",
                f"/info/outages/{outage.pk}/",
                f"outage:{outage.pk}:published",
                timedelta(hours=1),
                False,
            ),
            (
                NotificationKind.READING,
                "Приём показаний открыт",
                "ЛС 240100123456. Передайте показания счётчиков с 15 по 25 число.",
                "/meters/",
                "demo:reading-open",
                timedelta(days=2),
                False,
            ),
            (
                NotificationKind.PAYMENT,
                "Оплата прошла",
                "Платёж зачислен на лицевые счета. Квитанция об оплате — в разделе «Квитанции».",
                "/info/receipts/",
                "demo:payment",
                timedelta(days=12),
                True,
            ),
        ]
        Notification.objects.bulk_create(
            [
                Notification(
                    user=customer,
                    kind=kind,
                    title=title,
                    body=body,
                    link=link,
                    created_at=now - ago,
                    read_at=(now - ago + timedelta(hours=1)) if read else None,
                    dedupe_key=key,
                )
                for kind, title, body, link, key, ago, read in past
            ],
            ignore_conflicts=True,
        )
    return (
        f"Notices: {len(NEWS)} news, 1 planned outage at ул. Ленина, 15, {len(past)} notifications."
    )
