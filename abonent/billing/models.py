"""Services, tariffs, norms, billing periods, charges, bills and the ledger.

Money is Decimal(14, 2). A balance per ЛС and service is the sum of its ledger entries:
positive = due (shown red), negative = overpaid (shown green).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    GCAL = "Гкал", "Гкал"
    M3 = "м³", "м³"
    KWH = "кВт·ч", "кВт·ч"
    M2 = "м²", "м²"
    PERSON = "чел.", "чел."


class NormBasis(models.TextChoices):
    """What a norm (норматив) is multiplied by when there is no meter."""

    AREA = "area", _("на м² площади")
    RESIDENT = "resident", _("на проживающего")


class Service(models.Model):
    """A billable service of the catalogue (the catalogue is data, not code)."""

    code = models.SlugField(_("код"), max_length=32, unique=True)
    name = models.CharField(_("название"), max_length=100)
    unit = models.CharField(_("единица"), max_length=8, choices=Unit.choices)
    norm_basis = models.CharField(_("норматив считается"), max_length=10, choices=NormBasis.choices)
    metered = models.BooleanField(_("бывает счётчик"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("порядок"), default=0)

    class Meta:
        verbose_name = _("услуга")
        verbose_name_plural = _("услуги")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class Tariff(models.Model):
    """Price per unit for a branch and service over a half-open date range."""

    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("филиал"), on_delete=models.PROTECT
    )
    service = models.ForeignKey(Service, verbose_name=_("услуга"), on_delete=models.PROTECT)
    price = models.DecimalField(_("цена за единицу, ₽"), max_digits=14, decimal_places=4)
    valid_from = models.DateField(_("действует с"))
    valid_to = models.DateField(_("по (не включая)"), null=True, blank=True)

    class Meta:
        verbose_name = _("тариф")
        verbose_name_plural = _("тарифы")
        ordering = ["branch", "service", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "service", "valid_from"], name="tariff_unique_start"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="tariff_price_non_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="tariff_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.price} ₽ с {self.valid_from:%d.%m.%Y}"


class Norm(models.Model):
    """Норматив: the volume billed without readings, per m² or per resident, per month."""

    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("филиал"), on_delete=models.PROTECT
    )
    service = models.ForeignKey(Service, verbose_name=_("услуга"), on_delete=models.PROTECT)
    value = models.DecimalField(_("объём на единицу базы в месяц"), max_digits=16, decimal_places=6)
    valid_from = models.DateField(_("действует с"))
    valid_to = models.DateField(_("по (не включая)"), null=True, blank=True)

    class Meta:
        verbose_name = _("норматив")
        verbose_name_plural = _("нормативы")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "service", "valid_from"], name="norm_unique_start"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="norm_value_non_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="norm_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.value} с {self.valid_from:%d.%m.%Y}"


class PeriodStatus(models.TextChoices):
    OPEN = "open", _("открыт")
    CLOSED = "closed", _("закрыт")


class BillingPeriod(models.Model):
    """A month of a branch. Open: charges are drafts and may be re-run. Closed: immutable."""

    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("филиал"), on_delete=models.PROTECT
    )
    month = models.DateField(_("месяц (первое число)"))
    status = models.CharField(
        _("статус"), max_length=8, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )
    run_started_at = models.DateTimeField(_("расчёт начат"), null=True, blank=True)
    run_finished_at = models.DateTimeField(_("расчёт закончен"), null=True, blank=True)
    run_progress = models.PositiveSmallIntegerField(_("готово, %"), default=0)
    # The run that owns the period's drafts now; a chunk of a superseded run stops.
    run_id = models.UUIDField(_("идентификатор расчёта"), null=True, blank=True, editable=False)
    run_error = models.CharField(_("ошибка расчёта"), max_length=500, blank=True)
    closed_at = models.DateTimeField(_("закрыт"), null=True, blank=True)

    class Meta:
        verbose_name = _("расчётный период")
        verbose_name_plural = _("расчётные периоды")
        ordering = ["branch", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "month"], name="period_unique_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="period_month_first_day"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="period_closed_at_matches_status",
            ),
            models.CheckConstraint(condition=Q(run_progress__lte=100), name="period_progress_pct"),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.month:%m.%Y}"


class ChargeMethod(models.TextChoices):
    METER = "meter", _("по счётчику")
    AVERAGE = "average", _("по среднему")
    NORM = "norm", _("по нормативу")
    AREA = "area", _("по площади")
    IMPORT = "import", _("из внешней системы")


class Charge(models.Model):
    """One charge line of an ЛС for a service in a period.

    `for_month` is the month the volume belongs to: the period's own month for the regular
    line, an earlier month for a recalculation (перерасчёт) booked in this period.
    """

    # Drafts are written by the million per run, so no per-row foreign-key checks and no
    # one-column indexes (the composite ones below serve these keys): the references are
    # checked by the database when the charge becomes money — closing the period writes its
    # ledger entry, whose foreign keys are enforced (docs/decisions/0008).
    account = models.ForeignKey(
        "accounts.PersonalAccount",
        verbose_name=_("ЛС"),
        on_delete=models.PROTECT,
        related_name="charges",
        db_index=False,
        db_constraint=False,
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("услуга"),
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
    )
    period = models.ForeignKey(
        BillingPeriod,
        verbose_name=_("период"),
        on_delete=models.PROTECT,
        related_name="charges",
        db_index=False,
        db_constraint=False,
    )
    for_month = models.DateField(_("за месяц"))
    volume = models.DecimalField(_("объём"), max_digits=16, decimal_places=6)
    unit = models.CharField(_("единица"), max_length=8, choices=Unit.choices)
    tariff = models.DecimalField(_("тариф, ₽"), max_digits=14, decimal_places=4)
    method = models.CharField(_("способ"), max_length=8, choices=ChargeMethod.choices)
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    is_recalculation = models.BooleanField(_("перерасчёт"), default=False)
    reason = models.CharField(_("основание"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("начисление")
        verbose_name_plural = _("начисления")
        ordering = ["period", "account", "service", "for_month"]
        constraints = [
            # Period first: a run deletes and writes a period's drafts by account range.
            models.UniqueConstraint(
                fields=["period", "account", "service", "for_month"], name="charge_unique_line"
            ),
            models.CheckConstraint(condition=Q(for_month__day=1), name="charge_for_month_first"),
            models.CheckConstraint(
                condition=Q(is_recalculation=True) | Q(volume__gte=0),
                name="charge_volume_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["account", "period"])]

    def __str__(self) -> str:
        return f"{self.account} {self.service} {self.for_month:%m.%Y}: {self.amount}"


class Bill(models.Model):
    """The monthly bill (ЕПД) of an ЛС, issued when its period closes."""

    account = models.ForeignKey(
        "accounts.PersonalAccount",
        verbose_name=_("ЛС"),
        on_delete=models.PROTECT,
        related_name="bills",
    )
    period = models.ForeignKey(
        BillingPeriod, verbose_name=_("период"), on_delete=models.PROTECT, related_name="bills"
    )
    number = models.CharField(_("номер"), max_length=40, unique=True)
    opening_balance = models.DecimalField(
        _("долг (+) / аванс (−) на начало"), max_digits=14, decimal_places=2
    )
    charged = models.DecimalField(_("начислено"), max_digits=14, decimal_places=2)
    recalculated = models.DecimalField(_("перерасчёты"), max_digits=14, decimal_places=2)
    paid = models.DecimalField(_("оплачено"), max_digits=14, decimal_places=2)
    total_due = models.DecimalField(_("итого к оплате"), max_digits=14, decimal_places=2)
    issued_at = models.DateTimeField(_("выставлен"))

    class Meta:
        verbose_name = _("квитанция (ЕПД)")
        verbose_name_plural = _("квитанции (ЕПД)")
        ordering = ["account", "-period__month"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="bill_unique_per_period")
        ]

    def __str__(self) -> str:
        return self.number


class EntryKind(models.TextChoices):
    OPENING = "opening", _("входящий остаток")
    CHARGE = "charge", _("начисление")
    PAYMENT = "payment", _("оплата")
    CORRECTION = "correction", _("корректировка")


class LedgerEntry(models.Model):
    """Append-only money movements of an ЛС and service: + raises the debt, − lowers it."""

    # Served by the (account, service, month) index; closing a period writes millions.
    account = models.ForeignKey(
        "accounts.PersonalAccount",
        verbose_name=_("ЛС"),
        on_delete=models.PROTECT,
        related_name="ledger",
        db_index=False,
    )
    service = models.ForeignKey(
        Service, verbose_name=_("услуга"), on_delete=models.PROTECT, db_index=False
    )
    kind = models.CharField(_("вид"), max_length=12, choices=EntryKind.choices)
    amount = models.DecimalField(_("сумма, ₽"), max_digits=14, decimal_places=2)
    month = models.DateField(_("месяц"))
    at = models.DateTimeField(_("время"))
    charge = models.OneToOneField(
        Charge,
        verbose_name=_("начисление"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entry",
    )
    # The payment (or import) this entry came from, e.g. "payment:123:4"; unique so that a
    # payment line or an imported row is posted exactly once.
    source_ref = models.CharField(_("источник"), max_length=64, null=True, blank=True, unique=True)
    note = models.CharField(_("примечание"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("проводка")
        verbose_name_plural = _("журнал проводок")
        ordering = ["account", "service", "at", "pk"]
        indexes = [models.Index(fields=["account", "service", "month"])]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="ledger_month_first_day"),
            models.CheckConstraint(
                condition=~Q(kind="charge") | Q(charge__isnull=False),
                name="ledger_charge_has_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.service} {self.get_kind_display()} {self.amount}"
