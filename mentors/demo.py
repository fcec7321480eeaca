"""Demo data of the mentors app: mentor profiles, development goals with weeks of check-ins,
sessions with ratings, run essentials and approaches, and one pending invitation.

Idempotent: rows are found by natural keys (mentor + goal title, mentor + date + topics)
and only created when missing. The programs demo runs first and may already have
created the Mentor rows (``get_or_create``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.utils import timezone

from core.demo import DemoContext
from core.models import Membership
from core.services import membership_grant
from mentors import selectors, services
from mentors.models import (
    DevelopmentGoal,
    GoalCheckIn,
    KeyResult,
    Mentor,
    MentoringSession,
    MentorInvitation,
    RunMentoringEssentials,
)

PROFILES = {
    "ko": {
        "expertise": ["고객 인터뷰", "B2B 영업", "가격 전략"],
        "bio": "B2B SaaS 스타트업을 두 번 창업했고 지금은 엔젤 투자자로 활동합니다.",
        "motivation": "조언을 넘어 코칭하는 법을 배우고, 여러 조직에서 멘토링하며 제 커리어를 넓히고 싶습니다.",
        "availability": "평일 저녁, 격주",
        "other_affiliations": "서울 핀테크 액셀러레이터 멘토",
    },
    "en": {
        "expertise": ["customer discovery", "pricing", "fundraising"],
        "bio": "Two-time founder (marketplaces), now advising early-stage teams.",
        "motivation": "I want to get better at coaching rather than telling, and build a portfolio career.",
        "availability": "Tuesday and Thursday afternoons",
        "other_affiliations": "Mentor at a university venture lab",
    },
}

# The matching profile (codes of programs.vocabulary), set once per mentor.
MATCHING_PROFILES = {
    "ko": {
        "expertise_areas": ["customer_discovery", "sales", "pricing"],
        "industries": ["b2b_saas", "commerce"],
        "stages": ["validation", "mvp", "early_revenue"],
        "languages": ["ko", "en"],
    },
    "en": {
        "expertise_areas": ["customer_discovery", "pricing", "fundraising"],
        "industries": ["consumer", "commerce"],
        "stages": ["idea", "validation", "mvp"],
        "languages": ["en"],
    },
}

GOALS = {
    "ko": [
        {
            "title": "첫 창업자 워크숍 진행하기",
            "why_it_matters": "한 번에 여러 팀을 돕는 것이 멘토로서 다음 단계입니다.",
            "visibility": DevelopmentGoal.Visibility.SHARED,
            "practice_areas": ["pitching", "team"],
            "key_results": [
                {"title": "진행한 워크숍", "start_value": 0, "target_value": 2, "unit": "회"},
                {"title": "참가자 만족도", "start_value": 3, "target_value": "4.5", "unit": "점"},
            ],
            "readings": [(0, 3), (0, 3), (1, "3.8"), (1, "4.1")],
            "statuses": ["on_track", "behind", "on_track", "on_track"],
            "notes": ["장소를 알아보는 중", "일정이 밀렸습니다", "첫 워크숍 완료!", "피드백 반영해서 개선"],
        },
        {
            "title": "코칭 대화 기술 익히기",
            "why_it_matters": "답을 주기보다 질문으로 창업자가 스스로 찾게 돕고 싶습니다.",
            "visibility": DevelopmentGoal.Visibility.PRIVATE,
            "key_results": [{"title": "질문 중심 세션", "start_value": 0, "target_value": 10, "unit": "회"}],
            "readings": [(2,), (4,), (5,)],
            "statuses": ["on_track", "at_risk", "on_track"],
            "notes": ["책 한 권 읽음", "바빠서 연습을 못 했어요", "다시 궤도에"],
        },
    ],
    "en": [
        {
            "title": "Give a talk on pricing experiments",
            "why_it_matters": "Speaking helps me reach more founders and sharpens my own thinking.",
            "visibility": DevelopmentGoal.Visibility.SHARED,
            "practice_areas": ["pricing"],
            "key_results": [
                {"title": "Talks given", "start_value": 0, "target_value": 1, "unit": "talks"},
                {"title": "Case studies written", "start_value": 0, "target_value": 3, "unit": "cases"},
            ],
            "readings": [(0, 1), (0, 2), (0, 3), (1, 3)],
            "statuses": ["on_track", "on_track", "behind", "done"],
            "notes": ["Outline drafted", "Second case from a mentee", "Venue fell through", "Delivered at the meetup"],
        },
        {
            "title": "Practise coaching over advising",
            "why_it_matters": "My mentees learn more when they find the answer themselves.",
            "visibility": DevelopmentGoal.Visibility.PRIVATE,
            "key_results": [
                {"title": "Sessions led with questions only", "start_value": 0, "target_value": 8, "unit": "sessions"}
            ],
            "readings": [(1,), (3,), (4,)],
            "statuses": ["on_track", "on_track", "behind"],
            "notes": ["Tried the GROW model", "Two good sessions", "Slipped back into advice mode"],
        },
    ],
}

SESSIONS = {
    "ko": [
        ("고객 인터뷰 질문 다듬기", "인터뷰 질문 12개를 함께 검토했습니다.", "다음 주까지 인터뷰 5건"),
        ("가격 실험 설계", "세 가지 가격 안을 비교하는 랜딩 페이지를 설계했습니다.", "광고 10만 원으로 실험"),
        ("데모데이 발표 리허설", "발표 흐름을 문제-해결-증거 순으로 바꿨습니다.", "3분 버전 연습"),
    ],
    "en": [
        ("Sharpening interview questions", "Reviewed twelve interview questions together.", "Five interviews"),
        ("Designing a pricing test", "Set up a landing page with three price points.", "Run it for a week"),
        ("Demo day rehearsal", "Reordered the pitch: problem, solution, proof.", "Practise the 3-minute cut"),
    ],
}

ESSENTIALS = {
    "ko": "격주로 모든 멘티와 1:1 만남\n도움 요청에는 48시간 안에 답하기\n세션마다 기록 남기기",
    "en": "Meet every mentee one-to-one every two weeks\nAnswer help requests within 48 hours\nLog every session",
}

CONFIDENCE_BY_STATUS = {"on_track": 4, "done": 5, "behind": 2, "at_risk": 2}

RATING_COMMENTS = {
    "ko": ["질문이 날카로워서 많이 배웠어요.", "바로 해볼 수 있는 과제를 받았어요.", ""],
    "en": ["Very concrete next steps.", "Great questions, made me think.", ""],
}


def _mentor(organization, user, language: str) -> Mentor:
    mentor, created = Mentor.objects.for_organization(organization).get_or_create(
        organization=organization, user=user, defaults={"status": Mentor.Status.ACTIVE, **PROFILES[language]}
    )
    if not created and not mentor.bio:
        services.mentor_profile_update(organization=organization, mentor=mentor, **PROFILES[language])
    if not mentor.expertise_areas:
        services.mentor_matching_profile_update(organization=organization, mentor=mentor, **MATCHING_PROFILES[language])

    if not Membership.objects.for_organization(organization).filter(user=user).exists():
        membership_grant(organization=organization, user=user, role=Membership.Role.MENTOR)
    return mentor


def _goals(organization, mentor: Mentor, language: str, log: Callable[[str], None]) -> None:
    now = timezone.now()
    for spec in GOALS[language]:
        goal = DevelopmentGoal.objects.for_organization(organization).filter(mentor=mentor, title=spec["title"]).first()
        if goal is not None:
            continue
        goal = services.goal_create(
            organization=organization,
            mentor=mentor,
            title=spec["title"],
            why_it_matters=spec["why_it_matters"],
            visibility=spec["visibility"],
            practice_areas=spec.get("practice_areas", ()),
            target_date=timezone.localdate() + datetime.timedelta(days=60),
            key_results=spec["key_results"],
        )
        weeks = len(spec["readings"])
        started = now - datetime.timedelta(weeks=weeks + 1)
        DevelopmentGoal.objects.for_organization(organization).filter(pk=goal.pk).update(created_at=started)
        key_results = list(KeyResult.objects.for_organization(organization).filter(goal=goal).order_by("id"))
        for week, (reading, status, note) in enumerate(
            zip(spec["readings"], spec["statuses"], spec["notes"], strict=True), start=1
        ):
            check_in = services.goal_check_in(
                organization=organization,
                goal=goal,
                confidence=CONFIDENCE_BY_STATUS[status],
                values={kr.pk: Decimal(str(value)) for kr, value in zip(key_results, reading, strict=False)},
                note=note,
                status=status,
            )
            GoalCheckIn.objects.for_organization(organization).filter(pk=check_in.pk).update(
                created_at=started + datetime.timedelta(weeks=week)
            )
        log(f"goal for {mentor}: {goal.title} ({weeks} check-ins)")


def _sessions(organization, mentor: Mentor, language: str, log: Callable[[str], None]) -> None:
    mentees = list(selectors.mentee_enrollments(organization=organization, mentor=mentor)[:2])
    today = timezone.localdate()
    for index, (topics, notes, next_steps) in enumerate(SESSIONS[language]):
        held_on = today - datetime.timedelta(days=7 + 14 * index)
        if MentoringSession.objects.for_organization(organization).filter(mentor=mentor, topics=topics).exists():
            continue
        session = services.session_log(
            organization=organization,
            mentor=mentor,
            held_on=held_on,
            duration_minutes=45 + 15 * (index % 2),
            topics=topics,
            notes=notes,
            next_steps=next_steps,
            attendees=mentees,
            request_ratings=False,
        )
        for number, participant in enumerate(
            selectors.session_participants(organization=organization, session=session)
        ):
            services.session_rate(
                organization=organization,
                session=session,
                participant=participant,
                score=5 - (index + number) % 2,
                comment=RATING_COMMENTS[language][(index + number) % 3],
            )
        log(f"session of {mentor}: {held_on} {topics}")


def _essentials_and_approaches(organization, mentors: list[Mentor], language: str) -> None:
    for mentor in mentors:
        for run in selectors.runs_for_mentor(organization=organization, mentor=mentor):
            if not RunMentoringEssentials.objects.for_organization(organization).filter(run=run).exists():
                essentials = RunMentoringEssentials(organization=organization, run=run, essentials=ESSENTIALS[language])
                essentials.full_clean()
                essentials.save()
            if selectors.approach_for_run(organization=organization, mentor=mentor, run=run) is None:
                services.approach_save(
                    organization=organization,
                    mentor=mentor,
                    run=run,
                    format="1:1 화상 미팅" if language == "ko" else "1:1 video calls",
                    cadence="격주" if language == "ko" else "every two weeks",
                    focus="고객 인터뷰와 가격 실험" if language == "ko" else "customer interviews and pricing tests",
                )


def seed(ctx: DemoContext, log: Callable[[str], None]) -> None:
    plan = [
        (ctx.korean_org, "ko", [ctx.mentor_ko, ctx.shared_mentor]),
        (ctx.english_org, "en", [ctx.mentor_en, ctx.shared_mentor]),
    ]
    for organization, language, users in plan:
        mentors = [_mentor(organization, user, language) for user in users]
        for mentor in mentors:
            _goals(organization, mentor, language, log)
            _sessions(organization, mentor, language, log)
        _essentials_and_approaches(organization, mentors, language)
        email = "new.mentor@hanbit.example" if language == "ko" else "new.mentor@northwind.example"
        if not MentorInvitation.objects.for_organization(organization).filter(email=email).exists():
            services.invitation_create(
                organization=organization,
                email=email,
                name="최유나" if language == "ko" else "Ava Brooks",
                language=language,
                invited_by=ctx.pm_ko if language == "ko" else ctx.pm_en,
                send_email=False,
            )
            log(f"pending mentor invitation: {email}")
    ctx.extra["mentors"] = {
        "korean": [m.pk for m in selectors.mentors_list(organization=ctx.korean_org)],
        "english": [m.pk for m in selectors.mentors_list(organization=ctx.english_org)],
    }
