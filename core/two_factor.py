"""Two-step verification (TOTP, with recovery codes) for the admin, on django-otp.

Who: anyone who uses the admin can turn it on (Admin → the user menu → "Two-step
verification"); owners and program managers are asked to. With
``TWO_FACTOR_REQUIRED`` (production setting, env ``TWO_FACTOR_REQUIRED``), owners and
program managers cannot use the admin until they have turned it on.

* The secret lives in a django-otp ``TOTPDevice`` (RFC 6238, 30-second codes; an
  authenticator app scans the QR code, rendered here as SVG: no outside service).
* Ten single-use recovery codes (a django-otp ``StaticDevice``) are shown once, when
  the device is confirmed; a new set replaces the old one.
* At log-in, after the password, the code field takes the app's current code or a
  recovery code. django-otp throttles wrong codes (growing delays), and the password
  step has its own lockout (core/security.py).

Every write goes through the functions below; the views only call them.
"""

from __future__ import annotations

import base64
import secrets
from io import BytesIO

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import selectors
from core.models import Membership

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"


def is_enabled(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def must_enable(user) -> bool:
    """Owners and program managers must turn it on before using the admin (when required)."""
    if not getattr(settings, "TWO_FACTOR_REQUIRED", False) or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(m.role >= Membership.Role.PROGRAM_MANAGER for m in selectors.memberships_for_user(user=user))


def pending_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being set up (a new secret when there is none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL of the device as a QR code: an SVG ``data:`` URI for an ``<img>``."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def readable_secret(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@transaction.atomic
def confirm(user, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the pending authenticator with a current code; return new recovery codes, or None."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token((token or "").replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()  # one authenticator at a time
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user)


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with ten new ones (shown once)."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def disable(user, token: str) -> bool:
    """Turn it off, proven by a current code or a recovery code."""
    if match_token(user, (token or "").strip()) is None:
        return False
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    return True


def recovery_codes_left(user) -> int:
    device = StaticDevice.objects.filter(user=user, name="recovery").first()
    return device.token_set.count() if device else 0
