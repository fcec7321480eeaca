"""The outbox at scale (issue #15): a page costs the same with 3 rows or 100,000.

The list is read in the order of the index ``notification_org_scheduled`` (organization first,
newest scheduled first), counted with a cap, and has no date hierarchy (whose links need a
DISTINCT over every row); dates are filtered from the sidebar instead.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.admin_base import CappedCountPaginator
from notifications.admin import NotificationAdmin
from notifications.models import Notification
from tests.factories.notifications import NotificationFactory
from tests.factories.programs import RunFactory
from tests.fixtures.database import page_plan

CHANGELIST = "admin:notifications_notification_changelist"
ADMIN = NotificationAdmin


@pytest.fixture
def pm_client(program_manager, admin_client_for):
    return admin_client_for(program_manager)


def _outbox(client, query=""):
    client.get(reverse(CHANGELIST) + query)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(CHANGELIST) + query)
    assert response.status_code == 200
    return response, [q["sql"] for q in captured.captured_queries]


def _rows(organization, n, run, **fields):
    start = timezone.now() - datetime.timedelta(days=400)
    for i in range(n):
        NotificationFactory(
            organization=organization, run=run, scheduled_for=start + datetime.timedelta(days=7 * i), **fields
        )


def test_no_query_of_the_outbox_reads_every_row(organization, pm_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    monkeypatch.setattr(ADMIN, "list_per_page", 4)
    run = RunFactory(program__organization=organization)
    _rows(organization, 3, run)
    _response, few = _outbox(pm_client)
    _rows(organization, 30, run, status=Notification.Status.SENT)
    response, many = _outbox(pm_client)
    assert len(many) == len(few)
    table = Notification._meta.db_table
    mine = [q for q in many if table in q]
    assert not [q for q in mine if "DISTINCT" in q.upper()]  # no date hierarchy
    counts = [q for q in mine if q.startswith("SELECT COUNT(")]
    # The page count stops at the cap; the only other count is of the rows whose outcome is unknown.
    assert all("LIMIT 6" in q or "uncertain" in q for q in counts), counts
    assert response.context["cl"].paginator.capped
    assert "More than 5 rows match" in response.content.decode()


def test_the_outbox_is_filtered_by_date_from_the_sidebar(organization, pm_client):
    assert NotificationAdmin.date_hierarchy is None
    run = RunFactory(program__organization=organization)
    NotificationFactory(organization=organization, run=run, recipient="today@startup.test")
    NotificationFactory(
        organization=organization,
        run=run,
        recipient="long-ago@startup.test",
        scheduled_for=timezone.now() - datetime.timedelta(days=60),
    )
    response, _queries = _outbox(pm_client)
    spec = next(f for f in response.context["cl"].filter_specs if getattr(f, "field_path", "") == "scheduled_for")
    past_week = next(c for c in spec.choices(response.context["cl"]) if "7" in str(c["display"]))
    body = pm_client.get(reverse(CHANGELIST) + past_week["query_string"]).content.decode()
    assert "today@startup.test" in body
    assert "long-ago@startup.test" not in body


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_the_outbox_page_is_read_in_index_order(organization, pm_client):
    """The changelist's query, planned with sequential scans priced out: the index gives the order (no sort)."""
    run = RunFactory(program__organization=organization)
    _rows(organization, 3, run)
    _response, queries = _outbox(pm_client)
    plan = page_plan(queries, Notification)
    assert "notification_org_scheduled" in plan, plan
    assert "Sort" not in plan, plan
