"""Abonent settings: everything comes from the environment, with embedded defaults.

Embedded (no servers): SQLite, local-memory cache, in-memory channel layer, a Celery
broker on a SQLite file, SMS and e-mail written to the outbox. Set DATABASE_URL and
REDIS_URL for PostgreSQL and Redis; DJANGO_ENV=production hardens everything.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

ENVIRONMENT = env.str("DJANGO_ENV", default="development")
PRODUCTION = ENVIRONMENT == "production"
TESTING = env.bool("ABONENT_TESTING", default=False)

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION and not TESTING)
if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
else:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="dev-only-insecure-key-0123456789-abcdefghijklmnopqrstuv"
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("ABONENT_SITE_URL", default="http://127.0.0.1:8000")
ADMIN_URL = env.str("DJANGO_ADMIN_URL", default="admin/")
# The branch whose call centre signed-out visitors see.
DEFAULT_BRANCH_CODE = env.str("DEFAULT_BRANCH_CODE", default="krasnoyarsk")
# Database connections a billing run uses side by side on PostgreSQL (one on SQLite).
BILLING_RUN_WORKERS = env.int("BILLING_RUN_WORKERS", default=2)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "captcha",
    "csp",
    "channels",
    "ninja",  # serves Swagger UI from our static files, not a CDN (CSP, no network)
    "abonent.core",
    "abonent.web",
    "abonent.identity",
    "abonent.accounts",
    "abonent.billing",
    "abonent.meters",
    "abonent.payments",
    "abonent.payments.gateways.sandbox.bank",
    "abonent.appeals",
    "abonent.notices",
    "abonent.documents",
    "abonent.privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "abonent.core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "abonent.core.middleware.DatabaseFaultMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "abonent.identity.middleware.DeviceSessionMiddleware",
    "abonent.core.middleware.ApiErrorShapeMiddleware",
    "abonent.web.middleware.BranchTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "abonent.web.context_processors.shell",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL through DATABASE_URL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'abonent.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: a one-query view fell from ~1,180 to 146 req/s without them.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: cache, channel layer and Celery broker when REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache that serves on (without a cache) while Redis is down.
            "BACKEND": "abonent.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "abonent",
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_TIMEOUT", default=2.0),
                "socket_timeout": env.float("REDIS_TIMEOUT", default=2.0),
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "abonent:ws"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Celery: Redis in production; embedded, a broker on a SQLite file and one solo worker.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis transport: a job not acknowledged (acks_late) within the visibility timeout goes back
# to the queue — a worker SIGKILLed mid-job is redelivered after it. It must exceed the
# longest job (a billing run is taken as dead after 2 hours). Publishing fails fast while
# Redis is down, so the job goes to the outbox instead of holding the request.
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):  # SQLAlchemy's broker takes none
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60),
        "unacked_restore_interval": env.int("CELERY_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": env.int("CELERY_RESTORE_THROTTLE", default=10),
        "socket_connect_timeout": env.float("REDIS_TIMEOUT", default=2.0),
        # above the 1 s a worker blocks in BRPOP; bounds a publish to a hung Redis
        "socket_timeout": env.float("CELERY_SOCKET_TIMEOUT", default=5.0),
    }
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": env.int("CELERY_PUBLISH_RETRIES", default=2),
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    "identity-codes-purge": {
        "task": "abonent.identity.tasks.codes_purge",
        "schedule": 60 * 60 * 24,
    },
    # Hourly, so each branch's local date is caught; notices are keyed, so once each.
    "meters-reading-reminders": {
        "task": "abonent.meters.tasks.reading_reminders",
        "schedule": 60 * 60,
    },
    "meters-verification-reminders": {
        "task": "abonent.meters.tasks.verification_reminders",
        "schedule": 60 * 60,
    },
    "payments-reconcile": {"task": "abonent.payments.tasks.reconcile", "schedule": 5 * 60},
    "payments-daily-report": {"task": "abonent.payments.tasks.daily_report", "schedule": 86400},
    "payments-autopay": {"task": "abonent.payments.tasks.autopay", "schedule": 60 * 60},
    # Deliveries due (retries with backoff, mornings after quiet hours, lost jobs) and the
    # day-before notices of planned outages; both are safe to run at any moment.
    "notices-deliveries-due": {"task": "abonent.notices.tasks.deliveries_due", "schedule": 30},
    "privacy-audit-purge": {"task": "abonent.privacy.tasks.audit_purge", "schedule": 86400},
    # Jobs kept in the database while the broker was down (docs/decisions/0014).
    "core-outbox-relay": {"task": "abonent.core.tasks.outbox_relay", "schedule": 60},
    "notices-outage-reminders": {
        "task": "abonent.notices.tasks.outage_reminders",
        "schedule": 15 * 60,
    },
}

# Personal data (decision 0012): how long the audit log is kept, how often the same staff
# member opening the same record is written again, how many self-exports a customer gets a day.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=3 * 365)
AUDIT_VIEW_THROTTLE_SECONDS = env.int("AUDIT_VIEW_THROTTLE_SECONDS", default=5 * 60)
DATA_EXPORT_MAX_PER_DAY = env.int("DATA_EXPORT_MAX_PER_DAY", default=5)

# Identity
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "abonent.identity.backends.LoginBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests check behaviour, not the hash cost.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "identity:login"

# Lockout after repeated failed sign-ins (django-axes). Counted per login, whatever the
# IP, so a distributed guess is stopped too; a password reset lifts the lock. Not per IP:
# mobile carriers put thousands of customers behind one address (CGNAT), so the per-IP
# layer is a rate limit on the sign-in endpoints (AUTH_RATE_PER_IP), not a lockout.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "abonent.identity.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "abonent.identity.views.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "abonent.core.http.client_ip"
# The API's rate limits trust X-Forwarded-For only from our own proxies.
NINJA_NUM_PROXIES = TRUSTED_PROXY_COUNT

# Codes, PINs and device tokens
VERIFICATION_CODE_TTL_SECONDS = 600
VERIFICATION_CODE_MAX_ATTEMPTS = 5
VERIFICATION_RESEND_INTERVAL_SECONDS = env.int("CODE_RESEND_INTERVAL", default=60)
VERIFICATION_MAX_PER_HOUR = env.int("CODE_MAX_PER_HOUR", default=5)
DEVICE_TOKEN_IDLE_DAYS = env.int("DEVICE_TOKEN_IDLE_DAYS", default=30)
PIN_MAX_ATTEMPTS = 5
AUTH_RATE_PER_IP = env.str("AUTH_RATE_PER_IP", default="30/m")
CONSENT_VERSION = "2026-11-01"

# SMS: "outbox" writes to the console and var/outbox/sms.log; "smsru" posts to SMS.ru.
SMS_BACKEND = env.str("SMS_BACKEND", default="outbox")
SMS_OUTBOX_PATH = env.path("SMS_OUTBOX_PATH", default=VAR_DIR / "outbox" / "sms.log")
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_SENDER = env.str("SMS_HTTP_SENDER", default="Abonent")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=5.0)

# Payments: "sandbox" is the built-in test acquirer (served under /sandbox-acquirer/, talked
# to over HTTP like a real one); "yookassa" uses the official SDK.
PAYMENTS_GATEWAY = env.str("PAYMENTS_GATEWAY", default="sandbox")
PAYMENTS_SANDBOX_ENABLED = env.bool("PAYMENTS_SANDBOX_ENABLED", default=not PRODUCTION)
PAYMENTS_SANDBOX_URL = env.str("PAYMENTS_SANDBOX_URL", default=f"{SITE_URL}/sandbox-acquirer")
PAYMENTS_SANDBOX_NOTIFY_URL = env.str(
    "PAYMENTS_SANDBOX_NOTIFY_URL", default=f"{SITE_URL}/api/v1/payments/webhooks/sandbox"
)
PAYMENTS_SANDBOX_SHOP_SECRET = env.str("PAYMENTS_SANDBOX_SHOP_SECRET", default="sandbox-shop-key")
PAYMENTS_SANDBOX_WEBHOOK_SECRET = env.str(
    "PAYMENTS_SANDBOX_WEBHOOK_SECRET", default="sandbox-webhook-key"
)
PAYMENTS_HTTP_TIMEOUT = env.float("PAYMENTS_HTTP_TIMEOUT", default=15.0)
PAYMENTS_LINE_MAX = env.str("PAYMENTS_LINE_MAX", default="300000")  # ₽ per service line
PAYMENTS_TOTAL_MAX = env.str("PAYMENTS_TOTAL_MAX", default="600000")  # ₽ per payment
PAYMENTS_MAX_LINES = 60
PAYMENTS_CARD_CHECK_AMOUNT = env.str("PAYMENTS_CARD_CHECK_AMOUNT", default="10.00")
# "hold": 10 ₽ blocked and released at once; "charge_refund": charged and refunded at once.
PAYMENTS_CARD_CHECK_MODE = env.str("PAYMENTS_CARD_CHECK_MODE", default="hold")
PAYMENTS_VAT_CODE = env.int("PAYMENTS_VAT_CODE", default=1)  # 1 = без НДС (54-ФЗ)
PAYMENTS_RECONCILE_AFTER_MINUTES = env.int("PAYMENTS_RECONCILE_AFTER_MINUTES", default=10)
PAYMENTS_PENDING_EXPIRE_HOURS = env.int("PAYMENTS_PENDING_EXPIRE_HOURS", default=24)
YOOKASSA_SHOP_ID = env.str("YOOKASSA_SHOP_ID", default="")
YOOKASSA_SECRET_KEY = env.str("YOOKASSA_SECRET_KEY", default="")
YOOKASSA_API_URL = env.str("YOOKASSA_API_URL", default="https://api.yookassa.ru/v3")
# Notifications are accepted only from these (YooKassa's published addresses).
YOOKASSA_WEBHOOK_IPS = env.list(
    "YOOKASSA_WEBHOOK_IPS",
    default=[
        "185.71.76.0/27",
        "185.71.77.0/27",
        "77.75.153.0/25",
        "77.75.156.11",
        "77.75.156.35",
        "77.75.154.128/25",
        "2a02:5180::/32",
    ],
)

# E-mail: the file backend is the embedded outbox.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "outbox" / "email"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Абонент <noreply@abonent.local>")
EMAIL_TIMEOUT = 10

# Captcha on the web sign-up form (django-simple-captcha renders it locally).
CAPTCHA_LENGTH = 5
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.random_char_challenge"
CAPTCHA_TEST_MODE = env.bool("CAPTCHA_TEST_MODE", default=TESTING)

# Internationalisation: the UI is Russian.
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS: list[Path] = []
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "private")
STORAGES = {
    # Private files are never under a public URL: they are served by views that check access.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Appeals: attachments live in the PRIVATE storage alias (a local folder under var/ by default,
# an S3 bucket through django-storages when APPEALS_S3_BUCKET is set; credentials from the usual
# AWS_* variables), limits per file and per message, and an optional clamd scan.
APPEALS_STORAGE_ALIAS = "private"
APPEALS_S3_BUCKET = env.str("APPEALS_S3_BUCKET", default="")
if APPEALS_S3_BUCKET:
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": APPEALS_S3_BUCKET,
            "endpoint_url": env.str("APPEALS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("APPEALS_S3_REGION", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    STORAGES["private"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    }
APPEALS_MAX_FILE_SIZE = env.int("APPEALS_MAX_FILE_SIZE", default=10 * 1024 * 1024)
APPEALS_MAX_FILES = env.int("APPEALS_MAX_FILES", default=5)
# Photos are shown as thumbnails in the thread: a bigger one (a decompression bomb) is refused.
APPEALS_MAX_IMAGE_PIXELS = env.int("APPEALS_MAX_IMAGE_PIXELS", default=100_000_000)
APPEALS_MESSAGE_MAX_LENGTH = env.int("APPEALS_MESSAGE_MAX_LENGTH", default=4000)
APPEALS_REOPEN_DAYS = env.int("APPEALS_REOPEN_DAYS", default=7)
# clamd over its socket protocol: a unix socket (CLAMD_SOCKET) or TCP (CLAMD_HOST); off if unset.
CLAMD_SOCKET = env.str("CLAMD_SOCKET", default="")
CLAMD_HOST = env.str("CLAMD_HOST", default="")
CLAMD_PORT = env.int("CLAMD_PORT", default=3310)
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=10.0)

# Notices: news pictures are public content — a local folder served under /media/ by default,
# a public-read S3 bucket when PUBLIC_S3_BUCKET is set. Web Push with VAPID keys from the
# environment (without them `make run` makes a development pair under var/); endpoints only at
# the browsers' push services (no requests to arbitrary hosts).
PUBLIC_MEDIA_ROOT = env.path("PUBLIC_MEDIA_ROOT", default=VAR_DIR / "public")
PUBLIC_MEDIA_URL = env.str("PUBLIC_MEDIA_URL", default="/media/")
PUBLIC_S3_BUCKET = env.str("PUBLIC_S3_BUCKET", default="")
if PUBLIC_S3_BUCKET:
    STORAGES["public"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PUBLIC_S3_BUCKET,
            "endpoint_url": env.str("PUBLIC_S3_ENDPOINT_URL", default="") or None,
            "custom_domain": env.str("PUBLIC_S3_DOMAIN", default="") or None,
            "default_acl": "public-read",
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }
else:
    STORAGES["public"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PUBLIC_MEDIA_ROOT), "base_url": PUBLIC_MEDIA_URL},
    }
NEWS_PICTURE_MAX_SIZE = env.int("NEWS_PICTURE_MAX_SIZE", default=5 * 1024 * 1024)
WEBPUSH_VAPID_PUBLIC_KEY = env.str("WEBPUSH_VAPID_PUBLIC_KEY", default="")
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", default="")
WEBPUSH_VAPID_SUBJECT = env.str("WEBPUSH_VAPID_SUBJECT", default="mailto:noreply@abonent.local")
WEBPUSH_DEV_KEYS_PATH = VAR_DIR / "vapid-dev.json"
WEBPUSH_TIMEOUT = env.float("WEBPUSH_TIMEOUT", default=10.0)
WEBPUSH_ALLOWED_HOSTS = env.list(
    "WEBPUSH_ALLOWED_HOSTS",
    default=[
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        ".push.services.mozilla.com",
        ".notify.windows.com",
        ".push.apple.com",
    ],
)
NOTICES_DELIVERY_MAX_ATTEMPTS = env.int("NOTICES_DELIVERY_MAX_ATTEMPTS", default=6)
# A delivery claimed by a job that died is sent again (same key) once this lease runs out.
NOTICES_SENDING_LEASE_SECONDS = env.int("NOTICES_SENDING_LEASE_SECONDS", default=10 * 60)
NOTICES_MESSAGE_ID_DOMAIN = env.str("NOTICES_MESSAGE_ID_DOMAIN", default="abonent.local")
NOTICES_OUTAGE_REMIND_HOURS = env.int("NOTICES_OUTAGE_REMIND_HOURS", default=24)

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", "ws:", "wss:"] if not PRODUCTION else ["'self'", "wss:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
    }
}

if PUBLIC_MEDIA_URL.startswith(("https://", "http://")):  # news pictures from a CDN / bucket
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(PUBLIC_MEDIA_URL)

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Secure-sessionid"
    CSRF_COOKIE_NAME = "__Secure-csrftoken"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
