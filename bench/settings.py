"""Production settings as served for the benchmark on loopback (DEBUG off).

The same middleware, authentication, throttling, pagination and connection reuse as
production; only what plain HTTP on 127.0.0.1 needs is relaxed: no HTTPS redirect,
no secure-only cookies, and static files without the manifest (``collectstatic`` is
not part of a benchmark run).
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-not-secret-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from config.settings.production import *  # noqa: E402, F403
from config.settings.production import STORAGES  # noqa: E402

DEBUG = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # Per-request INFO lines (planning, relay) would cost more than what is measured.
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
