from django.contrib import admin

from abonent.core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "subject_user_id", "object_type", "object_id", "ip"]
    list_filter = ["action"]
    search_fields = ["action", "object_id", "subject_user_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
