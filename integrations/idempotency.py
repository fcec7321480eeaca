"""``Idempotency-Key`` on POST: a retried request gets the first response and creates nothing twice.

The tenant base viewset calls :func:`idempotency_begin` after authentication and
permission checks, and :func:`idempotency_finish` with the response:

* the first request with a key inserts a pending record (organization, principal,
  key) inside the request's transaction, runs, and stores its 2xx response in the
  same transaction; a failed request leaves no record, so it may be retried;
* a retry with the same key, method, path and body gets the stored response with
  ``Idempotent-Replayed: true``; with a different body or path, 422. Bodies are
  compared as parsed JSON (:func:`_canonical_body`): whitespace and key order do not
  make a retry different;
* two concurrent requests with one key: the unique constraint makes the second
  wait for the first to commit (PostgreSQL), then it replays the first response.

Keys are remembered for 24 hours and are per API key or per user.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.api.parsers import json_depth_exceeds
from core.api.problems import Conflict, UnprocessableRequest
from integrations import selectors
from integrations.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
TIME_TO_LIVE = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("Location",)


class IdempotentReplay(Exception):  # noqa: N818 - not an error: carries the response to replay
    def __init__(self, response: Response):
        super().__init__("idempotent replay")
        self.response = response


def _principal(request) -> str:
    auth = getattr(request, "auth", None)
    if getattr(auth, "is_api_key", False):
        return f"key:{auth.prefix}"
    return f"user:{request.user.pk}"


def _canonical_body(body: bytes) -> bytes:
    """The body as canonical JSON (sorted keys, no insignificant whitespace), else the bytes as sent.

    A retry whose JSON differs only in spelling (whitespace, key order, ``\\u`` escapes)
    is the same request; a body that differs in content is not. Numbers are compared
    as parsed, so ``1`` and ``1.0`` still differ. Bodies that are not JSON, or nested
    deeper than the parser accepts, keep their raw bytes: the request fails anyway.
    """
    if not body.strip():
        return b"raw:"
    try:
        data = json.loads(body)
        if json_depth_exceeds(data):
            return b"raw:" + body
        return b"json:" + json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return b"raw:" + body


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.path.encode() + b"\0")
    try:
        digest.update(_canonical_body(request._request.body))
    except RawPostDataException:
        # A multipart body that Django already streamed: hash what was parsed.
        digest.update(json.dumps(sorted((k, str(v)) for k, v in request.data.items())).encode())
    return digest.hexdigest()


def _replay_or_refuse(record: IdempotencyRecord, fingerprint: str) -> None:
    if record.request_fingerprint != fingerprint:
        raise UnprocessableRequest(
            _("This Idempotency-Key was already used for a different request."), code="idempotency_key_reused"
        )
    if record.response_status is None:
        raise Conflict(_("A request with this Idempotency-Key is still in progress."), code="idempotency_in_progress")
    headers = {**record.response_headers, REPLAYED_HEADER: "true"}
    raise IdempotentReplay(Response(record.response_body, status=record.response_status, headers=headers))


def idempotency_begin(*, request, organization) -> IdempotencyRecord | None:
    """Start (or replay) an idempotent POST. Raises :class:`IdempotentReplay` with the stored response."""
    if request.method != "POST" or HEADER not in request.headers:
        return None
    key = request.headers[HEADER].strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            {HEADER: [_("Send 1 to %(max)d characters, e.g. a UUID.") % {"max": MAX_KEY_LENGTH}]}, code="invalid"
        )
    principal = _principal(request)
    fingerprint = _fingerprint(request)
    now = timezone.now()
    record = selectors.idempotency_record_get(organization=organization, principal=principal, key=key)
    if record is not None and record.expires_at <= now:
        record.delete()
        record = None
    if record is not None:
        _replay_or_refuse(record, fingerprint)
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                organization=organization,
                principal=principal,
                key=key,
                method=request.method,
                path=request.path[:500],
                request_fingerprint=fingerprint,
                expires_at=now + TIME_TO_LIVE,
            )
    except IntegrityError:
        # Another request with this key committed first: answer as it did.
        record = selectors.idempotency_record_get(organization=organization, principal=principal, key=key)
        if record is None:
            raise Conflict(
                _("A request with this Idempotency-Key is still in progress."), code="idempotency_in_progress"
            )
        _replay_or_refuse(record, fingerprint)
    return None


def idempotency_finish(*, record: IdempotencyRecord, response) -> None:
    """Store a 2xx response for replays; forget the key after anything else."""
    if connection.in_atomic_block and connection.needs_rollback:
        return  # the request is being rolled back, and the pending record with it
    if isinstance(response, Response) and 200 <= response.status_code < 300:
        data = response.data
        record.response_status = response.status_code
        record.response_body = None if data is None else json.loads(JSONRenderer().render(data) or b"null")
        record.response_headers = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
        record.save(update_fields=["response_status", "response_body", "response_headers", "updated_at"])
    else:
        record.delete()
