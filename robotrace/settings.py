"""The one settings module. Every knob comes from the environment through `robotrace.env`.

Embedded default (no variables set): SQLite in WAL mode under `var/`, Huey on its own SQLite
file, uploads on local disk, e-mail written to files. Production: `DATABASE_URL`,
`REDIS_URL`, `SECRET_KEY`, `AUDIT_CHAIN_KEY`, `DEBUG=0`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from robotrace.env import EnvError, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ROBOTRACE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

TESTING = env_bool("ROBOTRACE_TESTING", "pytest" in sys.modules)
DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise EnvError("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "robotrace-insecure-development-key-change-me-in-production"
# Keys that seal webhook signing secrets at rest (robotrace/core/crypto.py): comma-separated,
# 32 bytes each in URL-safe base64 (`robotrace reseal-secrets --new-key` prints one); the
# first seals, all open. Empty: derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_str("ROBOTRACE_FIELD_KEYS", "")
# Keys of the audit chain's HMAC (robotrace/audit/chain.py), kept out of the database so that
# whoever can write it cannot rewrite the trail: comma-separated, 32+ bytes each in URL-safe
# base64; the first signs, all verify. Empty (development and tests only): derived from
# SECRET_KEY, and the events' key id says "dev-".
AUDIT_CHAIN_KEY = env_str("AUDIT_CHAIN_KEY", "")
if not AUDIT_CHAIN_KEY and not DEBUG:
    raise EnvError("AUDIT_CHAIN_KEY is required when DEBUG is off: 32 random bytes in URL-safe base64, e.g. "
                   "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`; keep it outside the database")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "csp",
    "ninja",  # serves the API docs' Swagger UI from our static files (no CDN, no inline script)
    "huey.contrib.djhuey",
    "robotrace.core",
    "robotrace.audit",
    "robotrace.accounts",
    "robotrace.outbox",
    "robotrace.providers",
    "robotrace.ingest",
    "robotrace.campaigns",
    "robotrace.tracebacks",
    "robotrace.shaken",
    "robotrace.scorecards",
    "robotrace.legal",
    "robotrace.alerts",
    "robotrace.simulator",
    "robotrace.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "robotrace.core.middleware.CSPMiddleware",  # django-csp's, the policy text built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "robotrace.core.middleware.SecurityHeadersMiddleware",
    "robotrace.core.middleware.BodyLimitMiddleware",
    # Sees every answer below it, so each refusal (401/403/404) is audited in one place.
    "robotrace.audit.middleware.DenialAuditMiddleware",
    "robotrace.accounts.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "robotrace.accounts.middleware.MfaRequiredMiddleware",
    "robotrace.core.middleware.ScopeErrorMiddleware",
]

ROOT_URLCONF = "robotrace.urls"
WSGI_APPLICATION = "robotrace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "robotrace" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "robotrace.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise EnvError(f"DATABASE_URL scheme is not supported: {DATABASE_URL.split(':', 1)[0]!r}")
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME", "test_robotrace")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "robotrace.sqlite3")),
            # Reusing a connection keeps SQLite's page cache warm between ingest batches.
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on
                # busy_timeout instead of failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=30000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background work (Huey) ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", TESTING)
if REDIS_URL:
    # Debian 12's Redis 7.0 lacks the lock TTL RedisHuey wants; the Expire variant works.
    HUEY = {
        "huey_class": "huey.RedisExpireHuey",
        "name": "robotrace",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2, minimum=1), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "robotrace",
        "filename": env_str("HUEY_SQLITE_PATH", str(VAR_DIR / "huey.sqlite3")),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2, minimum=1), "worker_type": "thread"},
    }

# --- Cache (also where used TOTP codes are remembered, so it must be shared by processes) ----
if TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}}

# --- Files ----------------------------------------------------------------------------------
# Uploads live outside the web root and are only ever served through views that check access.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "files")))
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "robotrace" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Signed checkpoints of the audit chain's head (audit.anchors): keep them where the database's
# writers cannot write. AUDIT_TSA_URL: an RFC 3161 timestamp authority that dates each one.
AUDIT_ANCHOR_DIR = Path(env_str("AUDIT_ANCHOR_DIR", str(VAR_DIR / "audit-anchors")))
AUDIT_TSA_URL = env_str("AUDIT_TSA_URL", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "audit_anchors": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(AUDIT_ANCHOR_DIR), "file_permissions_mode": 0o440},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
# Request bodies, checked from Content-Length before anything reads them
# (core.middleware.BodyLimitMiddleware): anonymous requests send login forms, signed-in ones
# documents and recordings (the largest, 50 MB); call-report intake streams and keeps its own cap.
REQUEST_MAX_BYTES_ANONYMOUS = env_int("REQUEST_MAX_BYTES_ANONYMOUS", 1024 * 1024, minimum=16 * 1024)
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 64 * 1024 * 1024, minimum=1024 * 1024)
# A clamd daemon that scans uploaded documents (core.antivirus): "host:port" or a unix socket
# path; empty, no scan. Once set, an upload it cannot scan is refused.
CLAMAV_ADDRESS = env_str("CLAMAV_ADDRESS", "")
CLAMAV_TIMEOUT_SECONDS = env_int("CLAMAV_TIMEOUT_SECONDS", 30, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- E-mail (links only, never payloads) ------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.locmem.EmailBackend"
    if TESTING
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Robotrace <no-reply@robotrace.local>")

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# allauth's backend authenticates the login form; accounts.adapters refuses locked, pending
# and rejected accounts there with a message that says why. PolicyModelBackend applies the
# same policy to every other authenticate() call.
AUTHENTICATION_BACKENDS = [
    "robotrace.accounts.backends.PolicyModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 15, minimum=12)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "robotrace.accounts.passwords.ContextWordValidator"},
    {"NAME": "robotrace.accounts.passwords.MaximumLengthValidator"},
]
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests only: hashing is not under test
    if TESTING
    else [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "robotrace.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("REAUTHENTICATION_TIMEOUT", 300, minimum=30)
# Our own lockout (accounts.lockout) is the policy; allauth's soft rate limit stays as a
# second line against credential stuffing from one address.
# Per address, and per account (the key allauth uses for a person's password and second-factor
# attempts): an address-only limit let one address try codes against one account at 20 a minute.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,5/5m/key"} if not TESTING else False
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_PERIOD = 30
MFA_TOTP_DIGITS = 6
MFA_TOTP_ISSUER = "Robotrace"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_PASSKEY_LOGIN_ENABLED = False

LOCKOUT_FAILURES = env_int("LOCKOUT_FAILURES", 5, minimum=1)
LOCKOUT_WINDOW_SECONDS = env_int("LOCKOUT_WINDOW_SECONDS", 15 * 60, minimum=60)
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=600)
# Refusals audited one by one per actor and action each minute; past that, counted and
# summarised once the minute is over (audit.denials).
AUDIT_DENIALS_PER_MINUTE = env_int("AUDIT_DENIALS_PER_MINUTE", 20, minimum=1)
AUDIT_ANONYMOUS_DENIALS_PER_MINUTE = env_int("AUDIT_ANONYMOUS_DENIALS_PER_MINUTE", 100, minimum=1)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    # The __Host- prefix pins the cookie to this host, path / and HTTPS (ASVS 3.3.x).
    SESSION_COOKIE_NAME = "__Host-robotrace-session"
    CSRF_COOKIE_NAME = "__Host-robotrace-csrf"
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles come from our own static files only.
# No inline <script>, no style="" attributes, no eval: templates name behaviours in data-
# attributes that static/js/robotrace.js carries out, and chart data travels in json_script
# elements. Browsers post violations to core.csp.report, which logs them.
# CSP_REPORT_ONLY=1 sends the same policy as Content-Security-Policy-Report-Only (reported,
# not enforced); the demo (`robotrace run`) starts that way.
_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # allauth's TOTP QR code is a data: URI
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "report-uri": "/csp-report",
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

# --- Localisation ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = False
USE_TZ = True

# --- Platform knobs ---------------------------------------------------------------------------
DEPLOYMENT = env_choice("ROBOTRACE_DEPLOYMENT", ("embedded", "production"), "embedded")
API_KEY_PREFIX = "rt"
SHARED_DATA_DIR = Path(env_str("ROBOTRACE_SHARED_DATA", str(BASE_DIR.parent / "shared" / "data")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING" if TESTING else "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "huey": {"level": "WARNING"}},
}
