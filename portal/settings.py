"""Settings for the cooperation portal, read from the environment.

Every knob is an environment variable so one image serves the demo, CI and production;
README.md lists them all.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "django.forms",  # Django's widget templates, for FORM_RENDERER below
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_countries",
    "guardian",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "csp",
    "portal",
    "agreements",
    "resources",
    "projects",
    "intel",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.RequestScopeMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "portal.middleware.ResponseHeadersMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

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
                "csp.context_processors.nonce",
                "portal.context_processors.membership",
                "portal.context_processors.page_holes",
            ],
        },
    },
]

#: Widgets render with the project's templates, so a widget can have its own (the
#: organisation picker's in templates/components/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -------------------------------------------------------------------------------
# SQLite under var/ is the embedded default; production and CI set DATABASE_URL to PostgreSQL.
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # BEGIN IMMEDIATE takes the write lock up front, so the audit chain's
    # read-last-hash-then-append cannot interleave between two writers.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Files ----------------------------------------------------------------------------------
# Uploaded partner files live in a private root that no URL maps to; only permission-checked
# views stream them. Swap the "private" backend for an S3-compatible one in production.
PRIVATE_STORAGE_ROOT = Path(os.environ.get("PRIVATE_STORAGE_ROOT", VAR_DIR / "private"))
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_STORAGE_ROOT, "base_url": None},
    },
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_STORAGE_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
WHITENOISE_USE_FINDERS = DEBUG

#: Uploads above this size are refused (bytes; default 100 MB).
RESOURCE_MAX_UPLOAD_BYTES = int(os.environ.get("RESOURCE_MAX_UPLOAD_BYTES", str(100_000_000)))
#: Detected content types refused for every kind of resource but "tool".
RESOURCE_DENIED_TYPES = env_list(
    "RESOURCE_DENIED_TYPES",
    "application/x-msdownload,application/x-executable,application/x-mach-binary,"
    "text/x-shellscript,application/x-sharedlib,application/java-archive,"
    "application/vnd.microsoft.portable-executable,application/x-msi",
)
#: Organisations whose reviewers may review any project (independent reviewers' panels).
PROJECT_REVIEWER_ORGANISATIONS = env_list("PROJECT_REVIEWER_ORGANISATIONS", "int-irp")
# Large uploads stream to a temporary file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5_000_000

# --- Accounts, sign-in and sessions ----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "portal.auth_backends.PortalModelBackend",
    "portal.auth_backends.PortalAuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "portal.adapters.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_FORMS = {"reauthenticate": "portal.forms.ReauthenticateForm"}
# Passkeys (WebAuthn) and authenticator apps, each with recovery codes as the fallback.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_FORMS = {"authenticate": "portal.forms.TwoFactorStepForm"}
MFA_PASSKEY_LOGIN_ENABLED = False
# allauth guards against someone signing up with another person's address and locking them
# out with 2FA. There is no sign-up here: an org admin sets each address when inviting.
MFA_ALLOW_UNVERIFIED_EMAIL = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG  # WebAuthn needs https, except on the dev server
# A used code is remembered for one period, so no tolerance window may outlive that memory.
MFA_TOTP_PERIOD = 30
MFA_TOTP_TOLERANCE = 0
#: Roles whose actions need the person to have enrolled in two-factor authentication (staff
#: need it too). Until then they can use the portal, but not act in those roles.
MFA_REQUIRED_ROLES = ["signatory", "org_admin"]
# Sessions are recorded at sign-in (so "sign out everywhere" and deactivation reach them all);
# tracking activity would add a transaction and an UPDATE to every request. The idle timeout
# keeps its own "last seen" in the session (portal.middleware).
USERSESSIONS_TRACK_ACTIVITY = False

#: Failed password checks allowed per (attempts, seconds): per account from one address, and
#: per address. Reaching a limit locks for the same number of seconds. See portal/throttle.py.
THROTTLE_PER_ACCOUNT = (
    int(os.environ.get("THROTTLE_ACCOUNT_ATTEMPTS", "5")),
    int(os.environ.get("THROTTLE_ACCOUNT_SECONDS", str(15 * 60))),
)
THROTTLE_PER_ADDRESS = (
    int(os.environ.get("THROTTLE_ADDRESS_ATTEMPTS", "50")),
    int(os.environ.get("THROTTLE_ADDRESS_SECONDS", str(15 * 60))),
)

# --- Caches ---------------------------------------------------------------------------------
# With REDIS_URL (production, CI and the benchmark), Redis holds both caches through Django's
# RedisCache. Without it, the embedded default: the database for what every worker process
# must share (throttling counters, used TOTP codes, allauth's rate limits) and local memory
# for the page fragments that are the same for everyone (portal.fragments).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
        },
    }
    CACHES["fragments"] = {**CACHES["default"], "TIMEOUT": 600}
    # The session is read on every request: from Redis, with the database behind it.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        },
        "fragments": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "portal-fragments",
            "TIMEOUT": 600,
        },
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
#: Lists' rendered results kept per person and query until a table they were read from is
#: written (portal.list_cache). Only where the cache is shared by every worker (Redis): in
#: the embedded default each process has its own memory, which another worker's write
#: could not invalidate.
LIST_CACHE = os.environ.get("LIST_CACHE", "1" if REDIS_URL else "0") == "1"
LIST_CACHE_SECONDS = int(os.environ.get("LIST_CACHE_SECONDS", "300"))
#: A session ends after this many seconds without a request (default 30 minutes) ...
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
#: ... and this many seconds after sign-in, however active (default 12 hours).
SESSION_ABSOLUTE_TIMEOUT = int(os.environ.get("SESSION_ABSOLUTE_TIMEOUT", str(12 * 3600)))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# guardian: no anonymous user row; partner groups get object grants only.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

#: Browser features no page of the portal uses, switched off for every page.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Cooperation Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so an unauthenticated call gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PortalPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "portal.api.filtering.FilterOnceBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cooperation Portal API",
    "DESCRIPTION": (
        "Agreements, joint projects, shared resources and threat intelligence between partner "
        "organisations. Every list and object is filtered by your organisation's grants: an "
        "object you may not see answers 404, like one that does not exist, and an action you "
        "may not take on an object you see answers 403 saying why. A state change that is not "
        "allowed now answers 409 with the reason. Errors are JSON with a `message`.\n\n"
        "**Your API token.** Create it in the portal on your profile page, in its *API token* "
        "section (*Create token*; *Rotate token* replaces it, and the old one stops working at "
        "once), or with `POST /api/v1/auth/token/` and your username, password and, once you "
        "have set up an authenticator app, its code. Send it as `Authorization: Token <key>`: "
        "it acts as you, with your organisation's grants. On this page, choose *Authorize* "
        "and enter `Token <key>`; in a browser signed in to the portal, your session works "
        "too."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation under its area (account, organisations, agreements, ...), with the
    # areas' descriptions: decided by path in one place.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.docs.tag_by_area",
    ],
    # The same words (kind, TLP, category) name different choice sets across the apps.
    "ENUM_NAME_OVERRIDES": {
        "TLPEnum": "portal.vocabulary.TLP",
        "DataCategoryEnum": "portal.vocabulary.DataCategory",
        "PermittedActionsEnum": "portal.vocabulary.PermittedActions",
        "OrganisationKindEnum": "portal.models.OrganisationKind",
        "AgreementKindEnum": "agreements.models.AgreementKind",
        "AgreementStatusEnum": "agreements.models.AgreementStatus",
        "ResourceKindEnum": "resources.models.ResourceKind",
        "ShareStatusEnum": "resources.models.ShareStatus",  # shares of resources and intel
        "ProjectKindEnum": "projects.models.ProjectKind",
        "ProjectStatusEnum": "projects.models.ProjectStatus",
        "ItemStatusEnum": "projects.models.ItemStatus",
    },
}

# --- Localisation and logging ----------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # fpdf2's font subsetting logs every table it prunes at INFO.
    "loggers": {"fontTools": {"level": "WARNING"}},
}

PORTAL_NAME = "Cooperation Portal"
#: The portal's public address, for links in emails sent outside a request.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The Ed25519 key that signs evidence bundles, which partners verify against the published
# public key. Give it as PEM text or as a file; every app server must share it, so generating
# one on first use is only for development (DEBUG) and tests. See portal/signing.py.
PORTAL_SIGNING_KEY = os.environ.get("PORTAL_SIGNING_KEY", "")
PORTAL_SIGNING_KEY_FILE = Path(
    os.environ.get("PORTAL_SIGNING_KEY_FILE", VAR_DIR / "portal-signing-key.pem")
)
PORTAL_SIGNING_KEY_AUTOGENERATE = env_bool("PORTAL_SIGNING_KEY_AUTOGENERATE", False)

# Threat intelligence (intel/): the largest STIX input read at once, by size and by count. TAXII
# announces the size as the API root's max_content_length and answers 413 above it.
INTEL_MAX_BUNDLE_BYTES = int(os.environ.get("INTEL_MAX_BUNDLE_BYTES", str(10 * 1024 * 1024)))
INTEL_MAX_BUNDLE_OBJECTS = int(os.environ.get("INTEL_MAX_BUNDLE_OBJECTS", "5000"))
