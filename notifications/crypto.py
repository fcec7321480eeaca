"""Secrets of organizations (provider keys, bot tokens, webhook URLs) encrypted at rest.

:class:`EncryptedTextField` stores Fernet tokens (AES-128-CBC with HMAC-SHA256, from the
maintained ``cryptography`` library) in a text column; Python code only ever sees the
plain value. Keys come from ``settings.FIELD_ENCRYPTION_KEY`` (a list): the first
encrypts, every one decrypts (:class:`cryptography.fernet.MultiFernet`), so a key is
rotated by putting the new one first, re-encrypting (``manage.py
channel_credentials_rotate``) and then dropping the old one. Without a configured key,
one derived from ``SECRET_KEY`` is used (development and tests; docs/operations.md).

Forms and the API never show a stored secret back: see
:class:`notifications.forms.SecretInput`.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"  # marks an encrypted value in the column (and tells it apart from an empty one)


def _keys() -> list[bytes]:
    configured = [key.strip() for key in (getattr(settings, "FIELD_ENCRYPTION_KEY", None) or []) if key.strip()]
    if configured:
        return [key.encode() for key in configured]
    derived = hashlib.sha256(f"field-encryption:{settings.SECRET_KEY}".encode()).digest()
    return [base64.urlsafe_b64encode(derived)]


@functools.lru_cache(maxsize=8)
def _fernet_for(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet_for(tuple(_keys()))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    """The plain value; a column value without the prefix is taken as it is (never written by us)."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise ValueError("a stored secret cannot be decrypted with the configured FIELD_ENCRYPTION_KEY") from error


def rotate(stored: str) -> str:
    """Re-encrypt with the first key (MultiFernet.rotate); empty stays empty."""
    if not stored or not stored.startswith(PREFIX):
        return encrypt(stored) if stored else ""
    return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """A text field whose column holds a Fernet token; reads and writes plain text in Python."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else ("" if value is not None else value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(value)
