"""Demo data of matching: needs per enrollment, choices of the two founders without a mentor, a proposal.

Runs after ``programs`` and ``mentors`` (``seed_demo``'s order): the programs demo leaves the
last two current enrollments of each run without a mentor, the mentors demo fills in the
mentors' matching profiles. Idempotent: needs are set once, the proposal made once per run.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from matching import selectors, services
from programs import services as programs_services
from programs.models import Enrollment, Run
from programs.selectors import CURRENT_ENROLLMENT_STATUSES
from programs.vocabulary import Area, Industry, Stage

WISHES = {
    "ko": ["B2B 영업을 직접 해 본 분이면 좋겠어요.", "가격을 정하는 법을 함께 고민해 줄 분", ""],
    "en": ["Someone who has sold to small businesses.", "Help me think through pricing, every two weeks.", ""],
}


def _seed_organization(organization, pm, log: Callable[[str], None]) -> None:
    rng = random.Random(f"matching-demo-{organization.slug}")  # same demo every time  # noqa: S311
    for run in Run.objects.for_organization(organization).filter(status=Run.Status.ACTIVE).order_by("id"):
        enrollments = (
            Enrollment.objects.for_organization(organization)
            .filter(run=run, status__in=CURRENT_ENROLLMENT_STATUSES, archived_at__isnull=True)
            .select_related("participant", "team")
            .order_by("id")
        )
        for index, enrollment in enumerate(enrollments):
            if enrollment.needs:
                continue
            programs_services.enrollment_matching_needs_update(
                organization=organization,
                enrollment=enrollment,
                needs=rng.sample(list(Area.values), 2),
                industry=rng.choice(list(Industry.values)),
                stage=rng.choice(list(Stage.values)),
                mentor_wish=WISHES[organization.language][index % len(WISHES[organization.language])],
            )
        waiting = list(selectors.enrollments_to_match(organization=organization, run=run))
        mentors = list(selectors.matchable_mentors(organization=organization))
        if not waiting or not mentors:
            continue
        for enrollment in waiting:
            if not selectors.participant_choices(organization=organization, enrollment=enrollment):
                services.participant_preferences_set(
                    organization=organization, enrollment=enrollment, mentors=rng.sample(mentors, min(2, len(mentors)))
                )
        if not selectors.proposals_for_run(organization=organization, run=run).exists():
            services.proposal_create(organization=organization, run=run, created_by=pm)
            log(f"{organization.slug}: matching proposal for {len(waiting)} enrollments of {run.name}")


def seed(ctx, log: Callable[[str], None]) -> None:
    _seed_organization(ctx.korean_org, ctx.pm_ko, log)
    _seed_organization(ctx.english_org, ctx.pm_en, log)
