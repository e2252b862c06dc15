"""Staff access to customers' data is audited: admin change pages, searches, exports and
actions, admin changes, and the operator console's thread view and attachment download; one
filter in «Журнал действий» answers «who looked at / changed customer X»."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib import admin
from django.contrib.admin.models import LogEntry

from abonent.accounts.models import AccountLink
from abonent.core import clock
from abonent.core.models import AuditEntry
from abonent.privacy import services
from abonent.privacy.admin_audit import AuditedAdmin
from abonent.privacy.tests.factories import make_staff

pytestmark = pytest.mark.django_db


def staff_rows(**filters: Any) -> list[tuple[Any, ...]]:
    return list(
        AuditEntry.objects.filter(action__startswith="staff.", **filters)
        .order_by("pk")
        .values_list("action", "actor_id", "subject_user_id", "object_type", "object_id")
    )


# ---------------------------------------------------------------- admin change pages


def test_opening_a_payment_in_the_admin_records_a_read_of_its_customers_data(
    world: Any, admin_client_for: Any
) -> None:
    # given an administrator
    staff = make_staff(superuser=True)
    payment_id = world.owner.ids["payment_id"]
    # when they open the owner's payment
    response = admin_client_for(staff).get(
        f"/admin/payments/payment/{payment_id}/change/", REMOTE_ADDR="10.1.2.3"
    )
    # then the page is there and the read is in the log, with whose data it was and from where
    assert response.status_code == 200
    assert staff_rows() == [
        ("staff.viewed", staff.pk, world.owner.user.pk, "payments.payment", str(payment_id))
    ]
    assert AuditEntry.objects.get(action="staff.viewed").ip == "10.1.2.3"


def test_reopening_the_same_record_within_the_window_is_one_row_and_later_another(
    world: Any, admin_client_for: Any
) -> None:
    staff = make_staff(superuser=True)
    client = admin_client_for(staff)
    url = f"/admin/payments/savedcard/{world.owner.ids['card_id']}/change/"
    with time_machine.travel(clock.now(), tick=False) as traveller:
        assert client.get(url).status_code == 200
        assert client.get(url).status_code == 200
        assert len(staff_rows(action="staff.viewed")) == 1
        traveller.shift(services.view_throttle() + timedelta(seconds=1))
        assert client.get(url).status_code == 200
    assert len(staff_rows(action="staff.viewed")) == 2


def test_an_account_shared_by_two_customers_is_a_read_of_both(
    world: Any, admin_client_for: Any
) -> None:
    # given the other customer linked to the owner's ЛС too
    account_id = world.owner.ids["account_id"]
    AccountLink.objects.create(user=world.other.user, account_id=account_id, created_at=clock.now())
    staff = make_staff(superuser=True)
    # when the ЛС is opened in the admin
    response = admin_client_for(staff).get(f"/admin/accounts/personalaccount/{account_id}/change/")
    # then the read is recorded for each of them
    assert response.status_code == 200
    assert {r[2] for r in staff_rows(action="staff.viewed")} == {
        world.owner.user.pk,
        world.other.user.pk,
    }


def test_a_reading_is_the_data_of_the_customers_of_its_account(
    world: Any, admin_client_for: Any
) -> None:
    staff = make_staff(superuser=True)
    reading_id = world.owner.ids["reading_id"]
    response = admin_client_for(staff).get(f"/admin/meters/reading/{reading_id}/change/")
    assert response.status_code == 200
    assert staff_rows() == [
        ("staff.viewed", staff.pk, world.owner.user.pk, "meters.reading", str(reading_id))
    ]


def test_a_missing_object_records_nothing(world: Any, admin_client_for: Any) -> None:
    staff = make_staff(superuser=True)
    response = admin_client_for(staff).get("/admin/payments/payment/999999/change/")
    assert response.status_code == 302  # the admin's «not found» goes back to the index
    assert staff_rows() == []


# ---------------------------------------------------------------- searches, actions, exports


def test_a_search_records_whose_rows_it_showed_and_plain_browsing_does_not(
    world: Any, admin_client_for: Any
) -> None:
    staff = make_staff(superuser=True)
    client = admin_client_for(staff)
    # when the staff member browses the payments without narrowing them
    assert client.get("/admin/payments/payment/").status_code == 200
    branch = {"meter__account__branch__id__exact": str(world.branch.pk)}
    assert client.get("/admin/meters/reading/", branch).status_code == 200
    assert staff_rows() == []
    # narrowing to one customer is like a search
    by_user = {"user__id__exact": str(world.owner.user.pk)}
    assert client.get("/admin/notices/notification/", by_user).status_code == 200
    assert [r[0] for r in staff_rows()] == ["staff.searched"]
    AuditEntry.objects.filter(action="staff.searched").delete()
    # and then searches by the owner's phone
    response = client.get("/admin/payments/payment/", {"q": world.owner.user.phone})
    assert response.status_code == 200
    rows = AuditEntry.objects.filter(action="staff.searched")
    assert [(r.subject_user_id, r.object_type, r.data) for r in rows] == [
        (
            world.owner.user.pk,
            "payments.payment",
            {"results": 2, "q": world.owner.user.phone},  # the payment and the card check
        )
    ]


def test_an_action_on_callbacks_is_recorded_with_their_customers(
    world: Any, admin_client_for: Any
) -> None:
    staff = make_staff(superuser=True)
    callback_id = world.owner.ids["callback_id"]
    response = admin_client_for(staff).post(
        "/admin/appeals/callbackrequest/",
        {"action": "mark_done", "_selected_action": [str(callback_id)]},
    )
    assert response.status_code == 302
    assert staff_rows() == [
        ("staff.action", staff.pk, world.owner.user.pk, "appeals.callbackrequest", str(callback_id))
    ]
    assert AuditEntry.objects.get(action="staff.action").data == {
        "action": "mark_done",
        "count": 1,
    }


def test_a_csv_export_of_readings_is_recorded_as_an_export(
    world: Any, admin_client_for: Any
) -> None:
    staff = make_staff(superuser=True)
    reading_id = world.owner.ids["reading_id"]
    response = admin_client_for(staff).post(
        "/admin/meters/reading/",
        {"action": "export_csv", "_selected_action": [str(reading_id)]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert staff_rows() == [
        ("staff.exported", staff.pk, world.owner.user.pk, "meters.reading", str(reading_id))
    ]


# ---------------------------------------------------------------- changes


def test_a_change_in_the_admin_lands_in_the_audit_log_beside_logentry(
    world: Any, admin_client_for: Any
) -> None:
    staff = make_staff(superuser=True)
    user = world.owner.user
    client = admin_client_for(staff)
    url = f"/admin/identity/user/{user.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "groups"}
    data.update({"last_name": "Иванова-Петрова", "is_active": "on"})
    # when the staff member changes the customer's surname
    response = client.post(url, data)
    # then it is saved, and both logs have it
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert user.last_name == "Иванова-Петрова"
    assert LogEntry.objects.filter(object_id=str(user.pk)).count() == 1
    change = AuditEntry.objects.get(action="staff.changed")
    assert (change.actor_id, change.subject_user_id, change.object_type) == (
        staff.pk,
        user.pk,
        "identity.user",
    )
    assert change.data == {"fields": ["Фамилия"]}


# ---------------------------------------------------------------- the operator console


def test_the_console_thread_view_and_an_attachment_download_are_recorded(
    world: Any, admin_client_for: Any
) -> None:
    operator = world.operator
    client = admin_client_for(operator)
    appeal_id = world.owner.ids["appeal_id"]
    attachment_id = world.owner.ids["attachment_id"]
    assert client.get(f"/operator/appeals/{appeal_id}/").status_code == 200
    assert client.get(f"/api/v1/attachments/{attachment_id}").status_code == 200
    assert staff_rows() == [
        ("staff.viewed", operator.pk, world.owner.user.pk, "appeals.appeal", str(appeal_id)),
        (
            "staff.viewed",
            operator.pk,
            world.owner.user.pk,
            "appeals.attachment",
            str(attachment_id),
        ),
    ]


def test_the_customer_downloading_their_own_file_is_not_a_staff_read(world: Any) -> None:
    from django.test import Client

    client = Client(headers=world.owner.auth)
    response = client.get(f"/api/v1/attachments/{world.owner.ids['attachment_id']}")
    assert response.status_code == 200
    assert staff_rows() == []


def test_a_failing_audit_write_never_breaks_the_page_and_is_logged(
    world: Any, admin_client_for: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(**kwargs: Any) -> int:
        raise RuntimeError("audit table is locked")

    monkeypatch.setattr(services, "staff_access_record", broken)
    staff = make_staff(superuser=True)
    with caplog.at_level(logging.ERROR, logger="abonent.privacy.services"):
        response = admin_client_for(staff).get(
            f"/admin/payments/payment/{world.owner.ids['payment_id']}/change/"
        )
    assert response.status_code == 200
    assert "audit: could not record staff.viewed of payments.payment" in caplog.text
    assert "audit table is locked" in caplog.text


# ---------------------------------------------------------------- the audit log in the admin


def test_the_log_filters_by_customer_and_the_customer_page_links_to_it(
    world: Any, admin_client_for: Any
) -> None:
    staff = make_staff(superuser=True)
    client = admin_client_for(staff)
    client.get(f"/admin/payments/payment/{world.owner.ids['payment_id']}/change/")
    client.get(f"/admin/payments/payment/{world.other.ids['payment_id']}/change/")
    # the owner's admin page links to «журнал по клиенту»
    page = client.get(f"/admin/identity/user/{world.owner.user.pk}/change/").content.decode()
    link = f"/admin/core/auditentry/?subject_user_id={world.owner.user.pk}"
    assert link in page
    # which lists only the owner's rows, by whom
    response = client.get(link)
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert {e.subject_user_id for e in shown} == {world.owner.user.pk}
    assert {(e.action, e.object_type) for e in shown if e.actor_id == staff.pk} == {
        ("staff.viewed", "payments.payment"),
        ("staff.viewed", "identity.user"),
    }
    assert "user.login" in {e.action for e in shown}  # their own actions are there too
    # and the actor filter narrows to one staff member
    response = client.get("/admin/core/auditentry/", {"actor": str(staff.pk)})
    assert {e.actor_id for e in response.context["cl"].result_list} == {staff.pk}


# ---------------------------------------------------------------- every admin is classified

# Registered admins that are not a customer's data, or are audited otherwise, and why.
NOT_CUSTOMER_DATA = {
    "auth.group": "roles: no customer data",
    "core.auditentry": "the log itself: administrators only; reading it is not re-audited",
    "core.joboutbox": "jobs kept while the broker was down: task names and row ids",
    "accounts.branch": "a branch's requisites",
    "accounts.address": "an address without a person (the ЛС that names the owner is audited)",
    "billing.service": "catalogue",
    "billing.tariff": "prices",
    "billing.norm": "norms",
    "billing.billingperiod": "periods and runs",
    "payments.reconciliationreport": "daily totals per gateway",
    "appeals.category": "catalogue",
    "appeals.cannedanswer": "answer templates",
    "appeals.branchholiday": "calendar",
    "notices.news": "public news",
    "notices.outage": "public outages",
    # axes: failed sign-in attempts by login; administrators only (role ADMIN), kept briefly
    "axes.accessattempt": "sign-in lockouts, administrators only",
    "axes.accesslog": "sign-in log, administrators only",
    "axes.accessfailurelog": "sign-in failures, administrators only",
    "captcha.captchastore": "captcha challenges",
}


def test_every_admin_of_customer_data_is_audited() -> None:
    unclassified = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdmin)
        and model._meta.label_lower not in NOT_CUSTOMER_DATA
    ]
    assert unclassified == []
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, AuditedAdmin):
            assert model_admin.audit_user_path or model_admin.audit_account_path, model
