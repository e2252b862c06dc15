"""Identity writes. Every function takes the time as `now`; SMS and e-mail go out on commit."""

from abonent.identity.services.codes import CodeTicket, code_resend, codes_purge
from abonent.identity.services.devices import (
    device_by_token,
    device_open_app,
    device_open_web,
    device_pin_login,
    device_pin_remove,
    device_pin_set,
    device_revoke,
    device_revoke_current,
    device_session_rotated,
    device_touch,
    devices_revoke_others,
    login_authenticate,
)
from abonent.identity.services.profile import (
    contact_change_confirm,
    contact_change_start,
    password_change,
    profile_change,
    profile_update,
    user_delete,
)
from abonent.identity.services.registration import (
    password_reset_confirm,
    password_reset_start,
    signup_confirm,
    signup_start,
)

__all__ = [
    "CodeTicket",
    "code_resend",
    "codes_purge",
    "contact_change_confirm",
    "contact_change_start",
    "device_by_token",
    "device_open_app",
    "device_open_web",
    "device_pin_login",
    "device_pin_remove",
    "device_pin_set",
    "device_revoke",
    "device_revoke_current",
    "device_session_rotated",
    "device_touch",
    "devices_revoke_others",
    "login_authenticate",
    "password_change",
    "password_reset_confirm",
    "password_reset_start",
    "profile_change",
    "profile_update",
    "signup_confirm",
    "signup_start",
    "user_delete",
]
