"""One-click unsubscribe (RFC 8058), reached from a link or header in every reminder.

GET shows a confirmation page with one button: link scanners and previews follow
links, and must not unsubscribe anyone. POST unsubscribes; it needs no CSRF token
because mail providers POST ``List-Unsubscribe=One-Click`` from their own servers;
the signed token in the URL is the proof.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.links import organization_id_reader, signed_link_page
from notifications import links, services
from notifications.models import Kind


@csrf_exempt
@require_http_methods(["GET", "POST"])
@signed_link_page(organization_id_reader(links.unsubscribe_token_read))
def unsubscribe(request, token: str):
    claims = links.unsubscribe_token_read(token)
    if claims is None or claims["kind"] not in Kind.values:
        raise Http404
    organization = request.link_organization
    if organization is None:
        raise Http404
    language = claims["language"] or organization.language
    with translation.override(language):
        context = {
            "organization": organization,
            "email": claims["email"],
            "kind_label": Kind(claims["kind"]).label,
            "done": False,
            "language": language,
        }
        if request.method == "POST":
            services.unsubscribe_record(organization=organization, email=claims["email"], kind=claims["kind"])
            context["done"] = True
        return render(request, "notifications/unsubscribe.html", context)
