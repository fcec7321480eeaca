"""Planning renders each email's templates once per message and fills in the recipient's parts.

The result must be what rendering every message on its own gives, byte for byte: the
same text, the same HTML (the recipient's name and links escaped as the template
escapes them), the same rows.
"""

import datetime
import itertools
import time

import pytest
from django.utils import translation
from django.utils.safestring import mark_safe

from notifications import content, links, selectors, services
from notifications.models import Channel, Kind, Notification
from notifications.planning import Planner
from notifications.schedule import SendingRules
from tests.factories.notifications import UnsubscribeFactory
from tests.factories.programs import (
    EnrollmentFactory,
    HelpRequestFactory,
    MilestoneFactory,
    ParticipantFactory,
)
from tests.fixtures.notifications import open_settings

UTC = datetime.UTC
TUESDAY_10AM_SEOUL = datetime.datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
FROZEN = 1_773_104_400.0  # signed links carry the time: the same second for both ways of rendering

NAMES = ["김민지", "<b>Kim</b> & \"Lee\" 'Park'", "O'Brien & Sons <script>", "", "이서연 <이>"]
URLS = [
    'https://cohorts.example.com/p/abc:def/?lang=ko&x="1"',
    "http://127.0.0.1:8000/p/eyJv<>'/",
    "",
]


def _messages():
    milestone = type("M", (), {"name": 'MVP <출시> & "검증"', "deliverable": "데모 & 'slides'", "due_on": None})()
    milestone.due_on = datetime.date(2026, 3, 10)
    run = type("R", (), {"name": "2026 봄 <기수>"})()
    yield lambda name, url: content.milestone_due_today(name=name, milestone=milestone, run=run, link=url)
    yield lambda name, url: content.milestone_upcoming(
        name=name, milestone=milestone, run=run, today=datetime.date(2026, 3, 7), link=url
    )
    yield lambda name, url: content.milestone_overdue_for_mentor(
        name=name, milestone=milestone, run=run, mentees=["<i>김</i>", "A & B", "'q'"], link=url
    )
    yield lambda name, url: content.participant_silent(name=name, run=run, since=datetime.date(2026, 3, 1), link=url)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_email_renderer_gives_what_rendering_each_message_gives(language):
    renderer = content.EmailRenderer()
    compared = 0
    with translation.override(language):
        for build, name, url, unsubscribe, kind in itertools.product(
            list(_messages()),
            NAMES,
            URLS,
            ["https://cohorts.example.com/n/unsubscribe/a&b\"c'/", ""],
            [Kind.MILESTONE_DUE_TODAY, Kind.MILESTONE_OVERDUE],
        ):
            message = build(name, url)
            arguments = {
                "message": message,
                "organization_name": '한빛 <창업> & "학교"',
                "kind_label": str(Kind(kind).label),
                "unsubscribe_url": unsubscribe,
            }
            expected = content.render_email(**arguments)
            assert renderer.render(**arguments) == expected
            compared += 1
    # The templates were rendered once per distinct rest of the message (4 messages, 2 kinds,
    # each personal part there or not), not once per message.
    assert compared == 240 and len(renderer._rendered) == 4 * 2 * 2**3
    text = content.render_email(
        message=_messages().__next__()("<b>&", "https://x.test/?a=1&b=2"),
        organization_name="O",
        kind_label="K",
        unsubscribe_url="",
    )[2]
    assert "&lt;b&gt;&amp;" in text and "a=1&amp;b=2" in text  # what "escaped as the template does" means


def test_safe_strings_and_marker_lookalikes_are_rendered_the_ordinary_way():
    renderer = content.EmailRenderer()
    milestone = type("M", (), {"name": "m", "deliverable": "", "due_on": datetime.date(2026, 3, 10)})()
    run = type("R", (), {"name": "r"})()
    with translation.override("en"):
        for name in [mark_safe("<b>safe</b>"), renderer._prefix + "0Q", "plain"]:
            message = content.milestone_due_today(name=name, milestone=milestone, run=run, link="https://x.test/")
            arguments = {
                "message": message,
                "organization_name": "Org",
                "kind_label": "Due today",
                "unsubscribe_url": "https://x.test/u/",
            }
            assert renderer.render(**arguments) == content.render_email(**arguments)


def _reference_row(organization, planned) -> Notification:
    """How every planned message was rendered before: its own templates, its own signed links."""
    with translation.override(planned.language):
        message = planned.build()
        if planned.channel == Channel.EMAIL:
            token = links.unsubscribe_token(
                organization_id=organization.id, email=planned.address, kind=planned.kind, language=planned.language
            )
            subject, text, html = content.render_email(
                message=message,
                organization_name=organization.name,
                kind_label=str(Kind(planned.kind).label),
                unsubscribe_url=links.unsubscribe_link(token),
            )
            payload = {}
        else:
            payload = content.webhook_payload(
                message=message, kind=planned.kind, organization_slug=organization.slug, notification_id=None
            )
            subject, text, html = message.subject, payload["text"], ""
    with translation.override(organization.language):
        reason = planned.reason()
    last_error = ""
    if planned.unsubscribed:
        with translation.override(organization.language):
            last_error = "Not sent: the recipient unsubscribed from this kind of message."
            last_error = translation.gettext(last_error)
    return {
        "kind": planned.kind,
        "channel": planned.channel,
        "subject_key": planned.subject_key,
        "slot": planned.slot,
        "recipient": planned.address,
        "recipient_name": planned.recipient_name[:200],
        "language": planned.language,
        "reason": reason,
        "subject_line": subject[:300],
        "body_text": text,
        "body_html": html,
        "payload": payload,
        "last_error": last_error,
        "status": Notification.Status.CANCELLED if planned.unsubscribed else Notification.Status.PENDING,
    }


def _planned(organization, now):
    settings = selectors.notification_settings_for(organization=organization)
    rules = SendingRules.for_organization(organization, settings)
    data = selectors.planning_data(organization=organization, today=rules.local_date(now), settings=settings)
    return Planner(data).due_now(now)


def test_planned_rows_are_byte_for_byte_what_rendering_each_message_gave(
    organization, cohort, other_organization, monkeypatch
):
    settings = open_settings(organization)
    settings.webhook_url = "https://chat.example.com/hooks/abc"
    settings.webhook_kinds = [Kind.MILESTONE_OVERDUE.value]
    settings.save()
    run = cohort["run"]
    for name, email, language in [
        ("<b>Kim</b> & \"Lee\" 'Park'", "kim.lee@startup.test", "en"),
        ("이서연 <대표> & '공동'", "seoyeon@startup.test", "ko"),
        ("O'Brien & Sons", "obrien@startup.test", "ko"),
    ]:
        EnrollmentFactory(
            run=run,
            participant=ParticipantFactory(organization=organization, name=name, email=email, language=language),
            last_contact_at=datetime.datetime(2026, 2, 20, 1, 0, tzinfo=UTC),
        )
    MilestoneFactory(
        run=run, name='고객 <인터뷰> & "10건"', deliverable="녹취 & 'memo'", due_on=datetime.date(2026, 3, 10)
    )
    MilestoneFactory(run=run, name="Pitch <deck>", due_on=datetime.date(2026, 3, 10))
    MilestoneFactory(run=run, name="Landing & page", due_on=datetime.date(2026, 3, 13))
    MilestoneFactory(run=run, name="Interviews 'round 1'", due_on=datetime.date(2026, 3, 6))
    HelpRequestFactory(enrollment=cohort["korean"])
    UnsubscribeFactory(organization=organization, email="kim.lee@startup.test", kind=Kind.MILESTONE_DUE_TODAY)
    monkeypatch.setattr(time, "time", lambda: FROZEN)

    created = services.notifications_plan(organization=organization, now=TUESDAY_10AM_SEOUL)

    written = {
        (n.kind, n.subject_key, n.slot, n.channel, n.recipient): n
        for n in Notification.objects.for_organization(organization)
    }
    planned = _planned(organization, TUESDAY_10AM_SEOUL)
    assert created == len(written) == len(planned) > 20
    assert {p.kind for p in planned} >= {
        Kind.MILESTONE_DUE_TODAY,
        Kind.MILESTONE_UPCOMING,
        Kind.MILESTONE_OVERDUE,
    }
    assert any(p.channel == Channel.WEBHOOK for p in planned) and any(p.unsubscribed for p in planned)
    for item in planned:
        expected = _reference_row(organization, item)
        row = written[item.key]
        assert {name: getattr(row, name) for name in expected} == expected, item.key
    names = [n.recipient_name for n in written.values()]
    assert "<b>Kim</b> & \"Lee\" 'Park'" in names and "이서연 <대표> & '공동'" in names
    html = next(n.body_html for n in written.values() if n.recipient == "obrien@startup.test")
    assert "O&#x27;Brien &amp; Sons" in html


def test_a_renderer_is_one_planning_call_of_one_organization(organization, other_organization, monkeypatch):
    """Two organizations with the same message text never share a rendered email."""
    monkeypatch.setattr(time, "time", lambda: FROZEN)
    milestone = type("M", (), {"name": "m", "deliverable": "", "due_on": datetime.date(2026, 3, 10)})()
    run = type("R", (), {"name": "r"})()
    first, second = services._Rendering(organization), services._Rendering(other_organization)
    assert first.emails is not second.emails and first.emails._rendered is not second.emails._rendered
    renderer = content.EmailRenderer()
    with translation.override("en"):
        message = content.milestone_due_today(name="A", milestone=milestone, run=run, link="https://x.test/")
        ours = renderer.render(message=message, organization_name="Ours", kind_label="K", unsubscribe_url="u")
        theirs = renderer.render(message=message, organization_name="Theirs", kind_label="K", unsubscribe_url="u")
    assert "Ours" in ours[1] and "Theirs" in theirs[1] and "Ours" not in theirs[1]


def test_participant_links_are_shared_only_inside_one_planning_call(cohort):
    enrollment = cohort["korean"]
    with links.shared_participant_links():
        first = links.participant_link(enrollment, "progress")
        assert links.participant_link(enrollment, "progress") is first
        assert links.participant_link(enrollment, "home") != first
        assert links.participant_link(cohort["english"], "progress") != first
    assert links._shared_links.get() is None
