from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

STAFF_PASSWORD = "staff-pass-2026"


def make_staff(
    phone: str = "+79000000501",
    *,
    superuser: bool = False,
    roles: tuple[str, ...] = (),
    **extra: Any,
) -> Any:
    """A staff member (is_staff) in the given role groups, with a fresh permission cache."""
    from abonent.identity.roles import roles_ensure

    user_model = get_user_model()
    extra.setdefault("first_name", "Сотрудник")
    extra.setdefault("last_name", "Тестовый")
    if superuser:
        user = user_model.objects.create_superuser(phone, STAFF_PASSWORD, **extra)
    else:
        user = user_model.objects.create_user(
            phone=phone, password=STAFF_PASSWORD, is_staff=True, **extra
        )
    if roles:
        groups = roles_ensure()
        user.groups.add(*(groups[r] for r in roles))
    return user_model.objects.get(pk=user.pk)
