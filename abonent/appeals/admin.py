from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from abonent.appeals.models import (
    Appeal,
    BranchHoliday,
    CallbackRequest,
    CannedAnswer,
    Category,
    Message,
)
from abonent.privacy.admin_audit import AuditedAdmin


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "sla_hours", "ordering", "is_active"]
    list_editable = ["sla_hours", "ordering", "is_active"]
    search_fields = ["name"]


@admin.register(CannedAnswer)
class CannedAnswerAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "ordering", "is_active"]
    list_editable = ["ordering", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["title", "body"]


@admin.register(BranchHoliday)
class BranchHolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "branch", "name", "is_workday"]
    list_filter = ["branch", "is_workday"]
    date_hierarchy = "date"


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created_at", "author", "is_operator", "is_internal", "is_auto", "body")
    readonly_fields = ("created_at", "author", "is_operator", "is_internal", "is_auto", "body")
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(Appeal)
class AppealAdmin(AuditedAdmin):
    """Read-only here: operators work in the console (/operator/)."""

    audit_user_path = "user"
    list_display = ["pk", "subject", "user", "category", "status", "deadline_at", "assignee"]
    list_filter = ["status", "category", "branch"]
    search_fields = ["subject", "user__phone", "user__last_name", "account__number"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]
    readonly_fields = tuple(f.name for f in Appeal._meta.fields)

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(CallbackRequest)
class CallbackRequestAdmin(AuditedAdmin):
    audit_user_path = "user"
    list_display = ["slot_from", "slot_to", "phone", "user", "branch", "status"]
    list_filter = ["status", "branch"]
    raw_id_fields = ["user", "appeal"]
    actions = ["mark_done"]

    @admin.action(description=_("Отметить: позвонили"), permissions=["change"])
    def mark_done(self, request: object, queryset: object) -> None:
        queryset.update(status="done")  # type: ignore[attr-defined]
