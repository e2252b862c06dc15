"""The hot-path statements of core/sql.py give the same instances as the ORM would."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db.models import Model

from abonent.billing.tests.factories import hot_water, make_account, make_branch, make_meter, read
from abonent.core import clock, sql
from abonent.identity.models import Device, User
from abonent.identity.services.devices import device_by_token, device_open_app
from abonent.meters.models import Reading

pytestmark = pytest.mark.django_db


def _fields(instance: Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_fetch_converts_every_column_like_the_orm(customer: User) -> None:
    # given a reading (Decimal, date, aware datetime, booleans) and a device with its user
    account = make_account(make_branch())
    meter = make_meter(account, hot_water())
    reading = read(meter, date(2026, 10, 1), "123.456")
    _device, token = device_open_app(
        user=customer, name="pixel", ip="127.0.0.1", user_agent="t", now=clock.now()
    )

    # when both are read through hand-written statements
    (got_reading,) = sql.fetch(
        f"SELECT {sql.columns(Reading, 'r')} FROM {sql.table(Reading)} r WHERE r.id = %s",  # noqa: S608 — column lists from model metadata; values bound  # nosec B608
        [reading.pk],
        Reading,
    )[0]
    device = device_by_token(token=token, now=clock.now())

    # then every field has the value and type the ORM gives
    orm_reading = Reading.objects.get(pk=reading.pk)
    assert _fields(got_reading) == _fields(orm_reading)
    assert {k: type(v) for k, v in _fields(got_reading).items()} == {
        k: type(v) for k, v in _fields(orm_reading).items()
    }
    assert device is not None
    orm_device = Device.objects.select_related("user").get(pk=device.pk)
    assert _fields(device) == _fields(orm_device)
    assert _fields(device.user) == _fields(orm_device.user)
    assert device.user.last_login == orm_device.user.last_login
    assert not got_reading._state.adding
    assert got_reading._state.db == "default"


def test_a_date_parameter_compares_as_the_backend_stores_it(customer: User) -> None:
    # given a device that expires in an hour
    now = clock.now()
    _device, token = device_open_app(
        user=customer, name="pixel", ip="127.0.0.1", user_agent="t", now=now
    )
    Device.objects.filter(user=customer).update(expires_at=now + timedelta(hours=1))

    # then it is live a minute before and dead a minute after (the datetime parameter is
    # compared as a time, not as text in another format)
    assert device_by_token(token=token, now=now + timedelta(minutes=59)) is not None
    assert device_by_token(token=token, now=now + timedelta(minutes=61)) is None
