"""Writes of mentor matching: preferences, conflicts, proposals and their review.

Accepting a pair creates the mentor assignment through ``programs.services.mentor_assign``,
the one write path of assignments (its capacity and status checks hold here too).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record_bulk
from core.tenancy import require_same_organization
from matching import selectors, solver
from matching.models import MAX_RANK, Conflict, Preference, Proposal, ProposedPair
from mentors.models import Mentor
from programs import services as programs_services
from programs.models import Enrollment, Run

# --- preferences and conflicts ---------------------------------------------------------------


def _ranked(items: list, field: str) -> list:
    if len(items) > MAX_RANK:
        raise ValidationError({field: _("Choose at most %(count)d.") % {"count": MAX_RANK}})
    if len({item.pk for item in items}) != len(items):
        raise ValidationError({field: _("Choose each one only once.")})
    return items


@transaction.atomic
def participant_preferences_set(*, organization, enrollment: Enrollment, mentors: list[Mentor]) -> list[Preference]:
    """The participant's ranked mentor choices for their run (first choice first); replaces earlier ones."""
    require_same_organization(organization, enrollment=enrollment)
    for mentor in mentors:
        require_same_organization(organization, mentors=mentor)
    _ranked(list(mentors), "mentors")
    available = set(selectors.matchable_mentors(organization=organization).values_list("pk", flat=True))
    if any(mentor.pk not in available for mentor in mentors):
        raise ValidationError({"mentors": _("One of these mentors takes no mentees now.")})
    Preference.objects.for_organization(organization).filter(
        enrollment=enrollment, side=Preference.Side.PARTICIPANT
    ).delete()
    preferences = []
    for rank, mentor in enumerate(mentors, start=1):
        preference = Preference(
            organization=organization,
            run=enrollment.run,
            enrollment=enrollment,
            mentor=mentor,
            side=Preference.Side.PARTICIPANT,
            rank=rank,
        )
        preference.full_clean()
        preference.save()
        preferences.append(preference)
    return preferences


@transaction.atomic
def mentor_preferences_set(
    *, organization, run: Run, mentor: Mentor, enrollments: list[Enrollment]
) -> list[Preference]:
    """A mentor's ranked choices of mentees in one run (first choice first); replaces earlier ones."""
    require_same_organization(organization, run=run, mentor=mentor)
    for enrollment in enrollments:
        require_same_organization(organization, enrollments=enrollment)
        if enrollment.run_id != run.pk:
            raise ValidationError({"enrollments": _("This enrollment is not part of this run.")})
    _ranked(list(enrollments), "enrollments")
    Preference.objects.for_organization(organization).filter(
        run=run, mentor=mentor, side=Preference.Side.MENTOR
    ).delete()
    preferences = []
    for rank, enrollment in enumerate(enrollments, start=1):
        preference = Preference(
            organization=organization,
            run=run,
            enrollment=enrollment,
            mentor=mentor,
            side=Preference.Side.MENTOR,
            rank=rank,
        )
        preference.full_clean()
        preference.save()
        preferences.append(preference)
    return preferences


@transaction.atomic
def conflict_mark(*, organization, mentor: Mentor, enrollment: Enrollment, note: str = "") -> Conflict:
    """A program manager rules a pair out; marking it again keeps the first mark (and updates the note)."""
    require_same_organization(organization, mentor=mentor, enrollment=enrollment)
    conflict = Conflict.objects.for_organization(organization).filter(mentor=mentor, enrollment=enrollment).first()
    if conflict is None:
        conflict = Conflict(organization=organization, mentor=mentor, enrollment=enrollment)
    conflict.note = note.strip()
    conflict.full_clean()
    conflict.save()
    return conflict


@transaction.atomic
def conflict_remove(*, organization, conflict: Conflict) -> None:
    require_same_organization(organization, conflict=conflict)
    conflict.delete()


# --- proposals -------------------------------------------------------------------------------


@transaction.atomic
def proposal_create(*, organization, run: Run, created_by=None) -> Proposal:
    """Propose a mentor for every enrollment of the run that has none yet (see ``matching.solver``)."""
    require_same_organization(organization, run=run)
    if run.status == Run.Status.FINISHED:
        raise ValidationError({"run": _("This run is finished; there is nobody to match.")})
    matching = selectors.matching_input(organization=organization, run=run)
    proposal = Proposal(organization=organization, run=run, created_by=created_by)
    proposal.full_clean()
    proposal.save()
    pairs = [
        ProposedPair(
            organization=organization,
            proposal=proposal,
            # The loaded rows, not ids: the audit trail names each pair without a query per row.
            enrollment=matching.enrollments[pair.mentee_id],
            mentor=matching.mentors.get(pair.mentor_id) if pair.mentor_id else None,
            score=pair.score,
            reasons=pair.reasons,
        )
        for pair in solver.solve(matching.problem)
    ]
    ProposedPair.objects.bulk_create(pairs)
    audit_record_bulk(instances=pairs, created=True)
    return proposal


def _refuse_if_accepted(pair: ProposedPair) -> None:
    if pair.is_accepted:
        raise ValidationError({"pair": _("%(enrollment)s is already accepted.") % {"enrollment": pair.enrollment}})


def _locked(organization, pair: ProposedPair) -> ProposedPair:
    """The pair, re-read under a row lock: two reviewers cannot accept or change it at once."""
    return (
        ProposedPair.objects.for_organization(organization)
        .select_for_update(of=("self",))
        .select_related("proposal", "proposal__run", "enrollment", "enrollment__participant", "mentor", "mentor__user")
        .get(pk=pair.pk)
    )


@transaction.atomic
def pair_accept(*, organization, pair: ProposedPair) -> ProposedPair:
    """Accept one pair: the mentor is assigned to the enrollment (``programs.services.mentor_assign``)."""
    require_same_organization(organization, pair=pair)
    pair = _locked(organization, pair)
    _refuse_if_accepted(pair)
    if pair.mentor is None:
        raise ValidationError(
            {"mentor": _("Choose a mentor for %(enrollment)s first.") % {"enrollment": pair.enrollment}}
        )
    assignment = programs_services.mentor_assign(
        organization=organization, run=pair.proposal.run, mentor=pair.mentor, enrollment=pair.enrollment
    )
    pair.assignment = assignment
    pair.accepted_at = timezone.now()
    pair.full_clean()
    pair.save(update_fields=["assignment", "accepted_at", "updated_at"])
    return pair


@transaction.atomic
def proposal_accept_all(*, organization, proposal: Proposal) -> list[ProposedPair]:
    """Accept every pair that has a mentor, all or none: one refusal (a seat taken meanwhile) saves nothing."""
    require_same_organization(organization, proposal=proposal)
    pending = (
        ProposedPair.objects.for_organization(organization)
        .filter(proposal=proposal, accepted_at__isnull=True, mentor__isnull=False)
        .order_by("id")
    )
    return [pair_accept(organization=organization, pair=pair) for pair in pending]


@transaction.atomic
def proposal_pairs_accept(*, organization, pairs: list[ProposedPair]) -> list[ProposedPair]:
    """Accept some pairs, all or none."""
    return [pair_accept(organization=organization, pair=pair) for pair in pairs]


def _check_new_mentor(organization, pair: ProposedPair, mentor: Mentor, *, seats_taken: dict[int, int]) -> None:
    if selectors.is_conflicted(organization=organization, mentor=mentor, enrollment=pair.enrollment):
        raise ValidationError(
            {
                "mentor": _("%(mentor)s has a conflict with %(enrollment)s.")
                % {"mentor": mentor, "enrollment": pair.enrollment}
            }
        )
    if mentor.status not in selectors.MATCHABLE_MENTOR_STATUSES:
        raise ValidationError({"mentor": _("%(mentor)s takes no mentees now.") % {"mentor": mentor}})
    load = selectors.mentor_loads(organization=organization, run=pair.proposal.run).get(mentor.pk, 0)
    if load + seats_taken.get(mentor.pk, 0) >= mentor.capacity:
        raise ValidationError(
            {
                "mentor": _("%(mentor)s has no free seat left in this proposal (capacity %(capacity)d).")
                % {"mentor": mentor, "capacity": mentor.capacity}
            }
        )


def _rescore(organization, pair: ProposedPair) -> None:
    """Score and reasons of the pair's (new) mentor, worded like the solver's, plus "chosen by a PM"."""
    if pair.mentor is None:
        pair.score, pair.reasons = 0, [{"code": "no_seat"}]
        return
    matching = selectors.matching_input(organization=organization, run=pair.proposal.run)
    mentee = selectors.mentee_of(pair.enrollment)
    mentor = next((m for m in matching.problem.mentors if m.id == pair.mentor_id), None)
    if mentor is None:  # paused meanwhile: keep the words, the assignment service will refuse
        return
    pair.score, reasons = solver.pair_fit(matching.problem, mentee, mentor)
    pair.reasons = [*reasons, {"code": "seats", "free": mentor.free, "capacity": mentor.capacity}, {"code": "changed"}]


@transaction.atomic
def pair_mentor_change(*, organization, pair: ProposedPair, mentor: Mentor) -> ProposedPair:
    """The program manager proposes another mentor for one enrollment (capacity and conflicts still hold)."""
    require_same_organization(organization, pair=pair, mentor=mentor)
    pair = _locked(organization, pair)
    _refuse_if_accepted(pair)
    if pair.mentor_id == mentor.pk:
        return pair
    Mentor.objects.for_organization(organization).select_for_update().filter(pk=mentor.pk).first()
    seats = selectors.pending_pairs_per_mentor(organization=organization, proposal=pair.proposal)
    _check_new_mentor(organization, pair, mentor, seats_taken=seats)
    pair.mentor = mentor
    _rescore(organization, pair)
    pair.full_clean()
    pair.save(update_fields=["mentor", "score", "reasons", "updated_at"])
    return pair


@transaction.atomic
def pairs_swap(*, organization, pair: ProposedPair, other: ProposedPair) -> tuple[ProposedPair, ProposedPair]:
    """Exchange the mentors of two pairs of one proposal (seats stay as they were; conflicts still hold)."""
    require_same_organization(organization, pair=pair, other=other)
    first, second = sorted([pair, other], key=lambda p: p.pk)  # lock in one order: no deadlock
    first, second = _locked(organization, first), _locked(organization, second)
    if first.pk == second.pk or first.proposal_id != second.proposal_id:
        raise ValidationError({"other": _("Choose another pair of the same proposal.")})
    _refuse_if_accepted(first)
    _refuse_if_accepted(second)
    for this, mentor in ((first, second.mentor), (second, first.mentor)):
        if mentor is not None and selectors.is_conflicted(
            organization=organization, mentor=mentor, enrollment=this.enrollment
        ):
            raise ValidationError(
                {
                    "other": _("%(mentor)s has a conflict with %(enrollment)s.")
                    % {"mentor": mentor, "enrollment": this.enrollment}
                }
            )
    first.mentor, second.mentor = second.mentor, first.mentor
    for this in (first, second):
        _rescore(organization, this)
        this.full_clean()
        this.save(update_fields=["mentor", "score", "reasons", "updated_at"])
    return (first, second) if first.pk == pair.pk else (second, first)
