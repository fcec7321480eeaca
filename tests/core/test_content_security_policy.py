"""Content-Security-Policy (docs/security.md): no inline script runs, and our pages need none.

Every browser journey already fails on any CSP violation (tests/fixtures/browser.py);
these tests show the policy is really in force in Chromium (an injected inline script
does not run) and that what used inline handlers still works from our script file.
"""

from __future__ import annotations

import pytest
from django.test import Client

from programs import links
from tests.fixtures.browser import DESKTOP

PASSWORD = "pass-for-tests"


def _directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/admin/login/", "/mentor/login/", "/api/docs/", "/health/live/", "/api/v1/schema/"])
def test_every_response_carries_a_policy_that_refuses_inline_and_foreign_script(db, path):
    response = Client().get(path)
    directives = _directives(response["Content-Security-Policy"])
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert "report-uri" not in directives  # only when CSP_REPORT_URI names a collector


def test_the_signed_link_pages_carry_it_too(enrollment):
    response = Client().get(links.participant_link(enrollment, links.PURPOSE_CHECK_IN))
    assert response.status_code == 200
    assert _directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_no_template_or_admin_helper_has_an_inline_handler_or_script():
    """The policy would block them for real users: behaviour lives in core/static/core/page.js."""
    import re
    from pathlib import Path

    from django.conf import settings

    handler = re.compile(r"<[^>]*\son(click|change|submit|input|load|error|focus|blur|key\w+|mouse\w+)\s*=", re.I)
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
    offenders = []
    for path in Path(settings.BASE_DIR).glob("*/**/*"):
        skipped = {".venv", "staticfiles", "tests", "bench", "test-artifacts"}
        if skipped & set(path.parts) or path.suffix not in (".html", ".py"):
            continue
        text = path.read_text(errors="replace")
        if handler.search(text) or inline_script.search(text):
            offenders.append(str(path.relative_to(settings.BASE_DIR)))
    assert offenders == []


@pytest.mark.browser
@pytest.mark.postgres
def test_chromium_refuses_an_injected_script_while_the_switchers_still_work(transactional_db, live_server, browser_for):
    from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory

    user = UserFactory(email="pm.csp@hanbit.test", language="ko")
    MembershipFactory(organization=OrganizationFactory(slug="hanbit-csp", name="한빛창업학교"), user=user, role=30)
    MembershipFactory(organization=OrganizationFactory(slug="busan-csp", name="부산창업캠프"), user=user, role=30)
    with browser_for("content-security-policy") as browser:
        page = browser.page(viewport=DESKTOP, locale="ko-KR")
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        assert "관리" in page.inner_text("#content h1")

        # What an attacker's injected markup would do: an inline <script> and an on*= handler.
        with pytest.raises(Exception):  # noqa: B017 - Playwright reports the blocked script as an error
            page.add_script_tag(content="window.injected = 'ran';")
        page.evaluate(
            "() => { const i = document.createElement('img'); i.src = 'data:,x';"
            " i.setAttribute('onerror', \"window.injected = 'ran'\"); document.body.appendChild(i); }"
        )
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.injected") is None
        refused = list(browser.csp_violations)
        assert any("inline" in text for text in refused), refused
        browser.csp_violations.clear()  # the two refusals above are what we asked for

        # The language switcher submits itself from core/static/core/page.js.
        with page.expect_navigation():
            page.select_option("select[name=language]", "en")
        assert "Program administration" in page.inner_text("#content h1")
        # So does the organization switcher.
        with page.expect_navigation():
            page.select_option("#switch-organization", label="부산창업캠프")
        assert "부산창업캠프" in page.inner_text("#site-name")
        browser.shot(page, "admin-after-switching")
