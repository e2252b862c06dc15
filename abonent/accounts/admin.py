from django.contrib import admin

from abonent.accounts.models import AccountLink, Address, Branch, PersonalAccount
from abonent.privacy.admin_audit import AuditedAdmin


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "timezone", "call_centre_phone", "is_active"]
    search_fields = ["name", "code"]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["__str__", "branch"]
    list_filter = ["branch"]
    search_fields = ["settlement", "street", "house"]


@admin.register(PersonalAccount)
class PersonalAccountAdmin(AuditedAdmin):
    audit_account_path = "pk"
    list_display = ["number", "branch", "address", "owner_name", "status"]
    list_filter = ["branch", "status"]
    search_fields = ["number", "owner_name", "address__street"]
    raw_id_fields = ["address"]


@admin.register(AccountLink)
class AccountLinkAdmin(AuditedAdmin):
    audit_user_path = "user"
    list_display = ["user", "account", "label", "created_at"]
    raw_id_fields = ["user", "account"]
