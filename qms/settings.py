"""Settings, read from the environment with safe development defaults (docs/architecture.md rule 8).

The embedded default (no DATABASE_URL, no broker URL) is SQLite under var/ and kombu's
filesystem transport under var/broker, so `make run` needs no server. Tests and production
point DATABASE_URL and REDIS_URL at PostgreSQL and Redis.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("QMS_VAR_DIR", BASE_DIR / "var"))

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    # Refuse to run in production with a key that is published in the repository.
    raise ImproperlyConfigured("DEBUG is off but SECRET_KEY is the development default: set SECRET_KEY.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

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
    "simple_history",
    "axes",
    "csp",
    "qms",
    "complaints",
    "capa",
    "documents",
    "training",
    "metrics",
    "service_quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "qms.middleware.CleanTextInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qms.middleware.EndInactiveSessionsMiddleware",
    "qms.middleware.QmsLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qms.urls"
WSGI_APPLICATION = "qms.wsgi.application"
AUTH_USER_MODEL = "qms.User"

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
                "qms.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL in production and tests, SQLite under var/ as the embedded default.
# Persistent connections are health-checked at the start of each request and task, so a
# connection the server dropped (restart, failover, pg_terminate_backend) is replaced instead
# of failing the next request (tests/reliability/test_lost_connection.py).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "qms.sqlite3",
            "OPTIONS": {
                # The web server, the worker and beat share the file: wait for locks, take the
                # write lock at the start of a transaction, and let readers run beside a writer.
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "qms.auth.RoleModelBackend",  # ModelBackend; the session user comes with their role names
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never served directly: downloads go through views that check permissions
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
QMS_UPLOAD_MAX_BYTES = env_int("QMS_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
# Office files (zip archives) are read before they are accepted: no more entries and no more
# expanded bytes than these (a zip bomb is refused; qms/uploads.py).
QMS_UPLOAD_ARCHIVE_MAX_ENTRIES = env_int("QMS_UPLOAD_ARCHIVE_MAX_ENTRIES", 2000)
QMS_UPLOAD_ARCHIVE_MAX_BYTES = env_int("QMS_UPLOAD_ARCHIVE_MAX_BYTES", 100 * 1024 * 1024)
# Optional virus scanning of every upload by a ClamAV daemon: a Unix socket path or
# tcp://host:port; empty: no scanning. When set and clamd does not answer, uploads are refused.
CLAMD_SOCKET = os.environ.get("CLAMD_SOCKET", "")
CLAMD_TIMEOUT_SECONDS = env_int("CLAMD_TIMEOUT_SECONDS", 30)

# E-mail: EMAIL_URL like smtp://user:pass@host:587?tls=1; console in development.
EMAIL_URL = os.environ.get("EMAIL_URL", "")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "qms@localhost")
if EMAIL_URL:
    from urllib.parse import parse_qs, unquote, urlparse

    _email = urlparse(EMAIL_URL)
    if _email.scheme == "console":
        EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    elif _email.scheme == "locmem":
        EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    elif _email.scheme in {"smtp", "smtps"}:
        EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        EMAIL_HOST = _email.hostname or "localhost"
        EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 25)
        EMAIL_HOST_USER = unquote(_email.username or "")
        EMAIL_HOST_PASSWORD = unquote(_email.password or "")
        EMAIL_USE_SSL = _email.scheme == "smtps"
        EMAIL_USE_TLS = parse_qs(_email.query).get("tls", ["0"])[0] in {"1", "true"}
    else:
        raise ImproperlyConfigured(f"EMAIL_URL scheme {_email.scheme!r} is not supported")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Celery: Redis when REDIS_URL / CELERY_BROKER_URL is set, else kombu's filesystem transport.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL", "")
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables (fanout/broadcast); kombu's default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # The visibility timeout must outlast the longest task (acks_late re-delivers after it).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_DEFAULT_QUEUE", "qms")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The whole beat schedule lives in qms/celery.py (BEAT_SCHEDULE).

# Cache: Redis when configured (shared rate limits across workers), else local memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Django REST framework and the OpenAPI schema (docs/api.md).
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes DRF answer 401 (not 403) to anonymous
    # callers, as docs/api.md says.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "qms.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers with qms.input's limits: deep JSON, NUL and bad UTF-8 answer 400 everywhere.
    "DEFAULT_PARSER_CLASSES": [
        "qms.api.parsers.JSONParser",
        "qms.api.parsers.FormParser",
        "qms.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "qms.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "qms.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "QMS API",
    "DESCRIPTION": "REST API of the Quality Management System (see docs/api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # complaints' severity (low..critical) and CAPA's risk severity (1..5) are different sets.
    "ENUM_NAME_OVERRIDES": {
        "ComplaintSeverityEnum": "complaints.models.Severity",
        "InteractionKindEnum": "service_quality.models.InteractionKind",
        "SignoffRoleEnum": "documents.models.SIGNOFF_ROLES",
    },
    # The schema and its docs page need a login like everything else (issue 2 item 6).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# History (docs/architecture.md rule 2): no revert from the admin; history is append-only.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Log-in lockout (django-axes): failed logins, signature passwords and token requests all count.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "qms.api.errors.lockout_response"  # JSON for the API
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Security headers and cookies. HTTPS settings follow DEBUG so `check --deploy` is clean in
# production while runserver works over plain HTTP in development.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Sessions are read from the cache (Redis) and written through to the database: one query
# less on every request; a session outlives a cache flush.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CSRF_COOKIE_HTTPONLY = False  # the htmx helper reads the token from the cookie-free meta tag
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]  # container health checks speak plain HTTP inside the network
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# API tokens (issue 16 item 7): stored hashed, valid this many days from issue.
QMS_API_TOKEN_DAYS = env_int("QMS_API_TOKEN_DAYS", 90)

# Domain settings.
QMS_ORGANISATION_NAME = os.environ.get("QMS_ORGANISATION_NAME", "Acme Medical Devices Ltd")
QMS_SYSTEM_USERNAME = "system"  # background work acts as this named user, never as null
# CAPA closure (ISO 13485 8.5.2, docs/decisions/0024): by default a Quality Manager who is not
# the CAPA's owner signs its closure; a site that decides otherwise sets this to true.
QMS_CAPA_OWNER_MAY_CLOSE = env_bool("QMS_CAPA_OWNER_MAY_CLOSE", False)

# Tamper evidence outside the database (issue 15, 21 CFR 11.10(e)): every verification run of the
# hash chains appends signed anchors to a JSON-lines log in QMS_AUDIT_ANCHOR_DIR, signed with
# HMAC-SHA256 under a key the database does not hold (QMS_AUDIT_ANCHOR_KEY, or the file
# QMS_AUDIT_ANCHOR_KEY_FILE, generated on first use). Production keeps both away from the
# database administrators (docs/audit-anchors.md); `check --deploy` warns where it cannot tell.
QMS_AUDIT_ANCHOR_DIR = Path(os.environ.get("QMS_AUDIT_ANCHOR_DIR") or VAR_DIR / "audit-anchors")
QMS_AUDIT_ANCHOR_KEY_FILE = Path(os.environ.get("QMS_AUDIT_ANCHOR_KEY_FILE") or VAR_DIR / "audit-anchor.key")
QMS_AUDIT_ANCHOR_KEY = os.environ.get("QMS_AUDIT_ANCHOR_KEY", "")

# Lock-out by user name, not by IP address: a site behind one NAT address must not be locked out
# as a whole by one person's typos; axes still throttles each account after AXES_FAILURE_LIMIT.
# models.W040: SQLite (the embedded `make run` default) has no INCLUDE columns in an index; it
# keeps the index on its key columns, which is all it needs (training_open_due_cover_idx).
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]

# complaints: a new complaint is recurring when one with the same product and category was
# received within this many days.
COMPLAINT_RECURRENCE_WINDOW_DAYS = env_int("COMPLAINT_RECURRENCE_WINDOW_DAYS", 90)
# ... and the same recurrence key: a comma-separated list of product, failure_mode, category,
# lot (decision 0023). Product and failure mode by default; "product,failure_mode,lot" counts
# only repeats within one lot.
COMPLAINT_RECURRENCE_KEY = os.environ.get("COMPLAINT_RECURRENCE_KEY", "product,failure_mode")
# capa: a complaint repeating a closed CAPA's problem within this many days of its closure raises
# the CAPA's "recurrence after closure" flag.
CAPA_RECURRENCE_AFTER_CLOSURE_DAYS = env_int("CAPA_RECURRENCE_AFTER_CLOSURE_DAYS", 365)
# The dashboard's figures are computed live and then kept this many seconds (0: never kept);
# the page says when they were computed and offers to recompute them.
METRICS_DASHBOARD_CACHE_SECONDS = env_int("METRICS_DASHBOARD_CACHE_SECONDS", 60)
