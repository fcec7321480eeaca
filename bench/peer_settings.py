"""Settings of the ordinary-DRF peer (``bench.peer_app``): a Django + DRF project as most teams set it up.

The same models and database as the platform, served by the same gunicorn settings,
but configured the way ``startproject`` and the DRF tutorial leave it: Django's
default middleware, no authentication, no permissions, no throttling, DRF's
``JSONRenderer`` and ``PageNumberPagination`` of 100, no ``ATOMIC_REQUESTS``, and the
connection as the database owner (no row-level security to pass). It is what
the platform's list endpoints are compared with, beside the raw psycopg baseline.
"""

from bench.settings import *  # noqa: F403
from bench.settings import DATABASES  # noqa: F401 (patched below)

ROOT_URLCONF = "bench.peer_app"
MIDDLEWARE = [
    # django-admin startproject's list (without what needs templates).
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The models come with the platform's INSTALLED_APPS, and django-allauth refuses to start
    # without its middleware (a no-op for API requests).
    "allauth.account.middleware.AccountMiddleware",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "UNAUTHENTICATED_USER": None,
}
DATABASES = {"default": {**DATABASES["default"], "ATOMIC_REQUESTS": False}}  # noqa: F811
