"""Users in the back office (Russian): customers and staff. Administrators assign staff roles
here (the groups; see `identity/roles.py`); every look at a customer's card and every change
is in the audit log, reachable from the card («журнал по клиенту»)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from abonent.identity.models import User
from abonent.privacy.admin_audit import AuditedAdmin


@admin.register(User)
class UserAdmin(AuditedAdmin):
    audit_user_path = "pk"
    list_display = ["__str__", "phone", "email", "is_staff", "roles", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["=phone", "=email", "last_name"]
    ordering = ["-date_joined"]
    filter_horizontal = ["groups"]
    _facts = ["date_joined", "last_login", "consent_version", "consent_at", "deleted_at"]
    fieldsets = [
        (None, {"fields": ["last_name", "first_name", "patronymic", "phone", "email"]}),
        (_("Доступ"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Сведения"), {"fields": [*_facts, "audit_link"]}),
    ]
    # Contacts are logins: they change only by the customer, with a code sent to the new one
    # (a staff member must not be able to redirect someone's sign-in to their own phone).
    readonly_fields = ["phone", "email", *_facts, "audit_link"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:  # only a superuser makes a superuser
            fields.append("is_superuser")
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm("core.view_auditentry"):
            return fieldsets
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "audit_link"]})
            for name, opts in fieldsets
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers sign up themselves; staff: manage.py staff_role

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deletion is anonymisation (user_delete), not a row removed

    @admin.display(description=_("роли"))
    def roles(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all()) or "—"

    @admin.display(description=_("журнал по клиенту"))
    def audit_link(self, obj: User) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:core_auditentry_changelist")
        return format_html(
            '<a href="{}?subject_user_id={}">{}</a>',
            url,
            obj.pk,
            _("Кто смотрел и менял данные клиента"),
        )
