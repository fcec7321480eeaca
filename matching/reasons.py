"""Reasons of a proposed pair, put into words in the active language.

A reason is stored as a code with values (``{"code": "industry", "value": "b2b_saas"}``),
so that a Korean program manager and an English integration read the same proposal in
their own language.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from programs.vocabulary import Area, Industry, Language, Stage, label_of


def reason_text(reason: dict) -> str:
    code = reason.get("code")
    if code == "areas":
        return _("both: %(areas)s") % {"areas": ", ".join(label_of(Area, value) for value in reason.get("values", []))}
    if code == "industry":
        return _("both: %(industry)s") % {"industry": label_of(Industry, reason.get("value", ""))}
    if code == "stage":
        return _("helps at their stage: %(stage)s") % {"stage": label_of(Stage, reason.get("value", ""))}
    if code == "goal":
        return _("mentor wants to practise %(area)s (goal: %(goal)s)") % {
            "area": label_of(Area, reason.get("value", "")),
            "goal": reason.get("goal", ""),
        }
    if code == "language":
        return _("both speak %(language)s") % {"language": label_of(Language, reason.get("value", ""))}
    if code == "no_common_language":
        return _("the mentor does not list %(language)s") % {"language": label_of(Language, reason.get("value", ""))}
    if code == "participant_choice":
        return _("participant's choice no. %(rank)d") % {"rank": reason.get("rank", 0)}
    if code == "mentor_choice":
        return _("mentor's choice no. %(rank)d") % {"rank": reason.get("rank", 0)}
    if code == "seats":
        free, capacity = reason.get("free", 0), reason.get("capacity", 0)
        return ngettext("%(free)d of %(capacity)d seat free", "%(free)d of %(capacity)d seats free", capacity) % {
            "free": free,
            "capacity": capacity,
        }
    if code == "no_seat":
        return _("no mentor has a free seat without a conflict")
    if code == "changed":
        return _("chosen by a program manager")
    return str(code)


def reasons_text(reasons: list[dict]) -> str:
    return "; ".join(reason_text(reason) for reason in reasons)
