"""Demo staff, one per role (README «Персональные данные и роли»): phones +7 900 000-00-1X."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from abonent.identity.roles import ADMIN, BILLING, CONTENT, NAMES, OPERATOR, roles_ensure

# Published demo logins (like the demo customer's), never used outside `make run`.
DEMO_STAFF = [
    # phone, role, password, first name, last name
    ("+79000000011", OPERATOR, "operator-pass-2026", "Ольга", "Операторова"),
    ("+79000000012", BILLING, "billing-pass-2026", "Борис", "Начислов"),
    ("+79000000013", CONTENT, "content-pass-2026", "Вера", "Редакторова"),
    ("+79000000014", ADMIN, "admins-pass-2026", "Алексей", "Админов"),
]


def staff_demo_seed() -> str:
    """Safe to run again: re-applies the roles' permissions and each demo login's password."""
    groups = roles_ensure()
    user_model = get_user_model()
    for phone, role, password, first_name, last_name in DEMO_STAFF:
        user = user_model.objects.filter(phone=phone).first() or user_model(phone=phone)
        user.first_name, user.last_name = first_name, last_name
        user.is_staff, user.is_superuser, user.is_active = True, False, True
        user.set_password(password)
        user.save()
        user.groups.set([groups[role]])
    return "Staff roles: " + ", ".join(
        f"{NAMES[role]} {phone} / {password}" for phone, role, password, *_ in DEMO_STAFF
    )
