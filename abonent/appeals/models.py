"""Appeals: categories with an SLA, appeals, their messages and attachments, read marks per
side, canned answers, branch holidays and call-back requests."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """What an appeal is about («Начисления», «Переоформление ЛС»…), edited by the utility."""

    name = models.CharField(_("название"), max_length=100, unique=True)
    description = models.CharField(_("подсказка"), max_length=200, blank=True)
    sla_hours = models.PositiveSmallIntegerField(
        _("срок ответа, рабочих часов"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(400)],
    )
    ordering = models.PositiveSmallIntegerField(_("порядок"), default=100)
    is_active = models.BooleanField(_("показывать"), default=True)

    class Meta:
        verbose_name = _("тема обращений")
        verbose_name_plural = _("темы обращений")
        ordering = ["ordering", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sla_hours__gte=1) & Q(sla_hours__lte=400), name="category_sla_range"
            )
        ]

    def __str__(self) -> str:
        return self.name


class BranchHoliday(models.Model):
    """A day when the branch's specialists do not work (or, `is_workday`, a moved working day)."""

    branch = models.ForeignKey(
        "accounts.Branch",
        verbose_name=_("филиал"),
        on_delete=models.CASCADE,
        related_name="appeal_holidays",
    )
    date = models.DateField(_("дата"))
    name = models.CharField(_("название"), max_length=100, blank=True)
    is_workday = models.BooleanField(
        _("рабочий день (перенос)"),
        default=False,
        help_text=_("Отметьте, если это выходной по календарю, но специалисты работают."),
    )

    class Meta:
        verbose_name = _("праздник или перенос")
        verbose_name_plural = _("праздники и переносы")
        ordering = ["branch", "date"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "date"], name="branch_holiday_once")
        ]

    def __str__(self) -> str:
        return f"{self.branch} · {self.date:%d.%m.%Y}"


class AppealStatus(models.TextChoices):
    NEW = "new", _("новое")
    IN_PROGRESS = "in_progress", _("в работе")
    WAITING_CUSTOMER = "waiting_customer", _("ждём вашего ответа")
    ANSWERED = "answered", _("есть ответ")
    CLOSED = "closed", _("закрыто")


OPEN_STATUSES = (AppealStatus.NEW, AppealStatus.IN_PROGRESS)


class Appeal(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("клиент"),
        on_delete=models.CASCADE,
        related_name="appeals",
    )
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("филиал"), on_delete=models.PROTECT, related_name="+"
    )
    account = models.ForeignKey(
        "accounts.PersonalAccount",
        verbose_name=_("лицевой счёт"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    category = models.ForeignKey(
        Category, verbose_name=_("тема"), on_delete=models.PROTECT, related_name="appeals"
    )
    subject = models.CharField(_("тема письма"), max_length=150)
    status = models.CharField(
        _("статус"), max_length=20, choices=AppealStatus.choices, default=AppealStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("специалист"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_appeals",
    )
    created_at = models.DateTimeField(_("создано"))
    deadline_at = models.DateTimeField(_("ответить до"))
    last_message_at = models.DateTimeField(_("последнее сообщение"))
    first_answered_at = models.DateTimeField(_("первый ответ"), null=True, blank=True)
    closed_at = models.DateTimeField(_("закрыто"), null=True, blank=True)
    reopen_until = models.DateTimeField(_("можно открыть снова до"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("открыто повторно"), default=0)
    rating = models.PositiveSmallIntegerField(_("оценка"), null=True, blank=True)
    rating_comment = models.CharField(_("отзыв"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("обращение")
        verbose_name_plural = _("обращения")
        ordering = ["-last_message_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-last_message_at"]),
            models.Index(fields=["status", "deadline_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="appeal_rating_range",
            ),
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="appeal_closed_has_time",
            ),
            models.CheckConstraint(condition=~Q(subject=""), name="appeal_subject_not_empty"),
            models.CheckConstraint(
                condition=Q(deadline_at__gte=F("created_at")), name="appeal_deadline_after_created"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AppealStatus]),
                name="appeal_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"№ {self.pk} · {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.status == AppealStatus.CLOSED


class Message(models.Model):
    """One message in a thread. Ids are monotonic within an appeal (inserts are serialized by a
    lock on the appeal row), so a client catches up with «everything after id N»."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("автор"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_operator = models.BooleanField(_("от специалиста"), default=False)
    is_internal = models.BooleanField(_("внутренняя заметка"), default=False)
    is_auto = models.BooleanField(_("автоответ"), default=False)
    body = models.TextField(_("текст"), blank=True)
    created_at = models.DateTimeField(_("время"))

    class Meta:
        verbose_name = _("сообщение")
        verbose_name_plural = _("сообщения")
        ordering = ["pk"]
        indexes = [models.Index(fields=["appeal", "id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_internal=False) | Q(is_operator=True),
                name="message_internal_is_operators",
            ),
            models.CheckConstraint(
                condition=Q(is_auto=False) | (Q(is_operator=True) & Q(author__isnull=True)),
                name="message_auto_is_system",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}#{self.pk}"


class Attachment(models.Model):
    """A checked file in private storage under a generated path; only served by a view that
    checks access."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    path = models.CharField(_("путь в хранилище"), max_length=200, unique=True)
    name = models.CharField(_("имя файла"), max_length=120)
    size = models.PositiveIntegerField(_("размер, байт"))
    content_type = models.CharField(_("тип"), max_length=100)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("вложение")
        verbose_name_plural = _("вложения")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="attachment_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="attachment_has_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type in ("image/jpeg", "image/png")


class Side(models.TextChoices):
    CUSTOMER = "customer", _("клиент")
    OPERATOR = "operator", _("специалисты")


class ReadMark(models.Model):
    """How far a side has read a thread: the last message id seen."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="read_marks")
    side = models.CharField(max_length=10, choices=Side.choices)
    last_read_id = models.BigIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("отметка о прочтении")
        verbose_name_plural = _("отметки о прочтении")
        constraints = [
            models.UniqueConstraint(fields=["appeal", "side"], name="read_mark_per_side"),
            models.CheckConstraint(condition=Q(last_read_id__gte=0), name="read_mark_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.side} ≤ {self.last_read_id}"


class CannedAnswer(models.Model):
    title = models.CharField(_("название"), max_length=100)
    body = models.TextField(_("текст ответа"))
    category = models.ForeignKey(
        Category,
        verbose_name=_("тема"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="canned_answers",
        help_text=_("Пусто — для любых обращений."),
    )
    ordering = models.PositiveSmallIntegerField(_("порядок"), default=100)
    is_active = models.BooleanField(_("используется"), default=True)

    class Meta:
        verbose_name = _("шаблон ответа")
        verbose_name_plural = _("шаблоны ответов")
        ordering = ["ordering", "title"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="canned_has_body")]

    def __str__(self) -> str:
        return self.title


class CallbackStatus(models.TextChoices):
    NEW = "new", _("ждёт звонка")
    DONE = "done", _("позвонили")
    CANCELLED = "cancelled", _("отменён")


class CallbackRequest(models.Model):
    """«Перезвоните мне» in a chosen slot of the branch's working hours."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("клиент"),
        on_delete=models.CASCADE,
        related_name="callback_requests",
    )
    appeal = models.ForeignKey(
        Appeal,
        verbose_name=_("обращение"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("филиал"), on_delete=models.PROTECT, related_name="+"
    )
    phone = models.CharField(_("телефон"), max_length=16)
    slot_from = models.DateTimeField(_("с"))
    slot_to = models.DateTimeField(_("до"))
    status = models.CharField(
        _("статус"), max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.NEW
    )
    created_at = models.DateTimeField(_("создан"))

    class Meta:
        verbose_name = _("заказ звонка")
        verbose_name_plural = _("заказы звонка")
        ordering = ["slot_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_to__gt=F("slot_from")), name="callback_slot_ordered"
            ),
            models.UniqueConstraint(
                fields=["user", "slot_from"],
                condition=Q(status="new"),
                name="callback_once_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.slot_from:%d.%m %H:%M}"


class OperatorPermission(models.Model):
    """Holds the «operate» permission (no table rows): the «Операторы» group has it."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("operate", _("Отвечает на обращения (консоль специалиста)"))]

    def __str__(self) -> str:
        return "operate"
