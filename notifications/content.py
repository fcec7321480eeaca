"""The words of each reminder, in the recipient's language.

Every builder returns a :class:`Message` and is called inside
``translation.override(recipient.language)``; :func:`render_email` turns a message
into the subject, plain text and HTML of an email, :func:`webhook_payload` into the
JSON posted to a chat webhook.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import secrets
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.html import conditional_escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext


@dataclass
class Message:
    subject: str
    lines: list[str]
    items: list[str] = field(default_factory=list)
    action_url: str = ""
    action_label: str = ""
    greeting_name: str = ""


def format_day(day: datetime.date) -> str:
    # The format itself is translated: "Thu 5 Mar 2026" in English, "2026년 3월 5일 (목)" in Korean.
    return formats.date_format(day, pgettext("date format of reminders (Django date syntax)", "D j M Y"))


def render_email(
    *, message: Message, organization_name: str, kind_label: str, unsubscribe_url: str
) -> tuple[str, str, str]:
    """Subject, plain-text body and HTML body of an email, in the active language."""
    context = {
        "message": message,
        "organization_name": organization_name,
        "kind_label": kind_label,
        "unsubscribe_url": unsubscribe_url,
        "language": translation.get_language(),
    }
    text = render_to_string("notifications/email/message.txt", context)
    html = render_to_string("notifications/email/message.html", context)
    return message.subject, text, html


class EmailRenderer:
    """:func:`render_email` for many messages: the templates once per message apart from the recipient's parts.

    Planning renders thousands of emails that differ only in the greeting's name, the
    action link (a signed link of the recipient's own) and the unsubscribe link. The
    templates are rendered once per distinct rest of the context (language,
    organization, kind, subject, lines, items, action label, which of the personal parts
    are present) with a unique marker in place of each personal part; each email is
    that text with the markers replaced by its values, escaped in the HTML exactly as
    the template escapes them (``conditional_escape``). The result is the same, byte
    for byte, as :func:`render_email` (tests/notifications/test_rendering.py).

    One renderer serves one planning call of one organization: nothing outlives it, and
    the organization's name is part of every key. Anything unusual (a value that is not
    a plain ``str``, a value containing the marker, a marker the templates did not carry
    through unchanged) is rendered the ordinary way.
    """

    _PARTS = ("name", "action_url", "unsubscribe_url")

    def __init__(self):
        self._prefix = f"QQpersonal{secrets.token_hex(12)}x"
        self._markers = {part: f"{self._prefix}{index}Q" for index, part in enumerate(self._PARTS)}
        self._pattern = re.compile("|".join(re.escape(m) for m in self._markers.values()))
        self._rendered: dict[tuple, tuple[str, str]] = {}

    def render(
        self, *, message: Message, organization_name: str, kind_label: str, unsubscribe_url: str
    ) -> tuple[str, str, str]:
        """What :func:`render_email` returns for these arguments, in the active language."""
        values = {"name": message.greeting_name, "action_url": message.action_url, "unsubscribe_url": unsubscribe_url}
        shared = (message.subject, message.action_label, organization_name, kind_label)
        plain = all(type(v) is str for v in (*values.values(), *shared, *message.lines, *message.items))
        if not plain or any(self._prefix in v for v in (*values.values(), *shared, *message.lines, *message.items)):
            return render_email(
                message=message,
                organization_name=organization_name,
                kind_label=kind_label,
                unsubscribe_url=unsubscribe_url,
            )
        key = (
            translation.get_language(),
            *shared,
            tuple(message.lines),
            tuple(message.items),
            *(bool(v) for v in values.values()),
        )
        templates = self._rendered.get(key)
        if templates is None:
            marked = dataclasses.replace(
                message,
                lines=list(message.lines),
                items=list(message.items),
                greeting_name=self._markers["name"] if values["name"] else "",
                action_url=self._markers["action_url"] if values["action_url"] else "",
            )
            _subject, text, html = render_email(
                message=marked,
                organization_name=organization_name,
                kind_label=kind_label,
                unsubscribe_url=self._markers["unsubscribe_url"] if values["unsubscribe_url"] else "",
            )
            templates = self._rendered[key] = (text, html)
        text_values = {self._markers[part]: value for part, value in values.items()}
        html_values = {marker: str(conditional_escape(value)) for marker, value in text_values.items()}
        text = self._pattern.sub(lambda match: text_values[match.group()], templates[0])
        html = self._pattern.sub(lambda match: html_values[match.group()], templates[1])
        if self._prefix in text or self._prefix in html:  # a marker changed on its way through the templates
            return render_email(
                message=message,
                organization_name=organization_name,
                kind_label=kind_label,
                unsubscribe_url=unsubscribe_url,
            )
        return message.subject, text, html


def webhook_payload(*, message: Message, kind: str, organization_slug: str, notification_id: int | None) -> dict:
    """A JSON body most chat incoming webhooks accept: ``text`` plus structured fields."""
    parts = [f"*{message.subject}*", *message.lines, *(f"• {item}" for item in message.items)]
    if message.action_url:
        parts.append(f"{message.action_label}: {message.action_url}")
    return {
        "text": "\n".join(parts),
        "kind": kind,
        "organization": organization_slug,
        "subject": message.subject,
        "link": message.action_url,
        "notification_id": notification_id,
    }


def plain_text(message: Message) -> str:
    """The message's lines and items as plain text (chat cards, KakaoTalk's #{text})."""
    return "\n".join([*message.lines, *(f"• {item}" for item in message.items)])


def alimtalk_variables(*, message: Message, organization_name: str, name: str) -> dict[str, str]:
    """The values of the variables an AlimTalk template may use (models.ALIMTALK_VARIABLES)."""
    return {
        "name": name or message.greeting_name or "",
        "subject": message.subject,
        "organization": organization_name,
        "link": message.action_url or "",
        "text": plain_text(message),
    }


def alimtalk_render(*, template_text: str, message: Message, organization_name: str, name: str) -> tuple[str, dict]:
    """The approved template's text with its variables filled in, and the ``#{name}`` → value map Solapi takes.

    Kakao delivers an AlimTalk only when its text is the approved template with
    variables filled in, so the text is never written freely here.
    """
    values = alimtalk_variables(message=message, organization_name=organization_name, name=name)
    used = {f"#{{{key}}}": value for key, value in values.items() if f"#{{{key}}}" in template_text}
    text = template_text
    for placeholder, value in used.items():
        text = text.replace(placeholder, value)
    return text, used


# --- Milestones ---------------------------------------------------------------------------


def _deliverable_lines(milestone) -> list[str]:
    deliverable = (milestone.deliverable or "").strip()
    return [_("What to hand in: %(deliverable)s") % {"deliverable": deliverable}] if deliverable else []


def milestone_upcoming(*, name: str, milestone, run, today: datetime.date, link: str) -> Message:
    days = (milestone.due_on - today).days
    return Message(
        subject=_("Coming up: %(milestone)s is due %(date)s")
        % {"milestone": milestone.name, "date": format_day(milestone.due_on)},
        lines=[
            ngettext(
                "%(milestone)s of %(run)s is due on %(date)s, in %(days)d day.",
                "%(milestone)s of %(run)s is due on %(date)s, in %(days)d days.",
                days,
            )
            % {"milestone": milestone.name, "run": run.name, "date": format_day(milestone.due_on), "days": days},
            *_deliverable_lines(milestone),
            _("Starting now leaves time to ask your mentor for help if you get stuck."),
        ],
        action_url=link,
        action_label=_("Update my progress"),
        greeting_name=name,
    )


def milestone_due_today(*, name: str, milestone, run, link: str, today=None) -> Message:
    """The due-day reminder; sent before the due date when that date has no sending (a holiday)."""
    if today is not None and today < milestone.due_on:
        subject = _("Due %(date)s (a day off): %(milestone)s") % {
            "milestone": milestone.name,
            "date": format_day(milestone.due_on),
        }
        first = _("%(milestone)s of %(run)s is due on %(date)s. That is a day off, so this is your reminder today.") % {
            "milestone": milestone.name,
            "run": run.name,
            "date": format_day(milestone.due_on),
        }
    else:
        subject = _("Due today: %(milestone)s") % {"milestone": milestone.name}
        first = _("%(milestone)s of %(run)s is due today.") % {"milestone": milestone.name, "run": run.name}
    return Message(
        subject=subject,
        lines=[
            first,
            *_deliverable_lines(milestone),
            _("When you have handed it in, mark it as submitted so that your mentors know."),
        ],
        action_url=link,
        action_label=_("Update my progress"),
        greeting_name=name,
    )


def milestone_overdue_for_participant(*, name: str, milestone, run, link: str) -> Message:
    return Message(
        subject=_("Overdue: %(milestone)s") % {"milestone": milestone.name},
        lines=[
            _("%(milestone)s of %(run)s was due on %(date)s and is not marked as submitted yet.")
            % {"milestone": milestone.name, "run": run.name, "date": format_day(milestone.due_on)},
            _("If something is in the way, ask for help now: your mentors would rather hear early."),
        ],
        action_url=link,
        action_label=_("Update my progress"),
        greeting_name=name,
    )


def milestone_overdue_for_mentor(*, name: str, milestone, run, mentees: list[str], link: str) -> Message:
    return Message(
        subject=_("Your mentees: %(milestone)s is overdue") % {"milestone": milestone.name},
        lines=[
            _("%(milestone)s of %(run)s was due on %(date)s. These mentees have not submitted it yet:")
            % {"milestone": milestone.name, "run": run.name, "date": format_day(milestone.due_on)},
        ],
        items=mentees,
        action_url=link,
        action_label=_("Open my mentees"),
        greeting_name=name,
    )


def milestone_overdue_for_team(*, milestone, run, enrollments: list[str], link: str) -> Message:
    return Message(
        subject=_("Overdue: %(milestone)s (%(run)s)") % {"milestone": milestone.name, "run": run.name},
        lines=[
            ngettext(
                "Due on %(date)s; %(count)d enrollment has not submitted it:",
                "Due on %(date)s; %(count)d enrollments have not submitted it:",
                len(enrollments),
            )
            % {"date": format_day(milestone.due_on), "count": len(enrollments)},
        ],
        items=enrollments,
        action_url=link,
        action_label=_("Open the run"),
    )


# --- Help requests ------------------------------------------------------------------------


def _aid_items(help_request) -> list[str]:
    return [
        _("Act: %(text)s") % {"text": help_request.act},
        _("Impact: %(text)s") % {"text": help_request.impact},
        _("Desired outcome: %(text)s") % {"text": help_request.desired_outcome},
    ]


def help_request_unanswered(*, name: str, help_request, who: str, hours: int, link: str) -> Message:
    return Message(
        subject=_("%(who)s is waiting for your answer") % {"who": who},
        lines=[
            ngettext(
                "%(who)s asked for help %(hours)d hour ago and has no answer yet:",
                "%(who)s asked for help %(hours)d hours ago and has no answer yet:",
                hours,
            )
            % {"who": who, "hours": hours},
        ],
        items=_aid_items(help_request),
        action_url=link,
        action_label=_("Answer"),
        greeting_name=name,
    )


def help_request_escalated(
    *, name: str, help_request, who: str, run, hours: int, mentors: list[str], link: str
) -> Message:
    mentors_text = ", ".join(mentors) if mentors else _("none assigned")
    return Message(
        subject=_("Help request unanswered for %(hours)d hours: %(who)s") % {"hours": hours, "who": who},
        lines=[
            _("%(who)s (%(run)s) asked for help and nobody has answered. Mentors: %(mentors)s.")
            % {"who": who, "run": run.name, "mentors": mentors_text},
        ],
        items=_aid_items(help_request),
        action_url=link,
        action_label=_("Open the help request"),
        greeting_name=name,
    )


# --- Check-ins and goals --------------------------------------------------------------------


def participant_silent(*, name: str, run, since: datetime.date, link: str) -> Message:
    return Message(
        subject=_("How is it going? A two-minute check-in for %(run)s") % {"run": run.name},
        lines=[
            _("We have not heard from you since %(date)s.") % {"date": format_day(since)},
            _("A short check-in keeps your mentors in the loop: what you did, what comes next, what is in the way."),
        ],
        action_url=link,
        action_label=_("Check in"),
        greeting_name=name,
    )


def goal_check_in_due(*, name: str, goal_title: str, since: datetime.date, cadence_days: int, link: str) -> Message:
    return Message(
        subject=_("Time to check in on your goal: %(goal)s") % {"goal": goal_title},
        lines=[
            ngettext(
                "Your last look at “%(goal)s” was on %(date)s. You asked for a reminder every %(days)d day.",
                "Your last look at “%(goal)s” was on %(date)s. You asked for a reminder every %(days)d days.",
                cadence_days,
            )
            % {"goal": goal_title, "date": format_day(since), "days": cadence_days},
            _("Update your key results and say how confident you feel; it takes a few minutes."),
        ],
        action_url=link,
        action_label=_("Check in on my goal"),
        greeting_name=name,
    )


# --- Assessment windows -----------------------------------------------------------------------


def assessment_for_participant(*, name: str, window_label: str, run, closes_on, closing: bool, link: str) -> Message:
    values = {"window": window_label, "run": run.name, "date": format_day(closes_on)}
    if closing:
        subject = _("Closing soon: your self-assessment (%(window)s)") % values
        first = _("The %(window)s assessment of %(run)s closes on %(date)s and yours is still missing.") % values
    else:
        subject = _("Self-assessment open: %(window)s") % values
        first = _("The %(window)s assessment of %(run)s is open until %(date)s.") % values
    return Message(
        subject=subject,
        lines=[first, _("Where do you stand today? It takes about ten minutes.")],
        action_url=link,
        action_label=_("Assess myself"),
        greeting_name=name,
    )


def assessment_for_mentor(
    *, name: str, window_label: str, run, closes_on, closing: bool, mentees: list[str], link: str
) -> Message:
    values = {"window": window_label, "run": run.name, "date": format_day(closes_on)}
    if closing:
        subject = _("Closing soon: assessments of your mentees (%(window)s)") % values
        first = _("The %(window)s window of %(run)s closes on %(date)s. Still to assess:") % values
    else:
        subject = _("Assessments open: %(window)s") % values
        first = _("Please assess your mentees in the %(window)s window of %(run)s by %(date)s:") % values
    return Message(
        subject=subject,
        lines=[first],
        items=mentees,
        action_url=link,
        action_label=_("Open my assessments"),
        greeting_name=name,
    )


# --- Digests --------------------------------------------------------------------------------


@dataclass
class RunHealth:
    run_name: str
    overdue: list[str]  # "milestone: 3 enrollments"
    open_help_requests: int
    quiet: list[str]  # participant names


def digest_for_program_managers(
    *, name: str, organization_name: str, week_of: datetime.date, runs: list[RunHealth], link: str
) -> Message:
    lines = [_("How the active runs of %(org)s stand this week:") % {"org": organization_name}]
    items = []
    for health in runs:
        items.append(
            _("%(run)s: %(overdue)d overdue milestones, %(help)d open help requests, %(quiet)d quiet participants")
            % {
                "run": health.run_name,
                "overdue": len(health.overdue),
                "help": health.open_help_requests,
                "quiet": len(health.quiet),
            }
        )
        items.extend(_("%(run)s · overdue: %(what)s") % {"run": health.run_name, "what": o} for o in health.overdue)
        if health.quiet:
            items.append(_("%(run)s · quiet: %(names)s") % {"run": health.run_name, "names": ", ".join(health.quiet)})
    return Message(
        subject=_("Weekly digest of %(org)s, week of %(date)s")
        % {"org": organization_name, "date": format_day(week_of)},
        lines=lines,
        items=items,
        action_url=link,
        action_label=_("Open the outbox and the runs"),
        greeting_name=name,
    )


@dataclass
class MenteeHealth:
    name: str
    run_name: str
    overdue: list[str]
    open_help_requests: int
    last_contact: datetime.date | None


def digest_for_mentor(*, name: str, week_of: datetime.date, mentees: list[MenteeHealth], link: str) -> Message:
    items = []
    for mentee in mentees:
        parts = [
            ngettext("%(count)d overdue milestone", "%(count)d overdue milestones", len(mentee.overdue))
            % {"count": len(mentee.overdue)},
            ngettext("%(count)d open help request", "%(count)d open help requests", mentee.open_help_requests)
            % {"count": mentee.open_help_requests},
        ]
        if mentee.last_contact:
            parts.append(_("last contact %(date)s") % {"date": format_day(mentee.last_contact)})
        items.append(f"{mentee.name} ({mentee.run_name}): " + ", ".join(parts))
    return Message(
        subject=_("Your mentees this week (%(date)s)") % {"date": format_day(week_of)},
        lines=[_("A short look at how your mentees are doing:")],
        items=items,
        action_url=link,
        action_label=_("Open my mentees"),
        greeting_name=name,
    )


# --- The participant's side: welcome, help answers, surveys, a lost link -----------------------


def welcome(*, name: str, run, link: str) -> Message:
    return Message(
        subject=_("Welcome to %(run)s") % {"run": run.name},
        lines=[
            _("You are enrolled in %(run)s of %(program)s (%(start)s to %(end)s).")
            % {
                "run": run.name,
                "program": run.program.name,
                "start": format_day(run.starts_on),
                "end": format_day(run.ends_on),
            },
            _(
                "Your own page is one tap away: your milestones, a two-minute check-in, and help from "
                "your mentors. Keep this email; the link is personal, so please do not share it."
            ),
        ],
        action_url=link,
        action_label=_("Open my page"),
        greeting_name=name,
    )


def help_request_new(*, name: str, help_request, who: str, run, link: str) -> Message:
    return Message(
        subject=_("%(who)s asks for your help") % {"who": who},
        lines=[_("%(who)s (%(run)s) just asked for help:") % {"who": who, "run": run.name}],
        items=_aid_items(help_request),
        action_url=link,
        action_label=_("Answer"),
        greeting_name=name,
    )


def help_request_answered(*, name: str, help_request, answered_by: str, body: str, link: str) -> Message:
    return Message(
        subject=_("%(who)s answered your help request") % {"who": answered_by},
        lines=[
            _("You asked: %(text)s") % {"text": help_request.desired_outcome or help_request.act},
            _("%(who)s wrote:") % {"who": answered_by},
            body,
        ],
        action_url=link,
        action_label=_("Open my page"),
        greeting_name=name,
    )


def survey_invitation(*, name: str, survey, closes_on, reminder: bool, link: str) -> Message:
    values = {"survey": survey.title, "date": format_day(closes_on)}
    if reminder:
        subject = _("Closing soon: %(survey)s") % values
        first = _("The survey “%(survey)s” closes on %(date)s and we have not heard from you yet.") % values
    else:
        subject = _("Your opinion, please: %(survey)s") % values
        first = _("The survey “%(survey)s” is open until %(date)s.") % values
    lines = [first]
    if survey.introduction:
        lines.append(survey.introduction)
    lines.append(
        _("It takes about five minutes. Your answers are anonymous.")
        if survey.is_anonymous
        else _("It takes about five minutes.")
    )
    return Message(
        subject=subject,
        lines=lines,
        action_url=link,
        action_label=_("Answer the survey"),
        greeting_name=name,
    )


def lost_link(*, name: str, run, link: str, valid_days: int) -> Message:
    return Message(
        subject=_("Your link to %(run)s") % {"run": run.name},
        lines=[
            _("Someone (we hope you) asked for a new link to your page in %(run)s.") % {"run": run.name},
            ngettext(
                "The link works for %(days)d day. If you did not ask for it, you can ignore this email.",
                "The link works for %(days)d days. If you did not ask for it, you can ignore this email.",
                valid_days,
            )
            % {"days": valid_days},
        ],
        action_url=link,
        action_label=_("Open my page"),
        greeting_name=name,
    )
