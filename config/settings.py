"""Settings, read from the environment.

Unset variables mean the embedded defaults a newcomer gets from `make run`: a SQLite
file in the project folder and Celery running tasks in-process. Setting DATABASE_URL
and REDIS_URL switches to PostgreSQL and a real broker; nothing else changes.
Production hardening lives in config/settings_production.py.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get(
    "SECRET_KEY", "dev-only-insecure-key-set-SECRET_KEY-in-production-0123456789abcdef"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "actors",
    "rollout",
    "benefits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "actors.security.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "actors.access_middleware.AccessMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "actors.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers on the embedded database wait for each other instead of failing
    # with "database is locked": every transaction takes the write lock when it begins
    # (so a read-then-write never needs an upgrade that SQLite refuses), the write-ahead
    # log lets readers go on while one writer writes, and a busy writer waits up to
    # SQLITE_BUSY_TIMEOUT seconds. The loser of a race then sees the winner's version and
    # gets the same 412/conflict as on PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT", "20")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "innforing",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "actors.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Local accounts (demo, break-glass administrators), limited by LOCAL_LOGIN.
    "actors.oidc.LocalBackend",
    # Sign-in through the identity provider; inert while OIDC_ISSUER is unset.
    "actors.oidc.OIDCBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "actors:home"
LOGOUT_REDIRECT_URL = "login"

# A session ends after SESSION_IDLE_SECONDS without a request (default 8 hours): the
# cookie and the stored session live that long, and a request renews them when they were
# last renewed a minute or more before (actors.security.SessionRenewalMiddleware).
SESSION_IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_SECONDS", str(8 * 60 * 60)))
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_RENEW_SECONDS = 60

# Login throttling: five failures lock that username from that address (both together)
# for an hour; other users at the same address and the same user elsewhere can log in.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client's address is REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT reverse proxies that
# append to X-Forwarded-For, the address the outermost one saw (actors/security.py).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "actors.security.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Provider sign-ins are not password guesses (actors/security.py).
AXES_WHITELIST_CALLABLE = "actors.security.not_a_password_attempt"

# Sign-in through an OpenID Connect provider (HelseID, Entra ID, ...): on when OIDC_ISSUER
# is set. Endpoints come from the issuer's discovery document unless given one by one
# (OIDC_OP_*_ENDPOINT). Claim names say where the person's name, e-mail, organisation
# number and groups are. Roles are granted in the application (actors/access.py); only
# OIDC_GROUP_ROLES maps provider groups to the directorate and national-coordinator roles,
# "group=role@orgnr;..." where role is `directorate` or `national_coordinator` and the
# optional orgnr must equal the person's organisation-number claim. See README, Deploying.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "HelseID")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid profile email")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "RS256")
for _endpoint in ("AUTHORIZATION", "TOKEN", "USER", "JWKS", "END_SESSION"):
    if os.environ.get(f"OIDC_OP_{_endpoint}_ENDPOINT"):
        globals()[f"OIDC_OP_{_endpoint}_ENDPOINT"] = os.environ[f"OIDC_OP_{_endpoint}_ENDPOINT"]
OIDC_CLAIM_NAME = os.environ.get("OIDC_CLAIM_NAME", "name")
OIDC_CLAIM_EMAIL = os.environ.get("OIDC_CLAIM_EMAIL", "email")
OIDC_CLAIM_ORGNR = os.environ.get("OIDC_CLAIM_ORGNR", "")
OIDC_CLAIM_GROUPS = os.environ.get("OIDC_CLAIM_GROUPS", "groups")
OIDC_GROUP_ROLES = os.environ.get("OIDC_GROUP_ROLES", "")
OIDC_TIMEOUT = int(os.environ.get("OIDC_TIMEOUT", "10"))
# Seconds of clock difference allowed when checking a token's expiry and issue time.
OIDC_CLOCK_SKEW = int(os.environ.get("OIDC_CLOCK_SKEW", "60"))
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # for ending the provider's session at logout
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/login/?innlogging=feilet"
# The local username/password form: "on" (beside the provider's button) or "admins" (only
# administrators' break-glass accounts may use it). Always on while OIDC_ISSUER is unset.
LOCAL_LOGIN = os.environ.get("LOCAL_LOGIN", "on").strip().lower()
# Administrators who sign in with a local password must also give a TOTP code (django-otp).
ADMIN_REQUIRE_2FA = env_bool("ADMIN_REQUIRE_2FA", False)
# Days an invitation link stays valid; days without a sign-in before a user is flagged.
INVITATION_DAYS = int(os.environ.get("INVITATION_DAYS", "14"))
USER_INACTIVE_DAYS = int(os.environ.get("USER_INACTIVE_DAYS", "90"))
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(60 * 60 * 24)))

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian Bokmål"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Development serves static files from the app folders (WhiteNoise + finders);
# production collects them into STATIC_ROOT (config/settings_production.py).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private"))
# Uploaded CSV files are read in memory; keep them bounded.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_BYTES = 20 * 1024 * 1024
# A readiness report for a large municipality posts three fields per organisation and item
# (Bergen: ~450 answers for one solution, ~1 400 fields); Django's default of 1 000 is too low.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000

# Strict Content-Security-Policy: everything is served from our own origin.
_oidc_origin = "{0.scheme}://{0.netloc}".format(urlsplit(OIDC_ISSUER))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        # Logging out of the identity provider is a form post redirected to its origin.
        "form-action": [SELF, *([_oidc_origin] if OIDC_ISSUER else [])],
    }
}

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header ("Token") makes an anonymous call a 401.
    # The browser's calls are still authenticated by the session, with CSRF checks.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "actors.api.parsers.JSONParser",
        "actors.api.parsers.FormParser",
        "actors.api.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "actors.api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "actors.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Innføring av nasjonale e-helseløsninger – API",
    "DESCRIPTION": (
        "Organisations, reference structure and rollout of national e-health solutions. "
        "Every list is limited to what the authenticated user may see."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "actors.api.schema.error_answers",
    ],
}

# Celery: a real broker when REDIS_URL is set, otherwise tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# Faults (README, "Faults and recovery"): every task is safe to run twice, so a message is
# acknowledged only when its task has finished, and goes back to the queue if the worker
# dies; a worker takes one message at a time. A message that no worker has acknowledged
# within the visibility timeout is delivered again: ten minutes, longer than any countdown
# or retry delay (at most five minutes), shorter than an hour of figures left stale.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
# The worker keeps trying to reach the broker for as long as it is away (and at start),
# and a task that is running when the connection drops runs to its end.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Jobs (benefits/jobs.py): a running job writes a heartbeat this often; one silent for
# longer than the second value has lost its worker (stalled); a sent job that no worker
# has started after the third value is presumed lost by the broker and sent again.
JOB_HEARTBEAT_SECONDS = int(os.environ.get("JOB_HEARTBEAT_SECONDS", "10"))
JOB_STALLED_AFTER_SECONDS = int(os.environ.get("JOB_STALLED_AFTER_SECONDS", "90"))
JOB_LOST_AFTER_SECONDS = int(os.environ.get("JOB_LOST_AFTER_SECONDS", "600"))
# The static schedule (`make beat`): today's coverage snapshots every night.
CELERY_BEAT_SCHEDULE = {
    "coverage-nightly": {
        "task": "benefits.tasks.nightly_coverage",
        "schedule": crontab(hour=2, minute=15),
    },
    "jobs-sweep": {
        "task": "benefits.tasks.sweep_jobs",
        "schedule": crontab(minute="*/2"),
    },
    # After the nightly coverage (02:15): history against current statuses, snapshots
    # against a live count (rollout/integrity.py).
    "integrity-check-nightly": {
        "task": "rollout.tasks.check_integrity",
        "schedule": crontab(hour=3, minute=30),
    },
    "report-files-purge": {
        "task": "benefits.tasks.purge_report_files",
        "schedule": crontab(minute=40),
    },
    "reminders": {
        "task": "benefits.tasks.send_reminders",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon-fri"),
    },
}
# Days between two reminders of the same kind to the same user (benefits.governance).
REMINDER_INTERVAL_DAYS = int(os.environ.get("REMINDER_INTERVAL_DAYS", "7"))
# A readiness report is due this many days before an area's planned start; a draft or
# returned report is stale after this many days without a change.
REMINDER_READINESS_LEAD_DAYS = int(os.environ.get("REMINDER_READINESS_LEAD_DAYS", "90"))
REMINDER_STALE_DAYS = int(os.environ.get("REMINDER_STALE_DAYS", "14"))
# Hours a generated status report file is kept for its owner to download.
REPORT_FILE_HOURS = int(os.environ.get("REPORT_FILE_HOURS", "24"))
# Seconds a recomputation waits after a status change, so a burst of changes makes one.
# Keep it well below the broker's visibility timeout.
COVERAGE_RECOMPUTE_DELAY = int(os.environ.get("COVERAGE_RECOMPUTE_DELAY", "60"))
# The most snapshot days one back-fill job may compute (days for `every: day`, Sundays for
# week, month ends for month); the default is five years of daily points.
COVERAGE_BACKFILL_MAX_DAYS = int(os.environ.get("COVERAGE_BACKFILL_MAX_DAYS", "1827"))

# Notifications, invitations and password resets. Unset: printed to the console (make run).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "innforing@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
