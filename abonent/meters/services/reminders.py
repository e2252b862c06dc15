"""Reminders as in-app notices (the notices app delivers them; a key per recipient and
subject makes every reminder once-only, so the hourly jobs may run as often as they like):

* the reading window opens — every customer of an ЛС with a meter that takes readings;
* a day before it closes — those whose meters have no accepted reading for the period yet;
* 60 and 30 days before a meter's verification date.

Dates are the branch's local dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from abonent.accounts.models import AccountLink, Branch
from abonent.meters.models import Meter, MeterStatus, Reading, ReadingStatus
from abonent.meters.selectors import local_today, month_title, reading_window
from abonent.notices.models import NotificationKind
from abonent.notices.services import NotificationDraft, notifications_create

VERIFICATION_STEPS = (60, 30)


def _manual_meters(*, branch: Branch, today: date) -> QuerySet[Meter]:
    return Meter.objects.filter(
        account__branch=branch, status=MeterStatus.WORKING, remote=False
    ).filter(Q(next_verification_date__isnull=True) | Q(next_verification_date__gt=today))


def _reading_drafts(*, branch: Branch, now: datetime) -> Iterator[NotificationDraft]:
    window = reading_window(branch=branch, now=now)
    today = window.today
    if today == window.opens_on:
        kind = "open"
    elif today == window.closes_on - timedelta(days=1):
        kind = "close"
    else:
        return
    meters = _manual_meters(branch=branch, today=today)
    if kind == "close":
        done = Reading.objects.filter(month=window.period, status=ReadingStatus.ACCEPTED)
        meters = meters.exclude(pk__in=done.values("meter_id"))
    account_ids = meters.values("account_id")
    month = month_title(window.period)
    if kind == "open":
        title = _("Приём показаний за %(month)s открыт") % {"month": month}
        body = _("Передайте показания счётчиков с %(from)s по %(to)s число.") % {
            "from": window.day_from,
            "to": window.day_to,
        }
    else:
        title = _("Завтра последний день приёма показаний")
        body = _(
            "Показания за %(month)s ещё не переданы. Без них начисление будет по среднему "
            "расходу или нормативу."
        ) % {"month": month}
    link = reverse("web:meters")
    links = (
        AccountLink.objects.filter(account_id__in=account_ids)
        .values_list("user_id", "account_id", "account__number")
        .order_by("pk")
    )
    for user_id, account_id, number in links.iterator(chunk_size=2000):
        yield NotificationDraft(
            user_id=user_id,
            kind=NotificationKind.READING,
            title=title,
            body=_("ЛС %(number)s. ") % {"number": number} + body,
            link=link,
            dedupe_key=f"reading-{kind}:{account_id}:{window.period:%Y-%m}",
        )


def reading_reminders_send(*, now: datetime) -> int:
    """Window-opens and closes-tomorrow reminders for every active branch, by its local
    date. Returns how many notices were offered (repeats are skipped by their key)."""
    offered = 0
    for branch in Branch.objects.filter(is_active=True):
        offered += notifications_create(drafts=_reading_drafts(branch=branch, now=now), now=now)
    return offered


def _verification_drafts(*, branch: Branch, now: datetime) -> Iterator[NotificationDraft]:
    today = local_today(branch=branch, now=now)
    meters = (
        Meter.objects.filter(
            account__branch=branch,
            status=MeterStatus.WORKING,
            next_verification_date__gt=today,
            next_verification_date__lte=today + timedelta(days=VERIFICATION_STEPS[0]),
        )
        .values_list("pk", "account_id", "serial", "next_verification_date", "account__number")
        .order_by("pk")
    )
    for meter_id, account_id, serial, due, number in meters:
        assert due is not None  # narrowing: the query filtered nulls out  # nosec B101
        days = (due - today).days
        step = VERIFICATION_STEPS[1] if days <= VERIFICATION_STEPS[1] else VERIFICATION_STEPS[0]
        title = _("Поверка счётчика № %(serial)s до %(date)s") % {
            "serial": serial,
            "date": f"{due:%d.%m.%Y}",
        }
        body = _(
            "ЛС %(number)s. После этой даты показания счётчика не принимаются и расход "
            "считается по нормативу. Закажите поверку или замену заранее и пришлите акт "
            "через «Обращения»."
        ) % {"number": number}
        for user_id in AccountLink.objects.filter(account_id=account_id).values_list(
            "user_id", flat=True
        ):
            yield NotificationDraft(
                user_id=user_id,
                kind=NotificationKind.VERIFICATION,
                title=title,
                body=body,
                link=reverse("meters:detail", kwargs={"meter_id": meter_id}),
                dedupe_key=f"verification-{step}:{meter_id}:{due:%Y-%m-%d}",
            )


def verification_reminders_send(*, now: datetime) -> int:
    """60 and 30 days before each working meter's verification date (once each)."""
    offered = 0
    for branch in Branch.objects.filter(is_active=True):
        offered += notifications_create(
            drafts=_verification_drafts(branch=branch, now=now), now=now
        )
    return offered
