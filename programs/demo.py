"""Demo data of the programs app: a running cohort in each organization.

Korean organization in Korean, English organization in English. Dates are relative
to the day the demo is first seeded (the run started five weeks ago, demo day is in
three weeks), so the demo always looks like a cohort in full swing: some milestones
done, some overdue, a few help requests waiting, some participants gone quiet.
Idempotent: an existing run is left as it is.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from programs import selectors, services
from programs.models import (
    CheckIn,
    Enrollment,
    HelpRequest,
    HelpRequestReply,
    MentorAssignment,
    Milestone,
    MilestoneProgress,
    MilestoneTemplate,
    Participant,
    Program,
    Run,
    Team,
)


@dataclass(frozen=True)
class Copy:
    """Everything the demo says, in one language."""

    language: str
    program: str
    description: str
    promised_value: str
    run: str
    templates: list[tuple[str, int, str]]
    people: list[tuple[str, str, str]]  # name, company, stage
    teams: list[tuple[str, list[str]]]  # team name, member names (also in people)
    successes: list[str]
    commitments: list[str]
    check_ins: list[tuple[str, str, str]]  # done, next, blockers
    help_requests: list[tuple[str, str, str]]
    replies: list[str]
    tags: list[str]


KOREAN = Copy(
    language="ko",
    program="고객 발견 부트캠프",
    description="10주 동안 고객을 직접 만나 문제를 검증하고 첫 유료 고객을 찾는 과정입니다.",
    promised_value="풀 가치가 있는 고객 문제를 찾고, 그 문제를 가진 첫 고객 10명을 확보합니다.",
    run="12기",
    templates=[
        ("고객 문제 가설 정의", 42, "누가, 어떤 상황에서, 무엇 때문에 불편한지 한 쪽으로 정리"),
        ("고객 인터뷰 20건", 35, "인터뷰 노트 20건과 반복되는 패턴 요약"),
        ("문제-해결 적합성 검증", 28, "가장 아픈 문제 3개와 해결 가설, 검증 결과"),
        ("MVP 프로토타입", 21, "고객이 직접 써 볼 수 있는 최소 기능 제품"),
        ("첫 유료 고객 실험", 14, "가격을 붙인 제안과 전환 결과"),
        ("피치덱 초안", 7, "10장 이내의 피치덱"),
        ("데모데이 리허설", 2, "5분 발표 리허설 영상"),
    ],
    people=[
        ("김민준", "민준랩", "아이디어"),
        ("이서연", "서연바이오", "MVP"),
        ("박지훈", "로컬픽", "초기 매출"),
        ("최유나", "유나스튜디오", "아이디어"),
        ("정도현", "핏메이트", "MVP"),
        ("강하은", "하은에듀", "MVP"),
        ("조승우", "팜링크", "아이디어"),
        ("윤지아", "펫케어랩", "초기 매출"),
        ("장현우", "모빌리티원", "MVP"),
        ("임수빈", "그린패키지", "아이디어"),
        ("한예린", "시니어온", "MVP"),
        ("오태윤", "코드브릿지", "초기 매출"),
        ("서지민", "푸드로그", "아이디어"),
        ("신동현", "리걸노트", "MVP"),
        ("권나연", "마음숲", "아이디어"),
        ("황준서", "스마트팜스", "MVP"),
        ("안소율", "클래스메이트", "아이디어"),
        ("송민재", "빌딩데이터", "초기 매출"),
        ("류하린", "리턴박스", "아이디어"),
        ("전우진", "리턴박스", "아이디어"),
        ("홍채원", "바른식탁", "MVP"),
        ("문재혁", "바른식탁", "MVP"),
    ],
    teams=[("리턴박스 팀", ["류하린", "전우진"]), ("바른식탁 팀", ["홍채원", "문재혁"])],
    successes=[
        "데모데이 전까지 돈을 내는 고객 10명",
        "고객 인터뷰로 우리가 풀 문제를 하나로 좁히기",
        "재구매율 30%를 넘기는 것",
        "첫 B2B 계약서에 서명 받기",
        "공동창업자와 역할을 명확히 나누고 주 2회 고객을 만나기",
    ],
    commitments=[
        "매주 고객 5명 인터뷰, 금요일마다 체크인",
        "매일 아침 30분 고객 피드백 정리",
        "멘토 미팅 전날까지 질문을 AID로 정리해 보내기",
        "주 1회 가격 실험",
    ],
    check_ins=[
        ("고객 인터뷰 5건을 했고, 3명이 같은 불편을 말했습니다.", "반복되는 불편으로 해결 가설을 세우겠습니다.", ""),
        ("랜딩 페이지를 열어 사전 신청 12건을 받았습니다.", "신청자 중 5명과 통화하겠습니다.", ""),
        (
            "MVP 첫 버전을 지인 3명에게 보여 줬습니다.",
            "피드백을 반영해 온보딩을 줄이겠습니다.",
            "개발 일정이 밀리고 있어요.",
        ),
        (
            "가격 9,900원으로 결제 테스트를 했습니다.",
            "가격을 두 가지로 나눠 다시 실험하겠습니다.",
            "전환이 거의 없습니다.",
        ),
        ("피치덱 목차를 잡았습니다.", "멘토에게 피드백을 받겠습니다.", ""),
    ],
    help_requests=[
        (
            "가격 9,900원으로 결제 테스트를 2주간 했는데 결제가 1건도 없었습니다.",
            "가격이 문제인지 메시지가 문제인지 몰라 다음 실험을 못 정하고 있습니다.",
            "이번 주 안에 둘을 나눠 볼 수 있는 실험 설계를 함께 보고 싶습니다.",
        ),
        (
            "공동창업자와 MVP 범위를 두고 의견이 갈렸습니다.",
            "개발이 1주째 멈춰 있어 마일스톤이 밀리고 있습니다.",
            "범위를 정하는 기준과 대화 방법에 대해 30분 조언을 받고 싶습니다.",
        ),
        (
            "B2B 고객사 담당자가 보안 검토 서류를 요청했습니다.",
            "서류가 없으면 파일럿 계약이 다음 분기로 미뤄집니다.",
            "초기 스타트업이 준비하는 최소한의 보안 문서 예시를 알고 싶습니다.",
        ),
        (
            "인터뷰 대상자를 찾기가 어렵습니다. 지인 외에는 응답이 없습니다.",
            "인터뷰 20건 마일스톤을 맞추지 못할 것 같습니다.",
            "처음 보는 고객에게 연락하는 방법과 문구를 배우고 싶습니다.",
        ),
        (
            "데모데이 발표 시간이 5분인데 지금 초안은 9분입니다.",
            "핵심 지표가 묻힐까 걱정됩니다.",
            "무엇을 빼야 할지 함께 정리하고 싶습니다.",
        ),
    ],
    replies=[
        "가격은 그대로 두고 메시지만 다른 랜딩 페이지 두 개로 먼저 나눠 보세요. 화요일에 같이 설계해요.",
        "이번 주 목요일 오후에 30분 잡죠. 각자 '꼭 필요한 기능 3개'를 적어 오세요.",
        "제가 쓰던 보안 체크리스트 템플릿을 공유드릴게요. 대부분 1~2일이면 준비됩니다.",
    ],
    tags=["B2C", "B2B", "헬스케어", "교육", "커머스", "소셜임팩트"],
)

ENGLISH = Copy(
    language="en",
    program="Customer Discovery Bootcamp",
    description="Ten weeks of meeting customers, testing the problem and finding the first paying ones.",
    promised_value="Find a customer problem worth solving and the first ten customers who have it.",
    run="Cohort 12",
    templates=[
        ("Problem hypothesis", 42, "One page: who struggles, in which situation, and why"),
        ("20 customer interviews", 35, "Interview notes and a summary of recurring patterns"),
        ("Problem-solution fit", 28, "The three most painful problems, solution hypotheses and test results"),
        ("MVP prototype", 21, "A smallest product customers can try themselves"),
        ("First paid experiment", 14, "An offer with a price, and how many converted"),
        ("Pitch deck draft", 7, "At most ten slides"),
        ("Demo day rehearsal", 2, "A recorded five-minute run-through"),
    ],
    people=[
        ("Amelia Clarke", "Tidy Ledger", "Idea"),
        ("Oliver Bennett", "GreenCrate", "MVP"),
        ("Priya Shah", "CareCircle", "Early revenue"),
        ("Jack Thompson", "FieldNote", "Idea"),
        ("Sophie Turner", "Kinfolk Kitchen", "MVP"),
        ("Mohammed Ali", "RouteWise", "MVP"),
        ("Isla Murray", "Loop Learning", "Idea"),
        ("Noah Williams", "PetPal", "Early revenue"),
        ("Grace Evans", "SolarShare", "MVP"),
        ("Leo Martin", "Fixly", "Idea"),
        ("Chloe Walker", "SilverLink", "MVP"),
        ("Ethan Hughes", "CodeBridge", "Early revenue"),
        ("Freya Wilson", "FoodLog", "Idea"),
        ("Harry Roberts", "LegalNote", "MVP"),
        ("Ava Green", "MindGrove", "Idea"),
        ("Samuel Hall", "SmartFarms", "MVP"),
        ("Mia Wood", "ClassMate", "Idea"),
        ("Daniel King", "BuildData", "Early revenue"),
        ("Ella Wright", "ReturnBox", "Idea"),
        ("Lucas Scott", "ReturnBox", "Idea"),
        ("Zara Khan", "HonestTable", "MVP"),
        ("Finn Cooper", "HonestTable", "MVP"),
    ],
    teams=[("ReturnBox team", ["Ella Wright", "Lucas Scott"]), ("HonestTable team", ["Zara Khan", "Finn Cooper"])],
    successes=[
        "Ten customers paying before demo day",
        "Narrow down to one problem, backed by interviews",
        "A repeat purchase rate above 30%",
        "A signed first B2B contract",
        "Clear roles with my co-founder, and customers twice a week",
    ],
    commitments=[
        "Five customer interviews a week, check in every Friday",
        "Thirty minutes every morning on customer feedback",
        "Send questions in AID form the day before mentor meetings",
        "One pricing experiment a week",
    ],
    check_ins=[
        (
            "Did five interviews; three people described the same pain.",
            "Turn the pattern into a solution hypothesis.",
            "",
        ),
        ("Launched the landing page: 12 sign-ups.", "Call five of them.", ""),
        (
            "Showed the first MVP to three friends.",
            "Shorten onboarding from their feedback.",
            "Development is slipping.",
        ),
        ("Ran a payment test at £9.", "Split into two price points and try again.", "Almost no conversions."),
        ("Outlined the pitch deck.", "Get mentor feedback.", ""),
    ],
    help_requests=[
        (
            "We ran a £9 payment test for two weeks and nobody paid.",
            "We cannot tell if the price or the message is wrong, so we cannot pick the next experiment.",
            "An experiment design that separates the two, this week.",
        ),
        (
            "My co-founder and I disagree on the MVP scope.",
            "Development has stalled for a week and milestones are slipping.",
            "Thirty minutes of advice on how to decide scope and how to have the conversation.",
        ),
        (
            "A B2B prospect asked for security documentation.",
            "Without it the pilot moves to next quarter.",
            "Examples of the minimum security documents an early startup prepares.",
        ),
        (
            "I struggle to find interviewees beyond friends.",
            "I will miss the 20-interview milestone.",
            "How to reach strangers, and what to write to them.",
        ),
        (
            "Demo day gives five minutes; my draft takes nine.",
            "The key metrics get lost.",
            "Help deciding what to cut.",
        ),
    ],
    replies=[
        "Keep the price; run two landing pages with different messages first. Let's design it on Tuesday.",
        "Let's take thirty minutes on Thursday afternoon. Each of you: write down the three must-have features.",
        "I'll share the security checklist template I used; most of it takes a day or two.",
    ],
    tags=["B2C", "B2B", "Health", "Education", "Commerce", "Social impact"],
)


def _mentor(organization, user, *, capacity: int):
    # mentors.Mentor, the model an assignment points to (programs does not import mentors).
    Mentor = MentorAssignment._meta.get_field("mentor").related_model
    mentor, _created = Mentor.objects.for_organization(organization).get_or_create(
        organization=organization, user=user, defaults={"capacity": capacity, "status": Mentor.Status.ACTIVE}
    )
    return mentor


def _backdate(model, organization, pk, when) -> None:
    model.objects.for_organization(organization).filter(pk=pk).update(created_at=when, updated_at=when)


def seed_organization(organization, copy: Copy, *, mentor_users: list, log: Callable[[str], None]) -> Run:
    today = selectors.today_for(organization)
    now = timezone.now()
    rng = random.Random(f"programs-demo-{organization.slug}")  # same demo every time  # noqa: S311

    program = Program.objects.for_organization(organization).filter(name=copy.program).first()
    if program is None:
        program = services.program_create(
            organization=organization,
            name=copy.program,
            description=copy.description,
            promised_value=copy.promised_value,
        )
    existing_templates = set(
        MilestoneTemplate.objects.for_organization(organization).filter(program=program).values_list("name", flat=True)
    )
    for name, days, deliverable in copy.templates:
        if name not in existing_templates:
            services.milestone_template_create(
                organization=organization,
                program=program,
                name=name,
                days_before_deadline=days,
                deliverable=deliverable,
            )

    run = Run.objects.for_organization(organization).filter(program=program, name=copy.run).first()
    if run is not None:
        log(f"{organization.slug}: run “{run.name}” already there")
        return run
    # Demo day on a Friday about three weeks out: weekly milestones then fall on Fridays too.
    deadline = today + datetime.timedelta(days=21)
    deadline += datetime.timedelta(days=(4 - deadline.weekday()) % 7)
    run = services.run_create(
        organization=organization,
        program=program,
        name=copy.run,
        starts_on=today - datetime.timedelta(days=35),
        ends_on=deadline + datetime.timedelta(days=3),
        final_deadline=deadline,
        status=Run.Status.ACTIVE,
        checkin_cadence_days=7,
    )
    milestones = services.run_plan(organization=organization, run=run, accept_before_start=True)

    mentors = [_mentor(organization, user, capacity=12) for user in mentor_users]
    services.mentor_assign(organization=organization, run=run, mentor=mentors[-1])  # run-wide: the shared mentor

    people = {}
    team_members = {member for _team, members in copy.teams for member in members}
    for index, (name, company, stage) in enumerate(copy.people):
        email = f"founder{index + 1:02d}@{organization.slug}.example"
        participant = Participant.objects.for_organization(organization).filter(email=email).first()
        if participant is None:
            participant = services.participant_create(
                organization=organization,
                name=name,
                email=email,
                phone=f"010-{1000 + index * 37:04d}-{2000 + index * 53:04d}" if copy.language == "ko" else "",
                company=company,
                stage=stage,
                tags=rng.sample(copy.tags, 2),
                language=copy.language,
            )
        people[name] = participant

    enrollments: list[Enrollment] = []
    for index, (name, _company, _stage) in enumerate(copy.people):
        if name in team_members:
            continue
        status = Enrollment.Status.ACTIVE
        if index == 6:
            status = Enrollment.Status.DROPPED
        elif index == 13:
            status = Enrollment.Status.APPLIED
        enrollments.append(
            services.enrollment_create(
                organization=organization,
                run=run,
                participant=people[name],
                status=status,
                success_definition=copy.successes[index % len(copy.successes)],
                commitments=copy.commitments[index % len(copy.commitments)],
            )
        )
    for team_name, members in copy.teams:
        team = Team.objects.for_organization(organization).filter(name=team_name).first()
        team = team or services.team_create(
            organization=organization, name=team_name, members=[people[m] for m in members]
        )
        enrollments.append(
            services.enrollment_create(
                organization=organization,
                run=run,
                team=team,
                success_definition=copy.successes[0],
                commitments=copy.commitments[0],
            )
        )

    # Mentors take turns; each stays within their capacity. The last two joined late and
    # still need a mentor: matching (matching/demo.py) has something to propose.
    current = [e for e in enrollments if e.status in selectors.CURRENT_ENROLLMENT_STATUSES]
    for index, enrollment in enumerate(current[:-2]):
        mentor = mentors[index % len(mentors)]
        services.mentor_assign(organization=organization, run=run, mentor=mentor, enrollment=enrollment)

    # Progress: past milestones mostly done; a few people are behind (overdue items).
    for position, enrollment in enumerate(current):
        behind = position % 5 == 3
        for milestone in milestones:
            days_left = (milestone.due_on - today).days
            if days_left < 0:
                status = MilestoneProgress.Status.IN_PROGRESS if behind and days_left > -15 else "done"
            elif days_left < 8:
                status = rng.choice(["in_progress", "submitted", "not_started"])
            else:
                continue
            if status == "not_started":
                continue
            services.milestone_progress_update(
                organization=organization,
                enrollment=enrollment,
                milestone=milestone,
                status=status,
                evidence_url=f"https://docs.example.com/{organization.slug}/{enrollment.pk}/{milestone.pk}"
                if status == "done"
                else "",
            )

    # Check-ins over the past weeks; four people have gone quiet.
    for position, enrollment in enumerate(current):
        silent = position % 6 == 5
        weeks = range(5, 2, -1) if silent else range(4, -1, -1)
        last = None
        for week in weeks:
            if rng.random() < 0.2:
                continue
            done, next_, blockers = rng.choice(copy.check_ins)
            check_in = services.check_in_create(
                organization=organization,
                enrollment=enrollment,
                done=done,
                next=next_,
                blockers=blockers,
                confidence=rng.randint(2, 5),
            )
            last = now - datetime.timedelta(days=week * 7 + rng.randint(0, 2), hours=rng.randint(1, 9))
            _backdate(CheckIn, organization, check_in.pk, last)
        Enrollment.objects.for_organization(organization).filter(pk=enrollment.pk).update(last_contact_at=last)

    # Help requests: two waiting, two answered, one resolved.
    for index, (act, impact, desired) in enumerate(copy.help_requests):
        enrollment = current[(index * 3 + 1) % len(current)]
        asked = now - datetime.timedelta(days=[1, 3, 6, 9, 12][index], hours=index * 2 + 1)
        help_request = services.help_request_create(
            organization=organization, enrollment=enrollment, act=act, impact=impact, desired_outcome=desired
        )
        _backdate(HelpRequest, organization, help_request.pk, asked)
        help_request.refresh_from_db()
        if index >= 2:
            routed = selectors.mentors_for_enrollment(organization=organization, enrollment=enrollment)
            reply = services.help_request_reply(
                organization=organization,
                help_request=help_request,
                mentor=routed[0],
                author=routed[0].user,
                body=copy.replies[(index - 2) % len(copy.replies)],
            )
            answered = asked + datetime.timedelta(hours=[5, 20, 3][index - 2])
            _backdate(HelpRequestReply, organization, reply.pk, answered)
            HelpRequest.objects.for_organization(organization).filter(pk=help_request.pk).update(
                first_response_at=answered
            )
            if index == 4:
                services.help_request_resolve(organization=organization, help_request=help_request)

    overdue = sum(1 for m in Milestone.objects.for_organization(organization).filter(run=run) if m.due_on < today)
    log(
        f"{organization.slug}: run “{run.name}” with {len(enrollments)} enrollments, {len(milestones)} milestones "
        f"({overdue} past), {MentorAssignment.objects.for_organization(organization).filter(run=run).count()} "
        "mentor assignments"
    )
    return run


def seed(ctx, log: Callable[[str], None]) -> None:
    seed_organization(ctx.korean_org, KOREAN, mentor_users=[ctx.mentor_ko, ctx.shared_mentor], log=log)
    seed_organization(ctx.english_org, ENGLISH, mentor_users=[ctx.mentor_en, ctx.shared_mentor], log=log)
