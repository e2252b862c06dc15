"""Meters and their readings: the billing run takes volumes from accepted readings.

A reading is one value of one scale, counted for a period (`month`). Corrections never
overwrite: the new version is accepted and points at the one it replaces (`supersedes`),
which becomes `superseded`, so the history keeps every version. At most one accepted
reading per meter, scale and period (a partial unique index), whatever the concurrency.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MeterStatus(models.TextChoices):
    WORKING = "working", _("работает")
    EXPIRED = "expired", _("истёк срок поверки")
    REMOVED = "removed", _("снят")


class Meter(models.Model):
    account = models.ForeignKey(
        "accounts.PersonalAccount",
        verbose_name=_("ЛС"),
        on_delete=models.CASCADE,
        related_name="meters",
    )
    service = models.ForeignKey(
        "billing.Service", verbose_name=_("услуга"), on_delete=models.PROTECT
    )
    serial = models.CharField(_("заводской номер"), max_length=40)
    model = models.CharField(_("модель"), max_length=100, blank=True)
    digits = models.PositiveSmallIntegerField(_("знаков до запятой"), default=5)
    decimals = models.PositiveSmallIntegerField(_("знаков после запятой"), default=3)
    scales = models.PositiveSmallIntegerField(_("тарифных зон"), default=1)
    installed_date = models.DateField(_("установлен"))
    last_verified_date = models.DateField(_("последняя поверка"), null=True, blank=True)
    next_verification_date = models.DateField(_("следующая поверка"), null=True, blank=True)
    status = models.CharField(
        _("состояние"), max_length=8, choices=MeterStatus.choices, default=MeterStatus.WORKING
    )
    remote = models.BooleanField(_("дистанционный съём"), default=False)

    class Meta:
        verbose_name = _("счётчик")
        verbose_name_plural = _("счётчики")
        constraints = [
            models.UniqueConstraint(fields=["account", "serial"], name="meter_serial_per_account"),
            models.CheckConstraint(condition=Q(scales__gte=1, scales__lte=4), name="meter_scales"),
            models.CheckConstraint(condition=Q(digits__gte=1, digits__lte=12), name="meter_digits"),
        ]

    def __str__(self) -> str:
        return f"№ {self.serial}"

    def scale_name(self, scale: int) -> str:
        return scale_name(scales=self.scales, scale=scale)


def scale_name(*, scales: int, scale: int) -> str:
    """'' for a one-scale meter; «день»/«ночь» for two; «пик»/«полупик»/«ночь» for three."""
    names: list[str] | None = {
        1: [""],
        2: [_("день"), _("ночь")],
        3: [_("пик"), _("полупик"), _("ночь")],
    }.get(scales)  # type: ignore[assignment]
    if names is None or not 1 <= scale <= len(names):
        return str(_("зона Т%(n)s") % {"n": scale}) if scales > 1 else ""
    return str(names[scale - 1])


class ReadingSource(models.TextChoices):
    WEB = "web", _("сайт")
    APP = "app", _("приложение")
    OPERATOR = "operator", _("оператор")
    IMPORT = "import", _("импорт")
    REMOTE = "remote", _("дистанционно")


class ReadingStatus(models.TextChoices):
    ACCEPTED = "accepted", _("принято")
    NEEDS_CONFIRMATION = "confirm", _("ждёт подтверждения")
    REJECTED = "rejected", _("отклонено")
    SUPERSEDED = "superseded", _("заменено исправлением")


class Reading(models.Model):
    """A value of one scale of a meter, counted for the period `month`."""

    meter = models.ForeignKey(
        Meter, verbose_name=_("счётчик"), on_delete=models.CASCADE, related_name="readings"
    )
    scale = models.PositiveSmallIntegerField(_("зона"), default=1)
    value = models.DecimalField(_("показание"), max_digits=16, decimal_places=4)
    month = models.DateField(_("за месяц"))
    taken_at = models.DateTimeField(_("передано"))
    source = models.CharField(_("источник"), max_length=8, choices=ReadingSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("кто ввёл"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("статус"), max_length=10, choices=ReadingStatus.choices, default=ReadingStatus.ACCEPTED
    )
    reason = models.CharField(_("причина"), max_length=300, blank=True)
    # The new columns have database defaults: bulk SQL loaders (seed_demo --accounts, the
    # billing exchange) insert readings without naming them.
    consumption = models.DecimalField(
        _("расход"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("исправляет"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    rollover = models.BooleanField(_("переход через ноль"), default=False, db_default=False)
    confirmed_high = models.BooleanField(
        _("большой расход подтверждён"), default=False, db_default=False
    )
    out_of_window = models.BooleanField(
        _("передано вне окна приёма"), default=False, db_default=False
    )

    class Meta:
        verbose_name = _("показание")
        verbose_name_plural = _("показания")
        ordering = ["meter", "scale", "month", "taken_at"]
        constraints = [
            # One accepted reading per meter, scale and period; corrections supersede it.
            models.UniqueConstraint(
                fields=["meter", "scale", "month"],
                condition=Q(status="accepted"),
                name="reading_one_accepted_per_month",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="reading_month_first_day"),
            models.CheckConstraint(condition=Q(value__gte=0), name="reading_value_non_negative"),
            models.CheckConstraint(
                condition=Q(consumption__isnull=True) | Q(consumption__gte=0),
                name="reading_consumption_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter} {self.month:%m.%Y}: {self.value}"

    @property
    def scale_label(self) -> str:
        return self.meter.scale_name(self.scale)
