from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Branch(models.Model):
    """A city branch of the utility: its time zone, payee requisites and call centre."""

    code = models.SlugField(_("код"), max_length=32, unique=True)
    name = models.CharField(_("город"), max_length=100)
    timezone = models.CharField(_("часовой пояс"), max_length=64, default="Asia/Krasnoyarsk")
    payee_name = models.CharField(_("получатель платежа"), max_length=200)
    payee_inn = models.CharField(
        _("ИНН"), max_length=12, validators=[RegexValidator(r"^\d{10}(\d{2})?$")]
    )
    payee_kpp = models.CharField(_("КПП"), max_length=9, validators=[RegexValidator(r"^\d{9}$")])
    payee_account = models.CharField(
        _("расчётный счёт"), max_length=20, validators=[RegexValidator(r"^\d{20}$")]
    )
    bank_name = models.CharField(_("банк"), max_length=200)
    bank_bic = models.CharField(_("БИК"), max_length=9, validators=[RegexValidator(r"^\d{9}$")])
    bank_corr_account = models.CharField(
        _("корр. счёт"), max_length=20, validators=[RegexValidator(r"^\d{20}$")]
    )
    call_centre_phone = models.CharField(_("телефон call-центра"), max_length=20)
    hours_open = models.TimeField(_("специалисты с"), default=time(8, 0))
    hours_close = models.TimeField(_("специалисты до"), default=time(20, 0))
    working_days = models.CharField(
        _("рабочие дни (1=пн)"),
        max_length=13,
        default="1,2,3,4,5",
        validators=[RegexValidator(r"^[1-7](,[1-7])*$")],
    )
    reading_day_from = models.PositiveSmallIntegerField(
        _("приём показаний с"), default=15, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    reading_day_to = models.PositiveSmallIntegerField(
        _("приём показаний по"),
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
    )
    is_active = models.BooleanField(_("работает"), default=True)

    class Meta:
        verbose_name = _("филиал")
        verbose_name_plural = _("филиалы (города)")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reading_day_from__lte=F("reading_day_to")),
                name="branch_reading_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(hours_open__lt=F("hours_close")), name="branch_hours_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    branch = models.ForeignKey(Branch, verbose_name=_("филиал"), on_delete=models.PROTECT)
    settlement = models.CharField(_("населённый пункт"), max_length=100)
    street = models.CharField(_("улица"), max_length=150)
    house = models.CharField(_("дом"), max_length=20)
    building = models.CharField(_("корпус / строение"), max_length=10, blank=True)
    flat = models.CharField(_("квартира"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("адрес")
        verbose_name_plural = _("адреса")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "settlement", "street", "house", "building", "flat"],
                name="address_unique",
            )
        ]

    def __str__(self) -> str:
        text = gettext("%(settlement)s, %(street)s, д. %(house)s") % {
            "settlement": self.settlement,
            "street": self.street,
            "house": self.house,
        }
        if self.building:
            text += gettext(", корп. %(building)s") % {"building": self.building}
        if self.flat:
            text += gettext(", кв. %(flat)s") % {"flat": self.flat}
        return text


class AccountStatus(models.TextChoices):
    OPEN = "open", _("открыт")
    CLOSED = "closed", _("закрыт")


class PersonalAccount(models.Model):
    """A лицевой счёт: what the utility bills, at one address, in one branch."""

    branch = models.ForeignKey(Branch, verbose_name=_("филиал"), on_delete=models.PROTECT)
    number = models.CharField(
        _("номер ЛС"), max_length=20, validators=[RegexValidator(r"^\d{6,20}$")]
    )
    address = models.ForeignKey(Address, verbose_name=_("адрес"), on_delete=models.PROTECT)
    owner_name = models.CharField(_("ФИО собственника"), max_length=200)
    area = models.DecimalField(
        _("отапливаемая площадь, м²"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    residents = models.PositiveSmallIntegerField(_("зарегистрировано"), default=1)
    status = models.CharField(
        _("статус"), max_length=8, choices=AccountStatus.choices, default=AccountStatus.OPEN
    )

    class Meta:
        verbose_name = _("лицевой счёт")
        verbose_name_plural = _("лицевые счета")
        constraints = [
            models.UniqueConstraint(fields=["branch", "number"], name="account_number_per_branch"),
            models.CheckConstraint(condition=Q(area__gte=0), name="account_area_non_negative"),
        ]

    def __str__(self) -> str:
        return gettext("ЛС %(number)s") % {"number": self.number}


class AccountLink(models.Model):
    """A customer's link to an ЛС; several customers may share one ЛС."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_links"
    )
    account = models.ForeignKey(PersonalAccount, on_delete=models.CASCADE, related_name="links")
    label = models.CharField(_("своё название"), max_length=60, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("привязка ЛС")
        verbose_name_plural = _("привязки ЛС")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="account_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.account}"


class AccountService(models.Model):
    """A service an ЛС receives (heating, hot water…), from a date, until a date (or open)."""

    account = models.ForeignKey(
        PersonalAccount,
        verbose_name=_("лицевой счёт"),
        on_delete=models.CASCADE,
        related_name="account_services",
    )
    service = models.ForeignKey(
        "billing.Service", verbose_name=_("услуга"), on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateField(_("с"))
    valid_to = models.DateField(_("по (не включая)"), null=True, blank=True)

    class Meta:
        verbose_name = _("услуга на счёте")
        verbose_name_plural = _("услуги на счетах")
        constraints = [
            models.UniqueConstraint(fields=["account", "service"], name="account_service_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="account_service_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} · {self.service}"
