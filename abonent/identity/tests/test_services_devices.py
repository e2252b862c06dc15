"""Devices and sign-in at the service level: tokens, sliding expiry, PIN rules, look-ups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore  # = SESSION_ENGINE

from abonent.core.errors import ValidationFailed
from abonent.identity import selectors, services
from abonent.identity.models import Device, DeviceKind
from abonent.identity.services.codes import _hash_secret
from abonent.identity.services.devices import _device_name
from abonent.identity.tests.conftest import T0
from abonent.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def app(user, now=T0):
    return services.device_open_app(user=user, name="", ip=None, user_agent="", now=now)


def test_the_tests_use_the_configured_session_engine(settings):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"


def test_only_the_hash_of_a_token_is_kept():
    user = UserFactory()

    device, token = app(user)

    assert device.token_hash == _hash_secret(token)
    assert device.expires_at == T0 + timedelta(days=30)
    assert device.name == "Приложение"


def test_a_token_slides_its_expiry_at_most_hourly():
    user = UserFactory()
    device, token = app(user)

    within_the_hour = services.device_by_token(token=token, now=T0 + timedelta(minutes=59))
    device.refresh_from_db()
    assert within_the_hour == device
    assert (device.last_seen_at, device.expires_at) == (T0, T0 + timedelta(days=30))

    later = T0 + timedelta(hours=2)
    services.device_by_token(token=token, now=later)
    device.refresh_from_db()
    assert (device.last_seen_at, device.expires_at) == (later, later + timedelta(days=30))


def test_an_idle_token_expires_after_thirty_days():
    user = UserFactory()
    _, token = app(user)

    assert services.device_by_token(token=token, now=T0 + timedelta(days=30)) is None
    assert services.device_by_token(token=token, now=T0 + timedelta(days=29, hours=23)) is not None


def test_a_token_of_a_deactivated_user_does_not_work():
    user = UserFactory(is_active=False)
    _, token = app(user)

    assert services.device_by_token(token=token, now=T0) is None


def test_a_pin_is_only_for_app_devices():
    user = UserFactory()
    session = SessionStore()
    web = services.device_open_web(user=user, session=session, ip=None, user_agent="", now=T0)

    with pytest.raises(ValidationFailed) as exc:
        services.device_pin_set(device=web, pin="2580", now=T0)

    assert exc.value.code == "pin_app_only"
    web.refresh_from_db()
    assert web.pin_hash == ""
    assert web.kind == DeviceKind.WEB
    assert session["device_id"] == web.pk


def test_a_revoked_web_device_loses_its_session():
    user = UserFactory()
    session = SessionStore()
    session["marker"] = 1
    web = services.device_open_web(user=user, session=session, ip=None, user_agent="", now=T0)
    session.save()
    key = session.session_key

    services.device_revoke(user=user, device_id=web.pk, now=T0)

    assert not SessionStore().exists(key)
    web.refresh_from_db()
    assert (web.revoked_at, web.session_key) == (T0, None)


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit Safari/604.1", "Safari, iPhone"),
        ("Mozilla/5.0 (Linux; Android 14) Chrome/130.0 YaBrowser/24.1", "Яндекс Браузер, Android"),
        ("Mozilla/5.0 (Windows NT 10.0) Chrome/130.0 Edg/130.0", "Edge, Windows"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/131.0", "Firefox, macOS"),
        ("curl/8.0", "Браузер"),
        ("", "Браузер"),
    ],
)
def test_a_browser_is_named_from_its_user_agent(user_agent, name):
    assert _device_name(user_agent, "Браузер") == name


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("8 (913) 111-22-33", "+79131112233"),
        ("+7 913 111 22 33", "+79131112233"),
        ("9131112233", "+79131112233"),
        (" Anna@Example.RU ", "anna@example.ru"),
        ("not a phone", "not a phone"),
        ("", ""),
    ],
)
def test_logins_are_normalized(raw, normalized):
    assert selectors.login_normalize(raw) == normalized


def test_a_deleted_user_is_not_found_by_login():
    live = UserFactory(phone="+79131112233")
    UserFactory(phone=None, email="gone@example.ru", deleted_at=T0)

    assert selectors.user_by_login(login="8 913 111 22 33") == live
    assert selectors.user_by_login(login="gone@example.ru") is None
    assert selectors.user_by_login(login="") is None


def test_the_device_list_leaves_out_revoked_and_idle_pinless_apps():
    user = UserFactory()
    live, _ = app(user)
    revoked, _ = app(user)
    services.device_revoke(user=user, device_id=revoked.pk, now=T0)
    idle, _ = app(user)
    idle_with_pin, _ = app(user)
    Device.objects.filter(pk__in=[idle.pk, idle_with_pin.pk]).update(
        expires_at=T0 - timedelta(days=1)
    )
    services.device_pin_set(device=idle_with_pin, pin="2580", now=T0)

    listed = set(selectors.device_list(user=user, now=T0))

    # an idle app with a PIN may still be unlocked with it, so it stays listed
    assert listed == {live, idle_with_pin}
