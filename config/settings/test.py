"""Fast, deterministic settings for the test suite (still the real database)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
# Unit tests run tasks in-process; tests about the worker start a real one with
# CELERY_TASK_ALWAYS_EAGER=false, which sends to the tests' SMTP sink (EMAIL_URL).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
if CELERY_TASK_ALWAYS_EAGER or not env("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_EAGER_PROPAGATES = True
LANGUAGE_CODE = "en"
