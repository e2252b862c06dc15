"""Back office (Russian): outages with their addresses and updates, news with drafts and
scheduled publication, and read-only views of notifications and their deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonent.accounts.models import Address
from abonent.core import clock
from abonent.notices import services
from abonent.notices.models import (
    Delivery,
    News,
    Notification,
    Outage,
    OutageAddress,
    OutageUpdate,
    PushSubscription,
)
from abonent.privacy.admin_audit import AuditedAdmin

# ---------------------------------------------------------------- outages


class OutageForm(forms.ModelForm):
    publish = forms.BooleanField(
        label=gettext_lazy("Опубликовать и оповестить жителей"),
        required=False,
        help_text=gettext_lazy(
            "Аварийное — оповещение сразу, в любое время суток; плановое — сейчас и ещё раз "
            "за сутки до начала."
        ),
    )

    class Meta:
        model = Outage
        fields = [
            "branch",
            "kind",
            "service",
            "title",
            "description",
            "starts_at",
            "expected_end_at",
            "ended_at",
            "cancelled_at",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.published_at:
            self.fields["publish"].disabled = True
            self.fields["publish"].initial = True
            self.fields["publish"].help_text = _("Опубликовано %(at)s.") % {
                "at": timezone.localtime(self.instance.published_at).strftime("%d.%m.%Y %H:%M")
            }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end, ended = (
            data.get("starts_at"),
            data.get("expected_end_at"),
            data.get("ended_at"),
        )
        if start and end and end <= start:
            self.add_error(
                "expected_end_at",
                _("Ожидаемое окончание должно быть позже начала отключения."),
            )
        if start and ended and ended < start:
            self.add_error(
                "ended_at", _("Фактическое окончание не может быть раньше начала отключения.")
            )
        return data


class OutageAddressFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        branch_id = getattr(self.instance, "branch_id", None)
        kept = 0
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            kept += 1
            if branch_id is None:
                continue
            match = Address.objects.filter(
                branch_id=branch_id, settlement=data.get("settlement"), street=data.get("street")
            )
            if data.get("house"):
                match = match.filter(house=data["house"])
                if data.get("building"):
                    match = match.filter(building=data["building"])
            if data.get("building") and not data.get("house"):
                form.add_error("building", _("Корпус указывают вместе с домом."))
            elif not match.exists():
                form.add_error(
                    "street",
                    _(
                        "Нет лицевых счетов по этому адресу в выбранном городе — проверьте "
                        "написание (например, «ул. Ленина»)."
                    ),
                )
        if kept == 0:
            raise forms.ValidationError(_("Укажите хотя бы один дом или улицу."))


class OutageAddressInline(admin.TabularInline):
    model = OutageAddress
    formset = OutageAddressFormSet
    extra = 1
    fields = ["settlement", "street", "house", "building"]


class OutageUpdateInline(admin.TabularInline):
    model = OutageUpdate
    extra = 0
    fields = ["text", "created_at", "notified_at"]
    readonly_fields = ["created_at", "notified_at"]
    verbose_name_plural = gettext_lazy("обновления (каждое новое рассылается жителям)")


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    form = OutageForm
    inlines = [OutageAddressInline, OutageUpdateInline]
    list_display = [
        "title",
        "kind",
        "branch",
        "service",
        "starts_at",
        "expected_end_at",
        "state",
    ]
    list_filter = ["kind", "branch", "service"]
    search_fields = ["title", "addresses__street"]
    date_hierarchy = "starts_at"
    actions = ["finish_now"]
    fieldsets = [
        (None, {"fields": ["branch", "kind", "service", "title", "description"]}),
        (gettext_lazy("Время"), {"fields": ["starts_at", "expected_end_at"]}),
        (
            gettext_lazy("Публикация"),
            {"fields": ["publish", "ended_at", "cancelled_at"]},
        ),
    ]

    @admin.display(description=gettext_lazy("состояние"))
    def state(self, obj: Outage) -> str:
        if obj.cancelled_at:
            return _("отменено")
        if obj.ended_at:
            return _("завершено")
        if obj.published_at is None:
            return _("черновик")
        return _("опубликовано")

    def save_model(self, request: HttpRequest, obj: Outage, form: Any, change: bool) -> None:
        now = clock.now()
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
            obj.created_at = now
        obj.updated_at = now
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is OutageUpdate:
            for item in formset.save(commit=False):
                if not item.created_at:
                    item.created_at = clock.now()
                item.save()
            for gone in formset.deleted_objects:
                gone.delete()
            return
        super().save_formset(request, form, formset, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        events = services.outage_save(
            outage_id=form.instance.pk,
            actor=request.user,
            now=clock.now(),
            publish=bool(form.cleaned_data.get("publish")),
        )
        if events:
            self.message_user(
                request,
                _("Жителям отправляются оповещения: %(events)s.")
                % {"events": ", ".join(_event_text(e) for e in events)},
                messages.SUCCESS,
            )

    @admin.action(
        description=gettext_lazy("Подача восстановлена сейчас (оповестить)"), permissions=["change"]
    )
    def finish_now(self, request: HttpRequest, queryset: QuerySet[Outage]) -> None:
        now = clock.now()
        done = 0
        for outage in queryset.filter(ended_at__isnull=True, cancelled_at__isnull=True):
            if outage.starts_at > now:
                continue
            Outage.objects.filter(pk=outage.pk).update(ended_at=now, updated_at=now)
            services.outage_save(outage_id=outage.pk, actor=request.user, now=now)
            done += 1
        self.message_user(
            request, _("Завершено отключений: %(n)d.") % {"n": done}, messages.SUCCESS
        )


def _event_text(event: str) -> str:
    names = {
        "published": _("о публикации"),
        "finished": _("о восстановлении подачи"),
        "cancelled": _("об отмене"),
    }
    return str(names.get(event, _("об обновлении")))


# ---------------------------------------------------------------- news


class NewsForm(forms.ModelForm):
    class Meta:
        model = News
        fields = [
            "kind",
            "title",
            "lead",
            "body",
            "picture",
            "picture_alt",
            "published_at",
            "all_branches",
            "branches",
        ]

    def clean_picture(self) -> Any:
        picture = self.cleaned_data.get("picture")
        if picture and getattr(picture, "size", 0) > settings.NEWS_PICTURE_MAX_SIZE:
            raise forms.ValidationError(
                _("Картинка больше %(mb)d МБ — уменьшите её.")
                % {"mb": settings.NEWS_PICTURE_MAX_SIZE // (1024 * 1024)}
            )
        return picture

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_branches") and not data.get("branches"):
            self.add_error("branches", _("Выберите города или отметьте «для всех городов»."))
        if data.get("picture") and not data.get("picture_alt"):
            self.add_error("picture_alt", _("Опишите картинку для незрячих читателей."))
        return data


@admin.register(News)
class NewsAdmin(admin.ModelAdmin):
    form = NewsForm
    list_display = ["title", "kind", "status", "published_at", "all_branches"]
    list_filter = ["kind", "all_branches", "branches"]
    search_fields = ["title", "body"]
    filter_horizontal = ["branches"]
    date_hierarchy = "published_at"
    actions = ["publish_now", "to_draft"]

    @admin.display(description=gettext_lazy("статус"))
    def status(self, obj: News) -> str:
        if obj.published_at is None:
            return _("черновик")
        if obj.published_at > clock.now():
            return _("запланирована")
        return _("опубликована")

    def save_model(self, request: HttpRequest, obj: News, form: Any, change: bool) -> None:
        now = clock.now()
        if not change:
            obj.created_at = now
        obj.updated_at = now
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("Опубликовать сейчас"), permissions=["change"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet[News]) -> None:
        now = clock.now()
        n = queryset.update(published_at=now, updated_at=now)
        self.message_user(request, _("Опубликовано: %(n)d.") % {"n": n}, messages.SUCCESS)

    @admin.action(
        description=gettext_lazy("Снять с публикации (в черновики)"), permissions=["change"]
    )
    def to_draft(self, request: HttpRequest, queryset: QuerySet[News]) -> None:
        n = queryset.update(published_at=None, updated_at=clock.now())
        self.message_user(request, _("В черновиках: %(n)d.") % {"n": n}, messages.SUCCESS)


# ---------------------------------------------------------------- notifications (support)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "state", "attempts", "due_at", "sent_at", "last_error"]
    readonly_fields = ["channel", "state", "attempts", "due_at", "sent_at", "last_error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(AuditedAdmin):
    audit_user_path = "user"
    list_display = ["created_at", "user", "kind", "title", "emergency", "read_at"]
    list_filter = ["kind", "emergency"]
    search_fields = ["title", "user__phone", "user__email"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    inlines = [DeliveryInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(AuditedAdmin):
    audit_user_path = "notification__user"
    list_display = [
        "notification",
        "channel",
        "state",
        "attempts",
        "due_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["state", "channel"]
    raw_id_fields = ["notification"]
    search_fields = ["notification__user__phone", "notification__title"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PushSubscription)
class PushSubscriptionAdmin(AuditedAdmin):
    audit_user_path = "user"
    list_display = ["user", "user_agent", "created_at", "last_success_at"]
    raw_id_fields = ["user"]
    search_fields = ["user__phone", "user__email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
