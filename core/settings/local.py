"""Local development: the embedded default with DEBUG on."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# Local receivers (a webhook inspector on 127.0.0.1) may get webhooks in development.
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=True)
