"""Per-key rate limits with atomic counters.

A fixed one-minute window per key: ``INCR`` and, on the window's first request,
``EXPIRE``, in one Lua script so two web processes can never both see the same
count or leave a counter without an expiry. Over the limit answers 429 with
``Retry-After`` (seconds until the window ends).

With ``REDIS_URL`` unset (the embedded default, and the test suite on a laptop)
the counter lives in Django's cache instead (``cache.add`` + ``cache.incr``, atomic
within one process for the local-memory cache, across processes for Redis or
Memcached caches). Requests without an API key are not limited here.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
DEFAULT_REQUESTS_PER_MINUTE = 600

_INCR_WITH_EXPIRY = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""

_clients: dict[str, object] = {}


def _redis_client(url: str):
    client = _clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        _clients[url] = client
    return client


def counter_hit(*, bucket: str, window: int = WINDOW_SECONDS) -> tuple[int, int]:
    """Count one request in ``bucket``'s current window: (count so far, seconds left)."""
    url = getattr(settings, "API_RATE_LIMIT_REDIS_URL", "") or ""
    if url:
        import redis

        try:
            count, ttl = _redis_client(url).eval(_INCR_WITH_EXPIRY, 1, f"ratelimit:{bucket}", window)
            return int(count), max(int(ttl), 1)
        except redis.RedisError:
            # Redis down: keep serving, limited per process by the cache below.
            logger.warning("rate limit counter unavailable in Redis; using the local cache", exc_info=True)
    window_start = int(time.time()) // window * window
    key = f"ratelimit:{bucket}:{window_start}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        count = 1
    return count, max(window_start + window - int(time.time()), 1)


def api_key_hit(key) -> tuple[bool, int]:
    """Count one request of API ``key``: (within its limit, seconds left in the window)."""
    limit = key.rate_limit_per_minute or getattr(settings, "API_KEY_RATE_LIMIT_PER_MINUTE", DEFAULT_REQUESTS_PER_MINUTE)
    # The prefix, not the id: ids restart in a fresh test database, counters in Redis do not.
    count, seconds_left = counter_hit(bucket=f"key:{key.prefix}")
    return count <= limit, seconds_left


class ApiKeyRateThrottle(BaseThrottle):
    """Limits each API key to its ``rate_limit_per_minute`` (else ``API_KEY_RATE_LIMIT_PER_MINUTE``)."""

    def allow_request(self, request, view):
        key = getattr(request, "auth", None)
        if not getattr(key, "is_api_key", False):
            return True
        allowed, self.seconds_left = api_key_hit(key)
        return allowed

    def wait(self):
        return getattr(self, "seconds_left", WINDOW_SECONDS)
