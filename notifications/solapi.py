"""A client of Solapi's HTTP API (https://docs.solapi.com): KakaoTalk AlimTalk and SMS.

Solapi is a Korean business-messaging provider. What this client uses of its API:

* **authentication**: every request carries ``Authorization: HMAC-SHA256 apiKey=<key>,
  date=<ISO 8601>, salt=<random>, signature=<hex HMAC-SHA256(secret, date + salt)>``;
* **send one message**: ``POST /messages/v4/send`` with ``{"message": {...}}``. An
  AlimTalk is ``type: "ATA"`` with ``kakaoOptions: {pfId, templateId, variables,
  disableSms}``; ``variables`` map ``#{name}`` to text and must fill the approved
  template exactly. We send it with ``disableSms: true`` and fall back to SMS
  ourselves, once, as an attempt of its own (so the outbox shows both). A text message
  is ``{to, from, text}`` (Solapi picks SMS or LMS by length). The answer has a
  ``messageId`` and ``statusCode`` ``"2000"`` (accepted); an error answers 4xx/5xx
  with ``{"errorCode", "errorMessage"}``;
* **delivery reports**: ``GET /messages/v4/list?criteria=messageId&cond=eq&value=<id>``
  answers ``{"messageList": {"<id>": {"statusCode": ..., "reason": ...}}}``:
  ``2000``/``3000`` still on the way, ``4000`` delivered, anything else not delivered
  (for an AlimTalk, e.g. ``3104``: the recipient does not use KakaoTalk).

Requests go through ``requests`` with a timeout, no redirects and no proxies from the
environment; the base URL (``settings.SOLAPI_BASE_URL``) is refused like a tenant's
webhook when it points into a private network (:func:`core.outbound.url_problem`;
tests allow loopback with ``WEBHOOKS_ALLOW_LOOPBACK`` and run a fake of this API).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import phonenumbers
import requests
from django.conf import settings

from core import outbound

TIMEOUT_SECONDS = 10
ACCEPTED = "2000"
IN_PROGRESS = {"2000", "3000"}
DELIVERED = "4000"


class SolapiRefused(Exception):
    """Solapi refused the message (4xx, or an answer without an accepted status): about the message."""

    def __init__(self, message: str, code: str = "", status: int = 200):
        super().__init__(message)
        self.code = code
        self.status = status

    @property
    def about_the_account(self) -> bool:
        """401/403: our key, secret or balance, not this message; an SMS would fail the same way."""
        return self.status in (401, 402, 403)


class SolapiUnavailable(OSError):
    """Solapi is down or overloaded (5xx, 429): a channel-level failure."""


@dataclass(frozen=True)
class Report:
    status: str  # "pending", "delivered" or "failed"
    code: str
    detail: str


def base_url() -> str:
    return (getattr(settings, "SOLAPI_BASE_URL", "") or "https://api.solapi.com").rstrip("/")


def circuit_key() -> str:
    parts = urlsplit(base_url())
    return f"solapi:{(parts.hostname or '').lower()}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def authorization(api_key: str, api_secret: str, *, date: str | None = None, salt: str | None = None) -> str:
    date = date or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    salt = salt or secrets.token_hex(16)
    signature = hmac.new(api_secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    return f"HMAC-SHA256 apiKey={api_key}, date={date}, salt={salt}, signature={signature}"


def e164(phone: str, region: str = "KR") -> str:
    """The number in E.164 (``+821012345678``), or '' when it is not a valid number."""
    try:
        number = phonenumbers.parse(phone or "", region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _recipient_fields(number_e164: str) -> dict:
    """Solapi takes the national number (``01012345678``) and, abroad, the country code."""
    number = phonenumbers.parse(number_e164, None)
    national = "".join(
        ch for ch in phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL) if ch.isdigit()
    )
    fields = {"to": national}
    if number.country_code != 82:
        fields["country"] = str(number.country_code)
    return fields


class SolapiClient:
    def __init__(self, *, api_key: str, api_secret: str, timeout: float = TIMEOUT_SECONDS):
        self.api_key = api_key
        self.api_secret = api_secret
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc from the environment

    def _url(self, path: str) -> str:
        url = base_url() + path
        problem = outbound.url_problem(url)
        if problem:
            raise outbound.DestinationRefused(problem)
        return url

    def _headers(self) -> dict:
        return {
            "Authorization": authorization(self.api_key, self.api_secret),
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "cohort-platform-reminders/1",
        }

    def _answer(self, response: requests.Response) -> dict:
        if response.status_code >= 500 or response.status_code == 429:
            raise SolapiUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not 200 <= response.status_code < 300:
            code = str(body.get("errorCode") or response.status_code)
            message = f"HTTP {response.status_code} {code}: {body.get('errorMessage', '')}".strip()
            raise SolapiRefused(message, code, response.status_code)
        return body if isinstance(body, dict) else {}

    def _send(self, message: dict) -> str:
        try:
            response = self.session.post(
                self._url("/messages/v4/send"),
                json={"message": message},
                headers=self._headers(),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.ConnectionError as error:
            raise ConnectionError(str(error)) from error
        except requests.Timeout as error:
            raise TimeoutError(str(error)) from error
        body = self._answer(response)
        status = str(body.get("statusCode", ""))
        if status != ACCEPTED or not body.get("messageId"):
            raise SolapiRefused(f"status {status}: {body.get('statusMessage', '')}".strip(), status)
        return str(body["messageId"])

    def send_alimtalk(self, *, to: str, sender: str, pf_id: str, template_id: str, variables: dict, text: str) -> str:
        """Send one AlimTalk (no automatic SMS: we fall back ourselves); return Solapi's message id."""
        message = {
            **_recipient_fields(to),
            "from": sender,
            "type": "ATA",
            "text": text,
            "kakaoOptions": {"pfId": pf_id, "templateId": template_id, "variables": variables, "disableSms": True},
        }
        return self._send(message)

    def send_sms(self, *, to: str, sender: str, text: str) -> str:
        return self._send({**_recipient_fields(to), "from": sender, "text": text})

    def report(self, message_id: str) -> Report:
        """What Solapi knows of one message now."""
        try:
            response = self.session.get(
                self._url("/messages/v4/list"),
                params={"criteria": "messageId", "cond": "eq", "value": message_id},
                headers=self._headers(),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise ConnectionError(str(error)) from error
        body = self._answer(response)
        found = (body.get("messageList") or {}).get(message_id) or {}
        code = str(found.get("statusCode", ""))
        detail = str(found.get("reason") or found.get("statusMessage") or "")[:300]
        if not code or code in IN_PROGRESS:
            return Report("pending", code, detail)
        if code == DELIVERED:
            return Report("delivered", code, detail)
        return Report("failed", code, detail)

    def probe(self) -> None:
        outbound.probe(base_url(), timeout=self.timeout)
