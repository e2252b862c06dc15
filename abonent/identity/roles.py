"""Staff roles: auth groups with only the model permissions each job needs (least privilege;
decision 0012). A staff member needs `is_staff` to open the back office and one or more of
these groups to see anything in it; superusers are for the few who run the system.

The lists are data: the migration `identity.0002_staff_roles` creates the groups from them,
`roles_ensure()` re-applies them (a flushed test database, `manage.py staff_role --sync`, the
demo), so a permission added here reaches every database the same way."""

from __future__ import annotations

from typing import Any

OPERATOR = "operator"
BILLING = "billing"
CONTENT = "content"
ADMIN = "admin"

# The group names are what administrators see in the back office.
NAMES = {
    OPERATOR: "Операторы",  # the console's group (appeals.selectors.OPERATORS_GROUP)
    BILLING: "Специалисты по начислениям",
    CONTENT: "Редакторы новостей",
    ADMIN: "Администраторы",
}


def _crud(app_model: str, *verbs: str) -> list[str]:
    app, model = app_model.split(".")
    return [f"{app}.{verb}_{model}" for verb in verbs or ("add", "change", "delete", "view")]


VIEW = ("view",)

PERMISSIONS: dict[str, list[str]] = {
    # Answers appeals in the console, calls customers back, takes readings by phone; reads the
    # customer's ЛС, charges and payments to answer questions about them. No tariffs, no
    # money movements, no news, no users, no audit log.
    OPERATOR: [
        "appeals.operate",
        *_crud("appeals.appeal", *VIEW),
        *_crud("appeals.category", *VIEW),
        *_crud("appeals.cannedanswer"),
        *_crud("appeals.callbackrequest", "view", "change"),
        *_crud("appeals.branchholiday", *VIEW),
        *_crud("accounts.branch", *VIEW),
        *_crud("accounts.personalaccount", *VIEW),
        *_crud("meters.meter", *VIEW),
        *_crud("meters.reading", "view", "add"),
        *_crud("billing.charge", *VIEW),
        *_crud("billing.bill", *VIEW),
        *_crud("payments.payment", *VIEW),
    ],
    # Tariffs, norms, periods and billing runs, imports/exports; reads ЛС, meters, readings,
    # payments and refunds (a refund itself is an administrator's act). No appeals.
    BILLING: [
        *_crud("billing.service", "add", "change", "view"),
        *_crud("billing.tariff"),
        *_crud("billing.norm"),
        *_crud("billing.billingperiod", "add", "change", "view"),
        *_crud("billing.charge", *VIEW),
        *_crud("billing.bill", *VIEW),
        *_crud("billing.ledgerentry", *VIEW),
        *_crud("accounts.branch", *VIEW),
        *_crud("accounts.address", *VIEW),
        *_crud("accounts.personalaccount", *VIEW),
        *_crud("accounts.accountservice", *VIEW),
        *_crud("meters.meter", *VIEW),
        *_crud("meters.reading", *VIEW),
        *_crud("payments.payment", *VIEW),
        *_crud("payments.refund", *VIEW),
        *_crud("payments.reconciliationreport", *VIEW),
    ],
    # News, promotions and outages (with their addresses and updates). Nothing about customers.
    CONTENT: [
        *_crud("notices.news"),
        *_crud("notices.outage"),
        *_crud("notices.outageaddress"),
        *_crud("notices.outageupdate"),
    ],
    # Everything, the audit log and user management included: see `_all` below.
    ADMIN: [],
}


def _wanted(permission_model: Any, role: str) -> Any:
    """The Permission rows of a role (historical models in the migration, real ones here)."""
    if role == ADMIN:
        return permission_model.objects.all()
    codes = PERMISSIONS[role]
    wanted = permission_model.objects.none()
    from django.db.models import Q

    query = Q()
    for code in codes:
        app, codename = code.split(".")
        query |= Q(content_type__app_label=app, codename=codename)
    if codes:
        wanted = permission_model.objects.filter(query)
    return wanted


def roles_apply(*, group_model: Any, permission_model: Any) -> dict[str, Any]:
    """Create the groups and set each one's permissions to exactly its list."""
    groups = {}
    for role, name in NAMES.items():
        group, _created = group_model.objects.get_or_create(name=name)
        group.permissions.set(list(_wanted(permission_model, role)))
        groups[role] = group
    return groups


def roles_ensure() -> dict[str, Any]:
    """The role groups with their permissions, by role key (creates what is missing)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    if not Permission.objects.filter(codename="operate").exists():
        for config in apps.get_app_configs():
            create_permissions(config, verbosity=0)
    return roles_apply(group_model=Group, permission_model=Permission)


def role_ensure(role: str) -> Any:
    return roles_ensure()[role]
