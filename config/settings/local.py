"""Local development: the embedded default with DEBUG on."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# Local receivers (a webhook inspector on 127.0.0.1) may get webhooks in development.
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=True)
# /metrics/ without a token on a developer's machine (production needs METRICS_TOKEN).
METRICS_OPEN = env.bool("METRICS_OPEN", default=True)
