"""Settings shared by every environment, read from the environment.

With nothing set, the platform runs on an embedded default that needs no server:
SQLite, a file-system Celery broker and the console email backend.
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime files of the embedded default (git-ignored)

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-only-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core.apps.CoreConfig",  # first, so that its admin templates override django.contrib.admin's
    "core.apps.TenantAdminConfig",  # replaces django.contrib.admin: the tenant-aware admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets, served by us (no CDN)
    "csp",  # Content-Security-Policy header (django-csp)
    "axes",  # log-in lockout after repeated failures (core/security.py)
    "django_prometheus",  # request metrics for /metrics/ (core/metrics.py)
    "health_check",  # /health/live/ and /health/ready/ (core/health.py)
    "django_otp",  # two-step verification for the admin (core/two_factor.py)
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes
    # Google, Kakao and Naver sign-in (django-allauth, core/sso.py). Only the providers'
    # OAuth2 views are routed (core/sso_urls.py): allauth's own password, sign-up and
    # e-mail pages are not, so the admin and portal log-ins stay the only password paths.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.kakao",
    "allauth.socialaccount.providers.naver",
    "programs",
    "mentors",
    "assessments",
    "matching",
    "notifications",
    "officehours",
    "integrations",
    "privacy",  # data-subject requests, erasure, retention (docs/privacy.md)
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # first: times the whole request (core/metrics.py)
    "core.logging.RequestIdMiddleware",  # every later log line carries the request id
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",  # Permissions-Policy; no-store on API responses
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below)
    # Refuses API bodies over API_MAX_BODY_BYTES with 413 before anything reads them.
    "core.api.middleware.ApiRequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): logged in with a second step
    "allauth.account.middleware.AccountMiddleware",  # required by django-allauth (sign-in with Google/Kakao/Naver)
    # The admin and the mentor portal speak a logged-in person's saved language; choosing one saves it.
    "core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Must come after authentication: resolves request.organization and arms the
    # unscoped-query guard for the rest of the request.
    "core.middleware.ActiveOrganizationMiddleware",
    # Turns a paused log-in (django-axes) into the lockout page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",  # last: counts responses by view and status
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.organization",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Every request runs in one transaction: a view that fails half-way saves nothing.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with psycopg's C loader for timestamps (core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "core.postgresql"
DATABASES["default"].setdefault("TEST", {})
if env("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env("TEST_DATABASE_NAME")
# DATABASE_POOLER=pgbouncer: DATABASE_URL points at PgBouncer in transaction pooling mode
# (docs/scaling.md), where each transaction may get another server connection. Nothing may
# outlive a transaction: no server-side cursors, no prepared statements (psycopg 3).
DATABASE_POOLER = env("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured(f"DATABASE_POOLER must be empty or 'pgbouncer', not {DATABASE_POOLER!r}")
if DATABASE_POOLER == "pgbouncer":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL row-level security (docs/security.md): the role the web and worker
# processes log in as (created by `manage.py setup_database_roles`); migrate runs as
# the owner of the tables.
DATABASE_APP_ROLE = env("DATABASE_APP_ROLE", default="cohort_app")
DATABASE_APP_PASSWORD = env("DATABASE_APP_PASSWORD", default="")

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Korean first: most of our users are in Korea.
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
# Content-Security-Policy (docs/security.md): scripts only from our own static files (no
# inline script, no eval, nothing from another origin, so an injected script tag or
# on*= attribute does not run); styles from our files and inline (the admin and our
# pages use style attributes); images from us and data: URIs (Swagger UI's icons);
# no plugins, no framing, forms post only to us. CSP_REPORT_URI (optional) names a
# collector for violation reports, for example Sentry's security endpoint.
_csp_report_uri = env("CSP_REPORT_URI", default="")  # not CSP_*: django-csp 4 refuses its old setting names
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        **({"report-uri": [_csp_report_uri]} if _csp_report_uri else {}),
    },
}

LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Email: console by default; SMTP when EMAIL_URL (e.g. smtp://user:pass@host:587) is set.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@example.com")

# Celery: Redis when REDIS_URL / CELERY_BROKER_URL is set, else kombu's file-system
# transport, which needs no server (the embedded default of `make run`).
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery" / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),  # not ./control in the working directory
    }
else:
    # Redis redelivers unacknowledged tasks after this many seconds; task retry
    # back-offs are kept below it (see docs/operations.md).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"  # beat runs in UTC; local send times are computed in code
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}

REST_FRAMEWORK = {
    # API keys first: their 401 carries `WWW-Authenticate: Bearer` (DRF takes the header
    # from the first class; without one, unauthenticated requests would answer 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.filters.TenantFilterBackend",
        "core.api.filters.SafeOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.TenantCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["integrations.throttling.ApiKeyRateThrottle"],
    "EXCEPTION_HANDLER": "core.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.TenantAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cohort platform API",
    "DESCRIPTION": (
        "Programs, runs, participants, mentors and assessments of one organization. "
        "Authenticate with an API key (`Authorization: Bearer ck_...`); errors are RFC 9457 "
        "problem details; lists use cursor pagination. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI from our own static files: /api/docs/ works without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,  # read-only fields are not part of request bodies
    # Choice sets that share a field name get their own component names (not "KindC79Enum").
    "ENUM_NAME_OVERRIDES": {
        "AssessmentWindowKindEnum": "assessments.models.AssessmentWindow.Kind",
        "DataSubjectRequestKindEnum": "privacy.models.DataSubjectRequest.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_problem_responses",
    ],
}

# Logs: one line per record with the request id (and task) it belongs to; LOG_FORMAT=json
# (the production default) for log collectors (core/logging.py).
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(task_id)s] %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# With JSON logs the worker logs through the same handler instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# --- API and integrations (issue #8) ---
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)  # larger API bodies answer 413
# GET pages of tenant lists with an API key answered in front of Django's request cycle, with
# the same answer (integrations/express.py, docs/performance.md); false: every request takes the ordinary path.
API_EXPRESS_LANE = env.bool("API_EXPRESS_LANE", default=True)
# Per API key, a fixed one-minute window. Counters live in Redis (atomic INCR+EXPIRE);
# with REDIS_URL unset, in Django's cache (per process with the default local-memory cache).
API_KEY_RATE_LIMIT_PER_MINUTE = env.int("API_KEY_RATE_LIMIT_PER_MINUTE", default=600)
API_RATE_LIMIT_REDIS_URL = env("API_RATE_LIMIT_REDIS_URL", default=REDIS_URL)
# Webhooks are never sent to private, link-local or loopback addresses; loopback may
# be allowed for local development and tests (receivers on 127.0.0.1).
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=False)
WEBHOOKS_TIMEOUT_SECONDS = env.int("WEBHOOKS_TIMEOUT_SECONDS", default=10)
CELERY_BEAT_SCHEDULE["integrations-webhooks-deliver-due"] = {
    "task": "integrations.tasks.webhooks_deliver_due",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["integrations-idempotency-purge"] = {
    "task": "integrations.tasks.idempotency_records_purge",
    "schedule": 3600.0,
}

# Data rights (issue #19, docs/privacy.md). PIPA: act on a person's request and tell them
# within ten days. The nightly retention task erases people whose runs ended long enough ago.
PRIVACY_REQUEST_DUE_DAYS = env.int("PRIVACY_REQUEST_DUE_DAYS", default=10)
CELERY_BEAT_SCHEDULE["privacy-retention"] = {
    "task": "privacy.retention_apply_all",
    "schedule": 86400.0,
}

# Where people reach the platform: the base of links in emails sent by workers (no request there).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000/")

# --- Reminders (issue #7): plan what is due, then relay the outbox. Both are
# idempotent, so a second beat started by mistake sends nothing twice (docs/operations.md).
CELERY_BEAT_SCHEDULE["programs-milestones-overdue"] = {
    "task": "programs.milestones_overdue_announce_all",
    "schedule": 3600.0,  # the `milestone.overdue` webhook, once per milestone
}
CELERY_BEAT_SCHEDULE["notifications-plan"] = {
    "task": "notifications.plan_all_organizations",
    "schedule": env.float("NOTIFICATIONS_PLAN_INTERVAL_SECONDS", default=300.0),
}
CELERY_BEAT_SCHEDULE["notifications-relay"] = {
    "task": "notifications.relay_all_organizations",
    "schedule": env.float("NOTIFICATIONS_RELAY_INTERVAL_SECONDS", default=60.0),
}
# Delivery (issue #13, docs/operations.md). Retries after the 1st..4th failure; how long
# a row may stay "sending" before its worker counts as lost; the circuit breaker per
# SMTP server / webhook host (failures in a row to open it, first and longest wait
# between probes). The fault tests shorten them all.
NOTIFICATIONS_RETRY_DELAYS_SECONDS = env.list(
    "NOTIFICATIONS_RETRY_DELAYS_SECONDS", cast=int, default=[60, 300, 900, 1800]
)
NOTIFICATIONS_SENDING_LEASE_SECONDS = env.float("NOTIFICATIONS_SENDING_LEASE_SECONDS", default=120.0)
NOTIFICATIONS_BREAKER_FAILURES = env.int("NOTIFICATIONS_BREAKER_FAILURES", default=3)
NOTIFICATIONS_BREAKER_PROBE_SECONDS = env.float("NOTIFICATIONS_BREAKER_PROBE_SECONDS", default=5.0)
NOTIFICATIONS_BREAKER_PROBE_MAX_SECONDS = env.float("NOTIFICATIONS_BREAKER_PROBE_MAX_SECONDS", default=30.0)
# Channels (issue #19, docs/operations.md): organizations' provider credentials are
# encrypted with Fernet; the first key encrypts, every key decrypts (rotation: put the
# new key first, run `manage.py channel_credentials_rotate`, then drop the old one).
# Without the variable a key derived from SECRET_KEY is used (development and tests only).
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])
# Solapi (KakaoTalk AlimTalk with SMS fallback): the API's base URL (tests: a local fake)
# and how often delivery reports are polled.
SOLAPI_BASE_URL = env("SOLAPI_BASE_URL", default="https://api.solapi.com")
CELERY_BEAT_SCHEDULE["notifications-delivery-reports"] = {
    "task": "notifications.poll_delivery_reports_all",
    "schedule": env.float("NOTIFICATIONS_REPORT_POLL_SECONDS", default=300.0),
}

# Log-in protection (issue #16, docs/security.md): five wrong passwords in a row for one
# account from one address pause that pair for 15 minutes (HTTP 429, core/security.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a paused account before checking the password
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # both log-in forms name the email field "username"
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"
AXES_VERBOSE = False
# The attempts hold every organization's e-mail addresses: no admin page (`manage.py axes_reset`).
AXES_ENABLE_ADMIN = False

# Metrics for Prometheus (core/metrics.py, docs/operations.md). /metrics/ answers only
# with "Authorization: Bearer $METRICS_TOKEN" (or, without a token, where METRICS_OPEN
# is on: local development). A worker with METRICS_WORKER_PORT serves its task figures
# on that port. Several processes of one service share PROMETHEUS_MULTIPROC_DIR.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_OPEN = env.bool("METRICS_OPEN", default=False)
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
METRICS_WORKER_ADDRESS = env("METRICS_WORKER_ADDRESS", default="127.0.0.1")  # 0.0.0.0 in a container
PROMETHEUS_METRIC_NAMESPACE = ""

# Error tracking (issue #16, docs/operations.md): off unless SENTRY_DSN is set. No
# personal data is sent (no user e-mails, no request bodies or cookies).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=env("SENTRY_RELEASE", default=None),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Two-step verification (core/two_factor.py): anyone can turn it on; when required,
# owners and program managers must before they use the admin.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Cohort platform")


# Sign-in with Google, Kakao and Naver (django-allauth; core/sso.py, docs/security.md,
# docs/operations.md). A provider shows on the log-in pages only when it has an app:
# its client id and secret from the environment here, or an allauth SocialApp row.
# Accounts are linked by a VERIFIED provider e-mail only (core.sso.SocialAccountAdapter);
# nobody signs up by SSO except with a pending mentor invitation.
def _social_app(prefix: str) -> list[dict]:
    client_id = env(f"{prefix}_CLIENT_ID", default="")
    if not client_id:
        return []
    return [{"client_id": client_id, "secret": env(f"{prefix}_CLIENT_SECRET", default=""), "key": ""}]


SOCIALACCOUNT_PROVIDERS = {
    "google": {"APPS": _social_app("GOOGLE"), "SCOPE": ["openid", "profile", "email"]},
    # Kakao hands out the e-mail only with the account_email consent item turned on.
    "kakao": {"APPS": _social_app("KAKAO"), "SCOPE": ["account_email", "profile_nickname"]},
    "naver": {"APPS": _social_app("NAVER")},
}
ACCOUNT_ADAPTER = "core.sso.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "core.sso.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None  # core.User logs in by e-mail
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # no allauth e-mail confirmations: provider-verified e-mails only
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_LOGIN_ON_GET = False  # the buttons POST (with CSRF) to start a sign-in; a GET link cannot
SOCIALACCOUNT_AUTO_SIGNUP = True  # only reached with a pending invitation (core.sso); never a sign-up form
# Linking by e-mail is done by core.sso.SocialAccountAdapter.pre_social_login, not by
# allauth's EMAIL_AUTHENTICATION: that one wipes the password of an account without an
# allauth EmailAddress row, which would end every platform superuser's break-glass log-in.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False  # we only sign people in; no provider API calls later
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("SOCIALACCOUNT_REQUESTS_TIMEOUT", default=10)
