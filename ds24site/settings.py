"""The one settings module. Everything that varies between machines comes from the environment
(or a local `.env` file) through django-environ; `.env.example` documents every variable and a
test fails when this module reads a name that file lacks.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


class Env(environ.Env):
    """django-environ, except that a variable set to the empty string counts as unset, so a
    copy of .env.example with blank values means "the defaults", not "empty values"."""

    def get_value(self, var, *args, **kwargs):
        if self.ENVIRON.get(var) != "":
            return super().get_value(var, *args, **kwargs)
        blank = self.ENVIRON.pop(var)
        try:
            return super().get_value(var, *args, **kwargs)
        finally:
            self.ENVIRON[var] = blank


env = Env()
# The test suite turns this off so a developer's local .env cannot change what tests see.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True):
    env.read_env(BASE_DIR / ".env")

# --- Core -------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
# No default: a production server must never run on a key that is in the repository.
SECRET_KEY = env("SECRET_KEY")

SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
SITE_IS_HTTPS = _site.scheme == "https"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[_site.hostname] if _site.hostname else [])
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"] if _site.netloc else []

# Peers whose X-Forwarded-For / X-Forwarded-Proto headers are believed (IPs or CIDR networks).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

INSTALLED_APPS = [
    # django.contrib.admin, with the dashboard as its index (admin.site is its site).
    "dashboard.apps.DashboardAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "ds24site",
    "connections",
    "webhooks",
    "forwarding",
    "apicall",
    "api",
    "dashboard",
]

MIDDLEWARE = [
    # Answers /healthz before host validation, so load balancers may probe by IP address.
    "ds24site.middleware.HealthCheckMiddleware",
    # Must run before SecurityMiddleware so its HTTPS redirect sees the client's real scheme.
    "ds24site.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "ds24site.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ds24site.urls"
WSGI_APPLICATION = "ds24site.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

# Seconds a connection waits for a lock (SQLite) before the request gives up with a 503.
DB_BUSY_TIMEOUT = env.float("DB_BUSY_TIMEOUT", default=5.0)
# SQLite: /healthz and `check` fail when the database's disk has less free space than this (MB).
DB_MIN_FREE_MB = env.int("DB_MIN_FREE_MB", default=64)

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
}
_db = DATABASES["default"]
_db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
_db["CONN_HEALTH_CHECKS"] = True
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Django's, with the database's files private to this user and a process's writers queued
    # in line (ds24site/sqlite/base.py).
    _db["ENGINE"] = "ds24site.sqlite"
    _db.setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers run while the receiver writes; synchronous=FULL (SQLite's
            # default, stated because `OK` promises it) syncs the WAL on every commit, so a
            # committed event survives a power cut. IMMEDIATE takes the write lock at BEGIN,
            # where the busy timeout applies, instead of failing on a lock upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
            "PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": DB_BUSY_TIMEOUT,
        }
    )
    # A file, not shared-cache memory, so that threaded tests see real SQLite locking.
    _db["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Secrets at rest --------------------------------------------------------------------------

# Comma-separated Fernet keys, newest first: new values are encrypted with the first, and every
# key decrypts, which is how keys are rotated.
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])

# --- Serving ----------------------------------------------------------------------------------

# Seconds a client may take to send a request's head (from its first byte) and then its body;
# a later one is dropped, so slow clients cannot hold the server's threads
# (ds24site.server.DeadlineWorker, which reads these).
REQUEST_HEADER_TIMEOUT = env.float("REQUEST_HEADER_TIMEOUT", default=10.0)
REQUEST_BODY_TIMEOUT = env.float("REQUEST_BODY_TIMEOUT", default=10.0)

# --- IPN receiver -----------------------------------------------------------------------------

IPN_MAX_BODY_BYTES = env.int("IPN_MAX_BODY_BYTES", default=256 * 1024)
# Rejected deliveries kept per webhook; when full, the senders (IPv4 address or IPv6 /64) with
# the most rows give up their oldest first (webhooks/rejected_log.py).
REJECTED_KEEP = env.int("REJECTED_KEEP", default=1000)
# Days events and rejected deliveries are kept by `pruneevents`; unset keeps them forever.
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=None)
# Register webhooks whose receive URL is http:// or local (Register in Digistore24). Only for
# the stand-in (`make demo`, the tests): Digistore24 itself refuses such URLs.
DS24_IPN_ALLOW_LOCAL_URLS = env.bool("DS24_IPN_ALLOW_LOCAL_URLS", default=False)

# --- Background work and forwarding ---------------------------------------------------------

# django-tasks with its database backend: enqueuing writes a row in the same transaction as the
# event (an outbox), and `manage.py runworker` processes run the tasks (README: Workers).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Admit http:// destination URLs and loopback addresses (tests, the demo). Private, link-local
# and metadata addresses stay refused.
DESTINATIONS_ALLOW_LOCAL = env.bool("DESTINATIONS_ALLOW_LOCAL", default=False)
# Seconds to connect to a destination, and to wait for each read of its answer.
DESTINATIONS_TIMEOUT = env.float("DESTINATIONS_TIMEOUT", default=10.0)
# How much a task worker (runworker) lowers its CPU priority (nice(2): 0 keeps it, 19 is the
# lowest): the receiver's answers come first under load, the workers' follow-up after.
WORKER_NICENESS = env.int("WORKER_NICENESS", default=10)
# Seconds a task worker waits before it looks again for new events to follow up (roll-ups,
# forwarding, ipn_received: webhooks/follow_up.py) once it has found none.
FOLLOW_UP_INTERVAL = env.float("FOLLOW_UP_INTERVAL", default=0.2)
# While IPNs arrive faster than this many a second, workers put none in the log, for at most
# FOLLOW_UP_MAX_DEFER seconds: a burst is answered first (webhooks/follow_up.py).
FOLLOW_UP_DEFER_RATE = env.float("FOLLOW_UP_DEFER_RATE", default=100.0)
FOLLOW_UP_MAX_DEFER = env.float("FOLLOW_UP_MAX_DEFER", default=60.0)
# Seconds between sweeps that re-queue deliveries whose worker died mid-attempt.
DESTINATIONS_SWEEP_INTERVAL = env.float("DESTINATIONS_SWEEP_INTERVAL", default=60.0)

# --- Email ------------------------------------------------------------------------------------

# How mail goes out (admins are told when a destination is disabled), as a URL, e.g.
# smtp+tls://user:password@smtp.example.com:587; the default prints mail to the console.
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ds24site <webmaster@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who is told about problems (besides active superusers with an email address).
ADMINS = [("", address) for address in env.list("ADMINS", default=[])]
EMAIL_SUBJECT_PREFIX = "[ds24site] "

# --- Digistore24 API -------------------------------------------------------------------------

DS24_API_URL = env("DS24_API_URL", default="https://www.digistore24.com/api/call/")
if not DS24_API_URL.endswith("/"):
    DS24_API_URL += "/"
DS24_API_CONNECT_TIMEOUT = env.float("DS24_API_CONNECT_TIMEOUT", default=5.0)
DS24_API_READ_TIMEOUT = env.float("DS24_API_READ_TIMEOUT", default=30.0)
# Extra attempts for read functions (writes are never repeated), and the backoff base in seconds.
DS24_API_RETRIES = env.int("DS24_API_RETRIES", default=3)
DS24_API_BACKOFF = env.float("DS24_API_BACKOFF", default=0.5)
# Seconds all calls together may take while a person waits (saving or verifying a connection,
# the API console); such calls are never retried. Well under gunicorn's 30 s worker timeout.
DS24_API_INTERACTIVE_BUDGET = env.float("DS24_API_INTERACTIVE_BUDGET", default=8.0)
# Largest answer read from Digistore24, in bytes; a larger one is cut off there.
DS24_API_MAX_RESPONSE_BYTES = env.int("DS24_API_MAX_RESPONSE_BYTES", default=10 * 1024 * 1024)
# The API-call console: the largest request body it sends and the largest answer it reads
# (and stores in the history), in bytes; and how many days `pruneapicalls` keeps the history
# (unset keeps it forever).
APICALL_MAX_REQUEST_BYTES = env.int("APICALL_MAX_REQUEST_BYTES", default=64 * 1024)
APICALL_MAX_RESPONSE_BYTES = env.int("APICALL_MAX_RESPONSE_BYTES", default=1024 * 1024)
APICALL_RETENTION_DAYS = env.int("APICALL_RETENTION_DAYS", default=None)

# --- REST API ---------------------------------------------------------------------------------

# Requests per token (per user for staff sessions), e.g. "600/min", "20/second".
API_THROTTLE_RATE = env("API_THROTTLE_RATE", default="600/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttle by REMOTE_ADDR, which TrustedProxyMiddleware has already corrected; DRF would
    # otherwise believe any client's X-Forwarded-For.
    "NUM_PROXIES": 0,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ds24site API",
    "DESCRIPTION": "Query and follow the Digistore24 events this server received, and manage "
    "where they are forwarded.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from here: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    # Several models have a `status`: each set of choices gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "DestinationStatusEnum": "forwarding.models.Destination.Status",
        "DeliveryStatusEnum": "forwarding.models.Delivery.Status",
    },
}

# Throttle counts live here, and every worker process must see the same ones, or each counts
# alone and the limit multiplies: hence a table in the database by default (on SQLite and
# PostgreSQL alike; `migrate` creates it: api/apps.py). Redis is faster where there is
# one: CACHE_URL=redis://host:6379/1 (needs the redis package).
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://ds24site_cache")}

# --- Auth, i18n, static -----------------------------------------------------------------------

# django-axes first: a locked-out login is refused before ModelBackend hashes the password
# (ds24site/login_throttle.py has the rules).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins within LOGIN_LOCKOUT_MINUTES that lock out: one username from one address, and
# one address whatever the usernames.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=20)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # per address: LoginThrottleHandler
AXES_HANDLER = "ds24site.login_throttle.LoginThrottleHandler"
AXES_CLIENT_IP_CALLABLE = "ds24site.login_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "ds24site.login_throttle.lockout_response"
# Attempts while locked out are refused without a write, so a flood costs a read per request
# and cannot keep extending the lockout of a user it shares an address with.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful login forgets that username's failures from that address (typos before it).
AXES_RESET_ON_SUCCESS = True
# No start-up line in the output of every manage.py command.
AXES_VERBOSE = False
# Its log lines name the address (for fail2ban and the like), not the username tried, which
# may be a password typed into the wrong field.
AXES_SENSITIVE_PARAMETERS = ["username"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The admin shows times in this zone (one for the site: users have no zone of their own).
TIME_ZONE = env("TIME_ZONE", default="UTC")
FORMAT_MODULE_PATH = ["ds24site.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- Security ---------------------------------------------------------------------------------

SESSION_COOKIE_SECURE = SITE_IS_HTTPS
CSRF_COOKIE_SECURE = SITE_IS_HTTPS
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SITE_IS_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if SITE_IS_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SITE_IS_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SITE_IS_HTTPS)
SECURE_REFERRER_POLICY = "same-origin"
# Messages wait in the (database-backed) session, not in a cookie: they can name a receive URL,
# and Django's cookie storage signs messages but does not encrypt them.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
X_FRAME_OPTIONS = "DENY"
# Sent with every page (ds24site.middleware.ContentSecurityPolicyMiddleware).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        # Receive URLs carry their webhook's credential (ds24site/redaction.py).
        "redact_receive_tokens": {"()": "ds24site.redaction.RedactReceiveTokens"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_receive_tokens"],
        },
        # Django's own, redefined so that the error mails to ADMINS are redacted too.
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_receive_tokens"],
            "reporter_class": "ds24site.redaction.RedactingExceptionReporter",
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # These replace Django's default handlers for its loggers, which print and mail paths
    # unredacted: "django" mails errors as before and prints through the console above;
    # runserver's request lines ("django.server") are printed there too.
    "loggers": {
        # django-axes says at INFO what it does for every failed login; its warnings say enough.
        "axes": {"level": "WARNING"},
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
