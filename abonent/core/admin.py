from django.contrib import admin

from abonent.core.models import AuditEntry, JobOutbox


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


@admin.register(JobOutbox)
class JobOutboxAdmin(admin.ModelAdmin):
    """Read-only: the relay (beat, `manage.py relay_outbox`) is what changes these rows."""

    list_display = ["id", "task", "created_at", "eta", "attempts", "relayed_at", "last_error"]
    list_filter = [("relayed_at", admin.EmptyFieldListFilter), "task"]
    search_fields = ["task"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in JobOutbox._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
