from __future__ import annotations

import secrets
import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from abonent.identity.phones import format_phone


def new_session_stamp() -> str:
    return secrets.token_hex(16)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, phone: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        email = extra.pop("email", None)
        user = self.model(phone=phone or None, email=(email or "").lower() or None, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or a staff member. Signs in by phone or e-mail; at least one is set."""

    phone = models.CharField(_("телефон"), max_length=16, unique=True, null=True, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, unique=True, null=True, blank=True)
    first_name = models.CharField(_("имя"), max_length=60)
    patronymic = models.CharField(_("отчество"), max_length=60, blank=True)
    last_name = models.CharField(_("фамилия"), max_length=60, blank=True)
    is_active = models.BooleanField(_("активен"), default=True)
    is_staff = models.BooleanField(_("сотрудник"), default=False)
    date_joined = models.DateTimeField(_("зарегистрирован"), auto_now_add=True)
    consent_version = models.CharField(_("версия согласия"), max_length=32, blank=True)
    consent_at = models.DateTimeField(_("согласие дано"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("удалён"), null=True, blank=True)
    # Rotated to sign the user out everywhere; sessions are signed with it, not the password.
    session_stamp = models.CharField(max_length=32, default=new_session_stamp, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["first_name"]

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__isnull=False)
                | Q(email__isnull=False)
                | Q(deleted_at__isnull=False),
                name="user_has_phone_or_email",
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=True) | Q(email=Lower("email")),
                name="user_email_lowercase",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.login

    @property
    def login(self) -> str:
        return self.phone or self.email or f"#{self.pk}"

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.patronymic) if p)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone) if self.phone else ""

    def get_session_auth_hash(self) -> str:
        return salted_hmac(
            "abonent.identity.User.session", self.session_stamp, algorithm="sha256"
        ).hexdigest()


class CodePurpose(models.TextChoices):
    SIGNUP = "signup", _("регистрация")
    PASSWORD_RESET = "password_reset", _("восстановление пароля")
    CHANGE_PHONE = "change_phone", _("смена телефона")
    CHANGE_EMAIL = "change_email", _("смена e-mail")


class CodeChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("e-mail")


class VerificationCode(models.Model):
    """A one-time 6-digit code, bound to its purpose and target; only its HMAC is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField(max_length=20, choices=CodePurpose.choices)
    channel = models.CharField(max_length=10, choices=CodeChannel.choices)
    target = models.CharField(_("куда отправлен"), max_length=254, db_index=True)
    code_hash = models.CharField(max_length=64)
    user = models.ForeignKey(
        "identity.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Pending sign-up data (names, password hash, consent); never the raw password.
    payload = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("код подтверждения")
        verbose_name_plural = _("коды подтверждения")
        indexes = [models.Index(fields=["target", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="code_expires_after_created",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.target}"


class DeviceKind(models.TextChoices):
    WEB = "web", _("браузер")
    APP = "app", _("приложение")


class Device(models.Model):
    """A signed-in browser session or phone app; revoking it signs that device out."""

    user = models.ForeignKey("identity.User", on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(max_length=8, choices=DeviceKind.choices)
    name = models.CharField(_("устройство"), max_length=120)
    session_key = models.CharField(max_length=40, unique=True, null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    pin_hash = models.CharField(max_length=200, blank=True)
    pin_failures = models.PositiveSmallIntegerField(default=0)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("устройство")
        verbose_name_plural = _("устройства и сеансы")
        ordering = ["-last_seen_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="web") & Q(token_hash__isnull=True) & Q(pin_hash=""))
                | (Q(kind="app") & Q(session_key__isnull=True)),
                name="device_credentials_match_kind",
            ),
            models.CheckConstraint(
                condition=Q(pin_failures__lte=5), name="device_pin_failures_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)
