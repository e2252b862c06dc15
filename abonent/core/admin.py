"""The audit log in the back office: read-only, for administrators (the «core.view_auditentry»
permission; decision 0012), filterable by whose data it was and by who acted, so «who looked
at or changed customer X» is one click from the customer's page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from abonent.core.models import AuditEntry, JobOutbox


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the system (ledger, journals, gateway events): staff look, never
    add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _user_label(user: Any) -> str:
    name = getattr(user, "full_name", "") or str(user)
    login = getattr(user, "login", "")
    return f"{name} ({login})" if login and login != name else name


class SubjectFilter(admin.SimpleListFilter):
    """Whose data: chosen from a customer's admin page («журнал по клиенту») or by
    `?subject_user_id=<id>`; shown once chosen, with the customer's name."""

    title = _("клиент")
    parameter_name = "subject_user_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        if not value or not value.isdigit():
            return []
        user = get_user_model().objects.filter(pk=int(value)).first()
        return [(value, _user_label(user) if user else f"#{value}")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> Any:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(subject_user_id=int(value))
        return queryset


class ActorFilter(admin.SimpleListFilter):
    """Who acted: any staff member, or «the customers themselves»."""

    title = _("кто")
    parameter_name = "actor"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        staff = get_user_model().objects.filter(is_staff=True).order_by("last_name", "pk")
        return [
            ("customers", str(_("клиенты (сами)"))),
            *((str(u.pk), _user_label(u)) for u in staff),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> Any:
        value = self.value()
        if value == "customers":
            return queryset.filter(actor__is_staff=False)
        if value and value.isdigit():
            return queryset.filter(actor_id=int(value))
        return queryset


class StaffOnlyFilter(admin.SimpleListFilter):
    title = _("доступ сотрудников")
    parameter_name = "staff"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("reads", str(_("просмотры и выгрузки"))), ("all", str(_("все действия")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> Any:
        if self.value() == "reads":
            return queryset.filter(action__in=["staff.viewed", "staff.searched", "staff.exported"])
        if self.value() == "all":
            return queryset.filter(action__startswith="staff.")
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "who", "action", "subject", "object_type", "object_id", "ip"]
    list_filter = [SubjectFilter, ActorFilter, StaffOnlyFilter, "action"]
    search_fields = ["action", "object_id", "=subject_user_id"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    show_full_result_count = False

    @admin.display(description=_("кто"), ordering="actor")
    def who(self, obj: AuditEntry) -> str:
        if obj.actor is None:
            return str(_("система"))
        label = _user_label(obj.actor)
        return f"{label} · {_('сотрудник')}" if obj.actor.is_staff else label

    @admin.display(description=_("чьи данные"), ordering="subject_user_id")
    def subject(self, obj: AuditEntry) -> str:
        if obj.subject_user_id is None:
            return "—"
        url = reverse("admin:core_auditentry_changelist")
        return format_html(
            '<a href="{}?subject_user_id={}">#{}</a>', url, obj.subject_user_id, obj.subject_user_id
        )


@admin.register(JobOutbox)
class JobOutboxAdmin(ReadOnlyAdmin):
    """Read-only: the relay (beat, `manage.py relay_outbox`) is what changes these rows."""

    list_display = ["id", "task", "created_at", "eta", "attempts", "relayed_at", "last_error"]
    list_filter = [("relayed_at", admin.EmptyFieldListFilter), "task"]
    search_fields = ["task"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in JobOutbox._meta.fields]
