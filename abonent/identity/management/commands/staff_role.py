"""Give a staff member a role, take it away, or re-apply the roles' permissions.

manage.py staff_role --list
manage.py staff_role +79001234567 billing            # adds the role (and is_staff)
manage.py staff_role +79001234567 billing --remove
manage.py staff_role --sync                          # re-apply identity/roles.py
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from abonent.core import clock
from abonent.core.services import audit_record
from abonent.identity.phones import normalize_phone
from abonent.identity.roles import NAMES, roles_ensure


class Command(BaseCommand):
    help = "Assign or remove a staff role: " + ", ".join(f"{k} ({v})" for k, v in NAMES.items())

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("login", nargs="?", help="phone or e-mail of an existing user")
        parser.add_argument("role", nargs="?", choices=sorted(NAMES))
        parser.add_argument("--remove", action="store_true", help="take the role away")
        parser.add_argument("--sync", action="store_true", help="re-apply the permissions")
        parser.add_argument("--list", action="store_true", help="who has which role")

    def handle(self, *args: Any, **options: Any) -> None:
        groups = roles_ensure()
        if options["sync"]:
            self.stdout.write(self.style.SUCCESS("Roles synced: " + ", ".join(NAMES.values())))
        if options["list"]:
            for role, group in groups.items():
                people = ", ".join(u.login for u in group.user_set.order_by("pk")) or "—"
                self.stdout.write(f"{NAMES[role]} ({role}): {people}")
        if not options["login"]:
            if not (options["sync"] or options["list"]):
                raise CommandError("Give a login and a role, or --sync, or --list.")
            return
        if not options["role"]:
            raise CommandError("Give the role: " + ", ".join(sorted(NAMES)))
        login = options["login"].strip()
        user_model = get_user_model()
        user = user_model.objects.filter(email=login.lower()).first() if "@" in login else None
        if user is None and "@" not in login:
            user = user_model.objects.filter(phone=normalize_phone(login) or login).first()
        if user is None or user.deleted_at is not None:
            raise CommandError(f"No such user: {login}")
        group = groups[options["role"]]
        audit_record(
            now=clock.now(),
            action="staff.role_removed" if options["remove"] else "staff.role_given",
            subject_user_id=user.pk,
            target=user,
            data={"role": options["role"], "via": "manage.py staff_role"},
        )
        if options["remove"]:
            user.groups.remove(group)
            self.stdout.write(self.style.SUCCESS(f"{user.login}: role «{group.name}» removed"))
            return
        user.groups.add(group)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        self.stdout.write(self.style.SUCCESS(f"{user.login}: role «{group.name}» given"))
