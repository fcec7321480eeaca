"""Log-in protection (django-axes): what a person sees when their log-ins are paused.

Five wrong passwords in a row for one account from one address pause log-ins for that
account from that address for 15 minutes (``AXES_*`` in config/settings/base.py). The
admin and the mentor portal share it; API keys are not passwords and are not counted.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of logging in while paused (HTTP 429), in the person's language."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "core/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
