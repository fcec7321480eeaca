"""The demo: today's reminders are planned at once (the worker sends them within a minute), in each language."""

from django.core import mail
from django.utils import timezone

from core import demo as core_demo
from notifications import demo, selectors, services
from notifications.models import Kind, Notification, NotificationSettings
from notifications.schedule import SendingRules
from programs import demo as programs_demo


def test_the_demo_plans_reminders_in_each_language_and_seeding_twice_adds_nothing(db, monkeypatch):
    ctx = core_demo.seed(lambda _message: None)
    programs_demo.seed(ctx, lambda _message: None)
    demo.seed(ctx, lambda _message: None)
    korean, english = ctx.korean_org, ctx.english_org
    counts = [Notification.objects.for_organization(o).count() for o in (korean, english)]
    assert all(count > 0 for count in counts)
    assert NotificationSettings.objects.for_organization(korean).count() == 1

    demo.seed(ctx, lambda _message: None)
    assert [Notification.objects.for_organization(o).count() for o in (korean, english)] == counts

    kinds = set(Notification.objects.for_organization(korean).values_list("kind", flat=True))
    assert {Kind.MILESTONE_OVERDUE, Kind.PARTICIPANT_SILENT, Kind.DIGEST_PM} <= kinds
    digest = Notification.objects.for_organization(korean).filter(kind=Kind.DIGEST_PM).first()
    assert digest.language == "ko" and "주간 요약" in digest.subject_line
    digest = Notification.objects.for_organization(english).filter(kind=Kind.DIGEST_PM).first()
    assert digest.language == "en" and "Weekly digest" in digest.subject_line

    # What the worker does after `make run`: everything planned goes out at the first
    # moment outside quiet hours (at once in the daytime; at night it waits for morning).
    rules = SendingRules.for_organization(english, selectors.notification_settings_for(organization=english))
    allowed = rules.next_allowed_moment(timezone.now())
    monkeypatch.setattr(services.timezone, "now", lambda: allowed)
    result = services.notification_relay(organization=english)
    assert result.sent > 0 and len(mail.outbox) == result.sent
