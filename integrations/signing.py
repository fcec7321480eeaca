"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

The signed content is ``<webhook-id>.<webhook-timestamp>.<body>``; the signature is
``v1,<base64 HMAC-SHA256>`` under the secret's bytes (the base64 after ``whsec_``).
Several signatures are space-separated, which is how a rotation's grace period works:
the old and new secret both sign, and a receiver accepts either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 bytes


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(random_secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _secret_bytes(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(raw)


def signature_for(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(*, secrets: list[str], msg_id: str, timestamp: int, body: str) -> str:
    return " ".join(signature_for(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets)


def webhook_headers(*, secrets: list[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets=secrets, msg_id=msg_id, timestamp=timestamp, body=body),
        "content-type": "application/json",
    }
