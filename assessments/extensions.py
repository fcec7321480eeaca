"""Where other apps add to the pages ``assessments`` owns, so that ``assessments`` imports none of them.

* The surveys' changelist shows response rates: who was invited (notifications knows, from
  its outbox) and who answered. An annotator registered here adds ``invited_participants``,
  ``invited_mentors``, ``answered_participants`` and ``answered_mentors`` to the queryset;
  without one the columns show "–".

Apps register at start-up, in their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable

_survey_annotators: list[Callable[..., object]] = []


def register_survey_annotator(annotate: Callable[..., object]) -> None:
    """``annotate(queryset, *, organization)`` returns the surveys' queryset with more columns."""
    if annotate not in _survey_annotators:
        _survey_annotators.append(annotate)


def annotate_surveys(queryset, *, organization):
    for annotate in _survey_annotators:
        queryset = annotate(queryset, organization=organization)
    return queryset
