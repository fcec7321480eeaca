"""Paths that only the production setup exercised (issue #12), each tested the way production runs.

The suite connects as the application role, so row-level security is on; work after
commit runs with no organization (see tests/fixtures/database.py), as it does after a
real commit.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.urls import reverse

from core import rls
from integrations.models import WebhookDelivery
from mentors import services as mentor_services
from mentors.models import DevelopmentGoal
from programs import links
from programs.models import CheckIn
from tests.factories.integrations import WebhookSubscriptionFactory

BASE_DIR = Path(__file__).resolve().parents[2]


def test_a_shared_goal_update_reaches_the_webhook_outbox_after_commit(
    organization, other_organization, portal_mentor, django_capture_on_commit_callbacks
):
    WebhookSubscriptionFactory(organization=organization, events=["mentor_goal.updated"])
    WebhookSubscriptionFactory(organization=other_organization, events=["mentor_goal.updated"])
    with django_capture_on_commit_callbacks(execute=True):
        mentor_services.goal_create(
            organization=organization,
            mentor=portal_mentor,
            title="첫 워크숍 진행하기",
            visibility=DevelopmentGoal.Visibility.SHARED,
        )
    deliveries = WebhookDelivery.objects.dangerously_all_organizations().filter(event_type="mentor_goal.updated")
    assert [d.organization_id for d in deliveries] == [organization.pk]


def test_after_commit_work_runs_in_the_context_that_registered_it(
    organization, other_organization, django_capture_on_commit_callbacks
):
    seen = []
    with django_capture_on_commit_callbacks(execute=True):
        rls.activate(organization.pk)
        rls.after_commit(lambda: seen.append(rls.current().organization_id))
        rls.activate(other_organization.pk)
        rls.after_commit(lambda: seen.append(rls.current().organization_id))
    assert seen == [organization.pk, other_organization.pk]


def _as_a_browser_posts(client, url: str, data: dict):
    """GET the page, then POST its form with the Origin a browser sends under the page's Referrer-Policy."""
    page = client.get(url)
    assert page.status_code == 200
    policy = page.get("Referrer-Policy", "")
    origin = "null" if policy == "no-referrer" else "http://testserver"  # what Chromium sends
    token = client.cookies["csrftoken"].value
    return client.post(url, data, HTTP_ORIGIN=origin, HTTP_X_CSRFTOKEN=token)


def test_a_signed_link_form_passes_csrf_as_a_browser_posts_it(enrollment):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    url = links.participant_link(enrollment, links.PURPOSE_CHECK_IN)
    response = _as_a_browser_posts(client, url, {"done": "인터뷰 5건", "next": "", "blockers": "", "confidence": "4"})
    assert response.status_code == 302
    assert CheckIn.objects.for_organization(enrollment.organization).count() == 1


def test_a_form_from_another_site_is_still_refused(enrollment):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    url = links.participant_link(enrollment, links.PURPOSE_CHECK_IN)
    client.get(url)
    token = client.cookies["csrftoken"].value
    response = client.post(
        url, {"done": "x", "confidence": "4"}, HTTP_ORIGIN="https://evil.example", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 403
    assert not CheckIn.objects.for_organization(enrollment.organization).exists()


def test_signed_link_pages_keep_the_link_out_of_other_sites_referrers(client, enrollment):
    response = client.get(links.participant_link(enrollment))
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"


EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", re.IGNORECASE)


def _external_assets(html: str, host: str = "testserver") -> list[str]:
    return [url for url in EXTERNAL.findall(html) if urlparse(url if "://" in url else "http:" + url).hostname != host]


def test_api_docs_load_swagger_ui_from_our_own_static_files(client, db):
    response = client.get(reverse("api-docs"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui-bundle.js" in html
    assert _external_assets(html) == []


def test_no_template_loads_anything_from_another_host():
    offenders = []
    for template in BASE_DIR.glob("*/templates/**/*.html"):
        for url in EXTERNAL.findall(template.read_text()):
            if url.startswith(("http://", "https://", "//")) and "{" not in url:
                offenders.append(f"{template.relative_to(BASE_DIR)}: {url}")
    # Links people click (a help page, a privacy notice) would be fine; assets are not. None exist today.
    assert offenders == []


def test_make_run_puts_its_port_into_the_links_of_emails():
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8101"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout
    honcho_line = next(line for line in dry_run.splitlines() if "honcho" in line)
    environment = honcho_line.split(".venv/bin/honcho")[0]
    printed = subprocess.run(
        ["sh", "-c", f"{environment} env"], capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}
    ).stdout
    assert "PUBLIC_BASE_URL=http://127.0.0.1:8101/" in printed.splitlines()


@pytest.mark.parametrize("given", ["https://cohorts.example.com/"])
def test_a_configured_public_base_url_wins_over_the_port(given):
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8101"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout
    environment = next(line for line in dry_run.splitlines() if "honcho" in line).split(".venv/bin/honcho")[0]
    printed = subprocess.run(
        ["sh", "-c", f"{environment} env"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PUBLIC_BASE_URL": given},
    ).stdout
    assert f"PUBLIC_BASE_URL={given}" in printed.splitlines()


def test_a_signed_link_opens_only_the_organization_it_names(client, enrollment, other_organization):
    """A genuine token whose organization is B cannot reach A's enrollment: the entry activates B only."""
    from types import SimpleNamespace

    forged_for_b = SimpleNamespace(organization_id=other_organization.pk, pk=enrollment.pk)
    token = links.participant_token(forged_for_b)  # signed by us, as a mix-up between organizations would be
    response = client.get(reverse("programs:participant", args=[token]))
    assert response.status_code == 410
    assert enrollment.participant.name not in response.content.decode()
