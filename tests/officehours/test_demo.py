"""The office-hours demo: slots for each organization's mentor, one booking, idempotent."""

import importlib

from core import demo
from officehours import demo as officehours_demo
from officehours.models import OfficeHourBooking, OfficeHourSlot


def _seed():
    ctx = demo.seed(lambda message: None)
    for app in ("programs", "mentors"):
        importlib.import_module(f"{app}.demo").seed(ctx, lambda message: None)
    officehours_demo.seed(ctx, lambda message: None)
    return ctx


def _counts(ctx):
    return [
        (model.objects.for_organization(org).count())
        for org in ctx.organizations
        for model in (OfficeHourSlot, OfficeHourBooking)
    ]


def test_the_demo_offers_office_hours_in_both_organizations_and_is_idempotent(db):
    ctx = _seed()
    first = _counts(ctx)
    assert first == [2, 1, 2, 1]
    officehours_demo.seed(ctx, lambda message: None)
    assert _counts(ctx) == first
    weekly = OfficeHourSlot.objects.for_organization(ctx.english_org).get(repeat="weekly")
    assert weekly.time_zone == "Europe/London" and weekly.local_start().strftime("%a %H:%M") == "Tue 10:00"
