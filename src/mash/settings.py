"""Settings for Mash, read from the environment (see README.md, Configuration).

MASH_ENV=production demands a SECRET_KEY and ALLOWED_HOSTS and turns on every
transport-security setting; development (the default) keeps data in var/ and
generates a secret key there once.
"""

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

MASH_ENV = env.str("MASH_ENV", default="development")
if MASH_ENV not in {"production", "development"}:
    raise environ.ImproperlyConfigured("MASH_ENV must be 'production' or 'development'")
PRODUCTION = MASH_ENV == "production"

VAR_DIR = Path(env.str("MASH_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret_key() -> str:
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = (
    env.str("SECRET_KEY")
    if PRODUCTION
    else env.str("SECRET_KEY", default="") or (_development_secret_key())
)
DEBUG = env.bool("MASH_DEBUG", default=False)
ALLOWED_HOSTS = (
    env.list("ALLOWED_HOSTS")
    if PRODUCTION
    else env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "rules",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN: see the CSP)
    "mash.core",
    "mash.accounts",
    "mash.people",
    "mash.contacts",
    "mash.enquiries",
    "mash.api",
    "mash.reporting",
]

MIDDLEWARE = [
    # Outermost: any error under /api/ (a bad Host, an unknown path, a crash) answers JSON.
    "mash.api.middleware.ApiErrorsAsJsonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "mash.core.middleware.RequestContextMiddleware",
    "mash.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mash.urls"
WSGI_APPLICATION = "mash.wsgi.application"

_APP_TEMPLATE_DIRS = [
    BASE_DIR / "src" / "mash" / app / "templates"
    for app in ("core", "accounts", "people", "contacts", "enquiries", "api", "reporting")
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": _APP_TEMPLATE_DIRS,
        "APP_DIRS": False,
        "OPTIONS": {"environment": "mash.core.jinja2.environment"},
    },
    {
        # Django's admin keeps its own templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Databases: SQLite in var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mash.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock when a transaction starts, so two
        # writers queue instead of failing half-way with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    # Tests use a file too (one per process), not Django's shared-cache memory
    # database: there, a second writer fails at once with "database table is
    # locked" instead of queueing as it does in production.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"mash-test-{os.getpid()}.sqlite3")
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("MASH_DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Who uses it.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:signed_out"
PASSWORD_RESET_TIMEOUT = env.int("MASH_PASSWORD_RESET_TIMEOUT_SECONDS", default=2 * 60 * 60)

# Sessions end after MASH_SESSION_IDLE_MINUTES without a request, and when the
# browser closes.
MASH_SESSION_IDLE_MINUTES = env.int("MASH_SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = MASH_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "mash_session"
CSRF_COOKIE_NAME = "mash_csrftoken"

# Lockout: 5 failed sign-ins for one email address within 15 minutes.
AXES_FAILURE_LIMIT = env.int("MASH_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("MASH_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "mash.accounts.lockout.username_from_request"
AXES_LOCKOUT_CALLABLE = "mash.accounts.lockout.locked_out"
AXES_RESET_ON_SUCCESS = True
# A lockout lasts its 15 minutes from the last counted failure; attempts while
# locked out do not extend it (otherwise anyone who knows an address could keep
# its owner locked out forever).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("MASH_TRUSTED_PROXY_COUNT", default=0) or None

# Two-factor sign-in: required for everyone in production unless turned off.
MASH_REQUIRE_2FA = env.bool("MASH_REQUIRE_2FA", default=PRODUCTION)
OTP_TOTP_ISSUER = env.str("MASH_OTP_ISSUER", default="Mash")
OTP_TOTP_THROTTLE_FACTOR = 1
MASH_RECOVERY_CODE_COUNT = 10

# Where the service is served from.
MASH_TRUSTED_PROXY_COUNT = env.int("MASH_TRUSTED_PROXY_COUNT", default=0)
if env.bool("MASH_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Transport security: on in production.
SECURE_SSL_REDIRECT = env.bool("MASH_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = env.int("MASH_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = env.bool("MASH_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS: list[str] = [
    # We lock out the account (the email address tried), not the caller's IP:
    # a hub's staff share one office address, and locking it would lock out
    # the whole hub. Rotating user agents does not help against a per-account
    # count. See docs/decisions/0003-sign-in-security.md.
    "axes.W006",
]
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way decision for the council's whole domain; it is
    # offered (MASH_HSTS_PRELOAD) but not forced.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Content-Security-Policy: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Email: console in development.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="smtp://localhost:25" if PRODUCTION else "consolemail://"
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mash@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail relay that hangs must not hold up the worker's queue: give up and retry later.
EMAIL_TIMEOUT = env.int("MASH_EMAIL_TIMEOUT", default=20)

# Time: stored in UTC, shown in Europe/London.
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# Static files: the front-end build (build/static) served by whitenoise.
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "build" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("MASH_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

MASH_SERVICE_NAME = "Mash"
MASH_DEMO_PASSWORD = env.str("MASH_DEMO_PASSWORD", default="safeguarding-demo-2026")
# Where users reach the service: invitation emails link here.
MASH_BASE_URL = (
    env.str("MASH_BASE_URL")
    if PRODUCTION
    else env.str("MASH_BASE_URL", default="http://127.0.0.1:8000")
).rstrip("/")
# The Django admin never shows authenticator secrets or recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
CSRF_FAILURE_VIEW = "mash.core.views.csrf_failure"

# Background work: django-tasks with its database backend (no broker needed).
# `mash worker` runs the queue and the deadline sweep (see docs/operations.md).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
MASH_SWEEP_SECONDS = env.int("MASH_SWEEP_SECONDS", default=60)
# Where background exports (census, Annex A, extracts) keep their finished files.
# The performance dashboard's queries run on this many database connections at once
# (PostgreSQL; 1: one after another on the request's own).
MASH_REPORT_CONNECTIONS = env.int("MASH_REPORT_CONNECTIONS", default=2)
MASH_EXPORT_DIR = Path(env.str("MASH_EXPORT_DIR", default=str(VAR_DIR / "exports")))

# The REST API for agencies' systems (docs/decisions/0011-api.md): token only, JSON only.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["mash.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["mash.api.parsers.JsonParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mash.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNICODE_JSON": True,
    "STRICT_JSON": True,
}
# The largest request body the API reads; a larger one is refused with 413.
MASH_API_MAX_BODY_BYTES = env.int("MASH_API_MAX_BODY_BYTES", default=256 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Mash API",
    "VERSION": "1",
    # The long description (authentication, errors, replays) is added by mash.api.schema.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mash.api.schema.describe",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs describe the API, not anyone's data: anyone may read them.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "persistAuthorization": False,
        "displayRequestDuration": True,
        "defaultModelsExpandDepth": 0,
    },
}
