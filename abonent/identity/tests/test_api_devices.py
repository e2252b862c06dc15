"""Signed-in devices: GET /auth/devices, DELETE /auth/devices/{id}."""

from __future__ import annotations

from datetime import timedelta

import pytest

from abonent.core.models import AuditEntry
from abonent.identity.models import Device
from abonent.identity.tests.conftest import T0
from abonent.identity.tests.factories import PASSWORD, UserFactory, assert_error, open_app

pytestmark = pytest.mark.django_db

PHONE = "+79131112233"


def browser_for(make_api, user):
    browser = make_api()
    response = browser.post(
        "/auth/login",
        {"login": user.phone, "password": PASSWORD, "client": "web"},
        headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0"},
    )
    assert response.status_code == 200
    return browser


def test_the_list_shows_my_live_devices_and_marks_the_current_one(api, make_api, clock):
    # given a customer with a browser, two phones (one signed out), and another customer
    user = UserFactory(phone=PHONE)
    browser = browser_for(make_api, user)
    clock.shift(60)
    phone, token = open_app(user, "iPhone")
    _, old_token = open_app(user, "Старый телефон")
    api.post("/auth/logout", token=old_token)
    stranger = UserFactory(phone="+79139998877")
    open_app(stranger, "Чужой")

    # when
    response = api.get("/auth/devices", token=token)

    # then
    assert response.status_code == 200
    web = Device.objects.get(user=user, kind="web")
    assert response.json() == [
        {
            "id": phone.pk,
            "kind": "app",
            "name": "iPhone",
            "ip": "127.0.0.1",
            "created_at": (T0 + timedelta(seconds=60)).isoformat(),
            "last_seen_at": (T0 + timedelta(seconds=60)).isoformat(),
            "has_pin": False,
            "current": True,
        },
        {
            "id": web.pk,
            "kind": "web",
            "name": "Chrome, Windows",
            "ip": "127.0.0.1",
            "created_at": T0.isoformat(),
            "last_seen_at": T0.isoformat(),
            "has_pin": False,
            "current": False,
        },
    ]
    # and from the browser, the browser is the current one
    from_browser = browser.get("/auth/devices").json()
    current = {d["id"]: d["current"] for d in from_browser}
    assert current == {phone.pk: False, web.pk: True}


def test_the_list_hides_idle_expired_apps_without_a_pin(api, clock):
    user = UserFactory(phone=PHONE)
    idle, _ = open_app(user, "Заброшенный")
    Device.objects.filter(pk=idle.pk).update(expires_at=T0 - timedelta(seconds=1))
    _, token = open_app(user, "Текущий")

    names = [d["name"] for d in api.get("/auth/devices", token=token).json()]

    assert names == ["Текущий"]


def test_the_list_takes_a_fixed_number_of_queries(api, django_assert_num_queries):
    user = UserFactory(phone=PHONE)
    _, token = open_app(user)
    for n in range(5):
        open_app(user, f"Телефон {n}")

    with django_assert_num_queries(2):  # the token's device with its user; the list
        response = api.get("/auth/devices", token=token)

    assert len(response.json()) == 6


def test_the_list_needs_a_signed_in_caller(api):
    assert_error(api.get("/auth/devices"), 401, "not_authenticated", {})
    assert_error(api.get("/auth/devices", token="nope"), 401, "not_authenticated", {})


def test_revoking_a_phone_signs_it_out(api):
    # given
    user = UserFactory(phone=PHONE)
    _, token = open_app(user)
    lost, lost_token = open_app(user, "Потерянный")

    # when
    response = api.delete(f"/auth/devices/{lost.pk}", token=token)

    # then
    assert response.status_code == 204
    assert_error(api.get("/me", token=lost_token), 401, "not_authenticated")
    assert api.get("/me", token=token).status_code == 200
    lost.refresh_from_db()
    assert lost.revoked_at is not None
    assert [d["name"] for d in api.get("/auth/devices", token=token).json()] == ["Телефон"]
    entry = AuditEntry.objects.get(action="device.revoke")
    assert (entry.actor_id, entry.data) == (user.pk, {"device": lost.pk})


def test_revoking_a_browser_ends_its_session(api, make_api):
    user = UserFactory(phone=PHONE)
    browser = browser_for(make_api, user)
    web = Device.objects.get(kind="web")
    _, token = open_app(user)

    response = api.delete(f"/auth/devices/{web.pk}", token=token)

    assert response.status_code == 204
    assert_error(browser.get("/me"), 401, "not_authenticated")


def test_another_customers_device_is_not_found_and_stays_signed_in(api):
    # given
    me = UserFactory(phone=PHONE)
    _, token = open_app(me)
    stranger = UserFactory(phone="+79139998877")
    theirs, their_token = open_app(stranger)

    # when
    response = api.delete(f"/auth/devices/{theirs.pk}", token=token)

    # then
    body = assert_error(response, 404, "device_not_found", {})
    assert body["message"] == "Устройство не найдено."
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert api.get("/me", token=their_token).json()["id"] == stranger.pk
    assert not AuditEntry.objects.filter(action="device.revoke").exists()


def test_an_unknown_or_already_revoked_device_is_not_found(api):
    user = UserFactory(phone=PHONE)
    _, token = open_app(user)
    gone, gone_token = open_app(user, "Старый")
    api.post("/auth/logout", token=gone_token)

    assert_error(api.delete(f"/auth/devices/{gone.pk}", token=token), 404, "device_not_found")
    assert_error(api.delete("/auth/devices/999999", token=token), 404, "device_not_found")


def test_anonymous_cannot_revoke(api):
    user = UserFactory(phone=PHONE)
    device, token = open_app(user)

    response = api.delete(f"/auth/devices/{device.pk}")

    assert_error(response, 401, "not_authenticated")
    device.refresh_from_db()
    assert device.revoked_at is None
    assert api.get("/me", token=token).status_code == 200
