"""Demo data: default frameworks, a finished pre window, an open post window, a value-gap survey.

Builds on the runs, enrollments and mentors that the programs and mentors demos
created; without them it creates only the frameworks and says so. Idempotent.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from assessments import selectors, services
from assessments.models import Assessment, AssessmentWindow, SurveyResponse, ValueSurvey
from core import rls
from mentors.models import Mentor
from programs.models import Enrollment, MentorAssignment, Run

# Per participant (cycled): consensus before, self-rating before, growth, self-rating after minus consensus after.
PRE_LEVELS = [1, 0, 2, 1, 1, 0, 2, 1]
SELF_OVER_PRE = [1, 2, 0, 1, 2, 1, 1, 0]
GROWTH = [2, 1, 1, 1, 0, 2, 1, 2]
SELF_OVER_POST = [0, 1, 0, -1, 1, 0, 0, 1]

TEXT = {
    "ko": {
        "self_pre": "아직 고객을 직접 만나 본 적이 거의 없습니다. 아이디어는 팀 안에서 정했습니다.",
        "self_post": "3주 동안 고객 인터뷰 12번을 했고, 그 결과로 가격 구조를 바꿨습니다.",
        "mentor_pre": "첫 미팅에서 고객 이야기보다 기능 목록을 먼저 꺼냈습니다. 인터뷰 계획이 없습니다.",
        "mentor_post": "매주 인터뷰 메모를 공유하고, 프로토타입을 고객과 함께 고치고 있습니다.",
        "pm_pre": "체크인에서 고객 검증 활동이 보이지 않습니다.",
        "pm_post": "체크인마다 고객 피드백과 그에 따른 변경 사항이 적혀 있습니다.",
        "survey_title": "우리가 주는 가치, 여러분이 원하는 가치",
        "survey_intro": "프로그램이 여러분에게 주고 있다고 저희가 믿는 가치들입니다. 솔직하게 답해 주세요.",
        "statements": [
            ("매주 정해진 시간에 받는 1:1 멘토링", "essential", 5),
            ("창업 이론 강의와 교재", "essential", 5),
            ("실제 고객을 만나 가설을 검증할 기회", "enabler", 3),
            ("투자자에게 소개되는 데모데이", "enabler", 4),
            ("같은 고민을 나누는 동료 창업가 네트워크", "energizer", 2),
            ("수료 기념품과 네트워킹 파티", "energizer", 3),
        ],
        "values": [
            "실패를 솔직하게 말해도 괜찮은 분위기\n현장에서 고객 인터뷰 요령을 배우는 것",
            "빠른 피드백",
            "다른 팀의 시행착오를 가까이서 보는 것",
            "멘토가 내 상황을 기억해 주는 것",
        ],
        "improve": ["강의 시간을 줄이고 고객 인터뷰 실습을 늘려 주세요.", "멘토링 일정을 더 유연하게 잡고 싶습니다."],
        "stop": ["형식적인 주간 보고서", "긴 이론 강의"],
        "mentor_values": "내 방식으로 멘토링을 설계할 수 있는 자유\n다른 멘토들과 경험을 나누는 자리",
        "mentor_improve": "멘티의 지난 체크인을 미리 볼 수 있으면 좋겠습니다.",
        "mentor_stop": "모든 멘토에게 같은 커리큘럼을 강요하는 것",
    },
    "en": {
        "self_pre": "I have barely spoken to customers yet. We chose the idea inside the team.",
        "self_post": "Twelve customer interviews in three weeks; we changed our pricing because of them.",
        "mentor_pre": "Opened our first meeting with a feature list, not with customers. No interview plan yet.",
        "mentor_post": "Shares interview notes every week and now reworks the prototype together with customers.",
        "pm_pre": "Check-ins show no customer validation so far.",
        "pm_post": "Every check-in names customer feedback and what changed because of it.",
        "survey_title": "What we deliver, and what you value",
        "survey_intro": "These are the values we believe the programme gives you. Please answer honestly.",
        "statements": [
            ("Weekly one-to-one mentoring at a fixed time", "essential", 5),
            ("Lectures and reading on startup theory", "essential", 5),
            ("Chances to test assumptions with real customers", "enabler", 3),
            ("A demo day in front of investors", "enabler", 4),
            ("A network of founders facing the same problems", "energizer", 2),
            ("Graduation gifts and networking parties", "energizer", 3),
        ],
        "values": [
            "Being able to talk about failure openly\nLearning how to interview customers in the field",
            "Fast feedback",
            "Seeing other teams' mistakes up close",
            "A mentor who remembers my situation",
        ],
        "improve": ["Fewer lectures, more practice interviewing customers.", "More flexible mentoring slots."],
        "stop": ["Box-ticking weekly reports", "Long theory lectures"],
        "mentor_values": "Freedom to design my own mentoring approach\nTime to swap experiences with other mentors",
        "mentor_improve": "Let me see my mentee's recent check-ins before we meet.",
        "mentor_stop": "Forcing the same curriculum on every mentor",
    },
}

# Participants' (importance, satisfaction) per statement, before a small per-person variation.
PARTICIPANT_RATINGS = [(3, 4), (2, 3), (5, 2), (4, 3), (5, 4), (2, 4)]
MENTOR_RATINGS = [(3, 3), (2, 2), (5, 3), (3, 3), (4, 3), (1, 3)]


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _window(organization, run, framework, kind, opens_at, closes_at) -> AssessmentWindow:
    existing = AssessmentWindow.objects.for_organization(organization).filter(run=run, kind=kind).first()
    if existing is not None:
        return existing
    return services.assessment_window_create(
        organization=organization, run=run, framework=framework, kind=kind, opens_at=opens_at, closes_at=closes_at
    )


def _assess(*, organization, window, levels, enrollment, role, level_number, notes, at, **assessor) -> int:
    assessment = Assessment(subject_enrollment=enrollment, assessor_role=role, **assessor)
    assessment.compute_keys()
    if selectors.assessment_find(
        organization=organization,
        window=window,
        subject_key=assessment.subject_key,
        assessor_key=assessment.assessor_key,
    ):
        return 0
    services.assessment_submit(
        organization=organization,
        window=window,
        subject_enrollment=enrollment,
        assessor_role=role,
        level=levels[_clamp(level_number, 0, len(levels) - 1)],
        notes=notes,
        now=at,
        **assessor,
    )
    return 1


def _seed_assessments(ctx, organization, run, enrollments, framework, text, log) -> None:
    now = timezone.now()
    levels = list(selectors.level_list(organization=organization, framework=framework))
    pm = ctx.pm_ko if organization.pk == ctx.korean_org.pk else ctx.pm_en
    mentor_of = {
        a.enrollment_id: a.mentor
        for a in MentorAssignment.objects.for_organization(organization)
        .filter(run=run, enrollment__in=enrollments)
        .select_related("mentor")
        .order_by("id")
    }
    pre = _window(organization, run, framework, "pre", now - timedelta(days=60), now - timedelta(days=46))
    post = _window(organization, run, framework, "post", now - timedelta(days=4), now + timedelta(days=10))
    created = 0
    for index, enrollment in enumerate(enrollments):
        i = index % len(PRE_LEVELS)
        before = PRE_LEVELS[i]
        after = _clamp(before + GROWTH[i], 0, 5)
        mentor = mentor_of.get(enrollment.pk)
        plan = [(pre, before, before + SELF_OVER_PRE[i], "pre", pre.opens_at + timedelta(days=1, hours=index))]
        if index % 4 != 3:  # a few have not answered the open post window yet
            plan.append((post, after, after + SELF_OVER_POST[i], "post", post.opens_at + timedelta(hours=2 + index)))
        for window, consensus, self_level, phase, at in plan:
            created += _assess(
                organization=organization,
                window=window,
                levels=levels,
                enrollment=enrollment,
                role=Assessment.Role.SELF,
                level_number=self_level,
                notes=text[f"self_{phase}"],
                at=at,
            )
            if mentor is not None:
                created += _assess(
                    organization=organization,
                    window=window,
                    levels=levels,
                    enrollment=enrollment,
                    role=Assessment.Role.MENTOR,
                    level_number=consensus,
                    notes=text[f"mentor_{phase}"],
                    at=at + timedelta(days=1),
                    assessor_mentor=mentor,
                )
            # The program manager sometimes sees a little more, sometimes a little less.
            created += _assess(
                organization=organization,
                window=window,
                levels=levels,
                enrollment=enrollment,
                role=Assessment.Role.PM,
                level_number=consensus + (1 if index % 3 == 0 and mentor is None else 0),
                notes=text[f"pm_{phase}"],
                at=at + timedelta(days=2),
                assessor_user=pm,
            )
    log(f"assessments in {organization.name}: {run.name}, pre (closed) and post (open) windows, {created} new")


def _seed_survey(organization, run, enrollments, text, log) -> None:
    now = timezone.now()
    survey = (
        ValueSurvey.objects.for_organization(organization)
        .filter(program=run.program, title=text["survey_title"])
        .first()
    )
    if survey is None:
        survey = services.value_survey_create(
            organization=organization,
            program=run.program,
            run=run,
            title=text["survey_title"],
            introduction=text["survey_intro"],
            opens_at=now - timedelta(days=12),
            closes_at=now + timedelta(days=9),
            statements=[
                {"text": t, "tier": tier, "predicted_importance": predicted}
                for t, tier, predicted in text["statements"]
            ],
        )
    statements = list(selectors.survey_statements(organization=organization, survey=survey))
    created = 0

    def answer(*, index, base, enrollment=None, mentor=None, own_values="", improve="", stop=""):
        key = services.respondent_key(survey=survey, enrollment=enrollment, mentor=mentor)
        if SurveyResponse.objects.for_organization(organization).filter(survey=survey, respondent_key=key).exists():
            return 0
        ratings = {}
        for position, statement in enumerate(statements):
            importance, satisfaction = base[position % len(base)]
            wobble = ((index + position) % 3) - 1  # -1, 0 or +1: people differ a little
            ratings[statement.pk] = (
                _clamp(importance + wobble * (position % 2), 1, 5),
                _clamp(satisfaction - wobble, 1, 5),
            )
        services.survey_response_submit(
            organization=organization,
            survey=survey,
            enrollment=enrollment,
            mentor=mentor,
            ratings=ratings,
            own_values=own_values,
            improve=improve,
            stop=stop,
            now=survey.opens_at + timedelta(days=1, hours=index),
        )
        return 1

    for index, enrollment in enumerate(enrollments[:12]):
        created += answer(
            index=index,
            base=PARTICIPANT_RATINGS,
            enrollment=enrollment,
            own_values=text["values"][index % len(text["values"])],
            improve=text["improve"][index % len(text["improve"])] if index % 2 == 0 else "",
            stop=text["stop"][index % len(text["stop"])] if index % 3 == 0 else "",
        )
    mentors = list(Mentor.objects.for_organization(organization).order_by("id")[:4])
    for index, mentor in enumerate(mentors):
        created += answer(
            index=index,
            base=MENTOR_RATINGS,
            mentor=mentor,
            own_values=text["mentor_values"],
            improve=text["mentor_improve"],
            stop=text["mentor_stop"] if index == 0 else "",
        )
    log(f"value-gap survey in {organization.name}: “{survey.title}”, {created} new responses")


def seed(ctx, log) -> None:
    for organization in ctx.organizations:
        with rls.organization_context(organization.pk):
            _seed_organization(ctx, organization, log)


def _seed_organization(ctx, organization, log) -> None:
    framework = services.framework_create_default(organization=organization)
    text = TEXT["ko" if organization.language == "ko" else "en"]
    runs = list(Run.objects.for_organization(organization).select_related("program").order_by("id"))
    chosen = None
    for run in runs:
        enrollments = list(
            Enrollment.objects.for_organization(organization)
            .filter(run=run, archived_at__isnull=True)
            .select_related("participant", "team")
            .order_by("id")
        )
        if len(enrollments) >= 3 and (chosen is None or run.status == Run.Status.ACTIVE):
            chosen = (run, enrollments)
            if run.status == Run.Status.ACTIVE:
                break
    if chosen is None:
        log(f"assessments: {organization.name} has no run with enrollments yet; only the default framework")
        return
    run, enrollments = chosen
    _seed_assessments(ctx, organization, run, enrollments, framework, text, log)
    _seed_survey(organization, run, enrollments, text, log)
