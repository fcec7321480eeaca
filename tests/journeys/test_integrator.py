"""An integrator reads the API docs in Chromium with no internet (every outside request is refused).

The rest of the integrator's journey (create a key with the command, list runs, receive
a signed webhook and verify it with the standardwebhooks package) runs every example of
docs/api.md against a live server: tests/integrations/test_docs.py.
"""

import pytest

from tests.fixtures.browser import DESKTOP

pytestmark = pytest.mark.browser


def test_the_api_docs_render_without_the_internet(live_server, transactional_db, browser_for):
    with browser_for("integrator") as browser:
        page = browser.page(viewport=DESKTOP, locale="en-US")
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".swagger-ui .info .title", timeout=20000)
        assert "Cohort platform API" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock", timeout=20000)
        assert page.locator(".opblock").count() > 10  # the operations are listed, not a blank page
        browser.shot(page, "01-api-docs")
