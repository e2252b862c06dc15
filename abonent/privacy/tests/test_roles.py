"""Staff roles with least privilege: each role opens what its job needs in the back office
(200) and nothing else (403 in the admin, 404 for the operator console); the audit log is
for administrators only."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from abonent.appeals import selectors as appeal_selectors
from abonent.core.models import AuditEntry
from abonent.identity import roles
from abonent.payments.models import Payment
from abonent.privacy.tests.factories import make_staff

pytestmark = pytest.mark.django_db

A = "/admin"
# The pages each role must open (200) and must not (403); {name} takes the world's ids.
CAN: dict[str, list[str]] = {
    roles.OPERATOR: [
        f"{A}/appeals/appeal/",
        f"{A}/appeals/appeal/{{appeal_id}}/change/",
        f"{A}/appeals/callbackrequest/",
        f"{A}/appeals/cannedanswer/add/",
        f"{A}/accounts/personalaccount/{{account_id}}/change/",
        f"{A}/meters/meter/{{meter_id}}/change/",
        f"{A}/meters/meter/{{meter_id}}/reading/",
        f"{A}/payments/payment/{{payment_id}}/change/",
        "/operator/",
        "/operator/appeals/{appeal_id}/",
    ],
    roles.BILLING: [
        f"{A}/billing/tariff/",
        f"{A}/billing/tariff/add/",
        f"{A}/billing/norm/add/",
        f"{A}/billing/billingperiod/",
        f"{A}/billing/charge/",
        f"{A}/billing/bill/{{bill_id}}/change/",
        f"{A}/billing/ledgerentry/",
        f"{A}/meters/reading/",
        f"{A}/payments/payment/{{payment_id}}/change/",
        f"{A}/payments/reconciliationreport/",
        f"{A}/accounts/personalaccount/",
    ],
    roles.CONTENT: [
        f"{A}/notices/news/",
        f"{A}/notices/news/add/",
        f"{A}/notices/outage/",
        f"{A}/notices/outage/add/",
    ],
    roles.ADMIN: [
        f"{A}/core/auditentry/",
        f"{A}/identity/user/",
        f"{A}/identity/user/{{owner_id}}/change/",
        f"{A}/auth/group/",
        f"{A}/billing/tariff/add/",
        f"{A}/appeals/appeal/{{appeal_id}}/change/",
        f"{A}/payments/savedcard/",
        f"{A}/notices/news/add/",
    ],
}
CANNOT: dict[str, list[str]] = {
    roles.OPERATOR: [
        f"{A}/billing/tariff/",
        f"{A}/billing/tariff/add/",
        f"{A}/billing/billingperiod/",
        f"{A}/core/auditentry/",
        f"{A}/identity/user/",
        f"{A}/payments/savedcard/",
        f"{A}/notices/news/add/",
        f"{A}/auth/group/",
    ],
    roles.BILLING: [
        f"{A}/appeals/appeal/",
        f"{A}/appeals/appeal/{{appeal_id}}/change/",
        f"{A}/appeals/callbackrequest/",
        f"{A}/core/auditentry/",
        f"{A}/identity/user/",
        f"{A}/payments/savedcard/",
        f"{A}/notices/notification/",
        f"{A}/notices/news/",
        f"{A}/auth/group/",
    ],
    roles.CONTENT: [
        f"{A}/identity/user/",
        f"{A}/identity/user/{{owner_id}}/change/",
        f"{A}/payments/payment/",
        f"{A}/payments/payment/{{payment_id}}/change/",
        f"{A}/accounts/personalaccount/",
        f"{A}/core/auditentry/",
        f"{A}/appeals/appeal/",
        f"{A}/billing/tariff/",
        f"{A}/meters/reading/",
        f"{A}/notices/notification/",
    ],
    roles.ADMIN: [],
}
CONSOLE_404 = {roles.BILLING, roles.CONTENT}


def _url(template: str, world: Any) -> str:
    return template.format(**world.owner.ids, owner_id=world.owner.user.pk)


@pytest.mark.parametrize("role", sorted(CAN))
def test_a_role_opens_what_it_needs_and_nothing_else(
    role: str, world: Any, admin_client_for: Any
) -> None:
    client = admin_client_for(make_staff(roles=(role,)))
    opened = {u: client.get(_url(u, world)).status_code for u in CAN[role]}
    assert opened == dict.fromkeys(CAN[role], 200)
    refused = {u: client.get(_url(u, world)).status_code for u in CANNOT[role]}
    assert refused == dict.fromkeys(CANNOT[role], 403)
    if role in CONSOLE_404:
        assert client.get("/operator/").status_code == 404


def test_staff_without_a_role_sees_nothing_and_customers_never_get_in(
    world: Any, admin_client_for: Any
) -> None:
    nobody = admin_client_for(make_staff())
    assert nobody.get(f"{A}/").status_code == 200  # «no permission to view or edit anything»
    assert nobody.get(f"{A}/payments/payment/").status_code == 403
    customer = admin_client_for(world.owner.user)
    response = customer.get(f"{A}/payments/payment/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{A}/login/")


def test_only_refund_rights_see_the_refund_action(world: Any, admin_client_for: Any) -> None:
    payment_id = world.owner.ids["payment_id"]
    for role in (roles.OPERATOR, roles.BILLING):
        client = admin_client_for(make_staff(phone=f"+7900000060{len(role)}", roles=(role,)))
        page = client.get(f"{A}/payments/payment/")
        assert "refund_in_full" not in page.content.decode()
        client.post(
            f"{A}/payments/payment/",
            {"action": "refund_in_full", "_selected_action": [str(payment_id)]},
        )
        assert Payment.objects.get(pk=payment_id).refunded_amount == 0
    admin = admin_client_for(make_staff(phone="+79000000699", roles=(roles.ADMIN,)))
    assert "refund_in_full" in admin.get(f"{A}/payments/payment/").content.decode()


def test_an_administrator_cannot_make_a_superuser(world: Any, admin_client_for: Any) -> None:
    client = admin_client_for(make_staff(roles=(roles.ADMIN,)))
    form = client.get(f"{A}/identity/user/{world.owner.user.pk}/change/").context["adminform"]
    assert "is_superuser" not in form.form.fields
    # contacts are logins: only the customer changes them, with a code
    assert "phone" not in form.form.fields
    assert "email" not in form.form.fields
    assert "groups" in form.form.fields


def test_roles_have_exactly_their_permissions_and_operators_are_the_console_group() -> None:
    groups = roles.roles_ensure()
    assert set(roles.NAMES) == set(groups)
    assert roles.NAMES[roles.OPERATOR] == appeal_selectors.OPERATORS_GROUP
    for role in (roles.OPERATOR, roles.BILLING, roles.CONTENT):
        perms = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in groups[role].permissions.select_related("content_type")
        }
        assert perms == set(roles.PERMISSIONS[role]), role
        assert "core.view_auditentry" not in perms
        assert not any(p.startswith("identity.") for p in perms)
    assert groups[roles.ADMIN].permissions.filter(codename="view_auditentry").exists()
    # applying them again changes nothing
    again = roles.roles_ensure()
    assert {r: g.pk for r, g in again.items()} == {r: g.pk for r, g in groups.items()}
    assert Group.objects.filter(name__in=roles.NAMES.values()).count() == 4


def test_manage_py_staff_role_gives_and_takes_a_role_with_an_audit_row(world: Any) -> None:
    user = world.owner.user
    out = StringIO()
    call_command("staff_role", "+7 900 000-01-01", "billing", stdout=out)
    user.refresh_from_db()
    assert user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["Специалисты по начислениям"]
    assert "role «Специалисты по начислениям» given" in out.getvalue()
    call_command("staff_role", user.phone, "billing", "--remove", stdout=out)
    assert user.groups.count() == 0
    assert list(
        AuditEntry.objects.filter(subject_user_id=user.pk, action__startswith="staff.role")
        .order_by("pk")
        .values_list("action", "data")
    ) == [
        ("staff.role_given", {"role": "billing", "via": "manage.py staff_role"}),
        ("staff.role_removed", {"role": "billing", "via": "manage.py staff_role"}),
    ]
    with pytest.raises(CommandError, match="No such user"):
        call_command("staff_role", "+79990000000", "admin", stdout=out)


def test_the_demo_has_one_staff_member_per_role() -> None:
    from django.contrib.auth import get_user_model

    from abonent.privacy.demo import DEMO_STAFF, staff_demo_seed

    staff_demo_seed()
    staff_demo_seed()  # safe to run again
    for phone, role, password, *_ in DEMO_STAFF:
        user = get_user_model().objects.get(phone=phone)
        assert user.check_password(password)
        assert user.is_staff
        assert not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [roles.NAMES[role]]
