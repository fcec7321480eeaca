"""Demo data of the tenancy core: two organizations, their people, one shared mentor.

``seed_demo`` calls :func:`seed` first and hands the returned :class:`DemoContext`
to ``<app>.demo.seed(ctx, log)`` of every app that has one. Everything is
idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.models import Membership, Organization, User
from core.services import membership_grant, organization_create

DEMO_PASSWORD = "demo-pass-2026"


@dataclass
class DemoContext:
    korean_org: Organization
    english_org: Organization
    superuser: User
    pm_ko: User
    pm_en: User
    mentor_ko: User
    mentor_en: User
    shared_mentor: User  # mentors for both organizations
    extra: dict = field(default_factory=dict)

    @property
    def organizations(self) -> list[Organization]:
        return [self.korean_org, self.english_org]


def _user(email: str, name: str, language: str, *, superuser: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        make = User.objects.create_superuser if superuser else User.objects.create_user
        user = make(email=email, password=DEMO_PASSWORD, name=name, language=language)
    return user


def _organization(*, slug: str, **fields) -> Organization:
    return Organization.objects.filter(slug=slug).first() or organization_create(slug=slug, **fields)


def seed(log: Callable[[str], None]) -> DemoContext:
    korean = _organization(slug="hanbit", name="한빛창업학교", language="ko", time_zone="Asia/Seoul", country="KR")
    english = _organization(
        slug="northwind", name="Northwind Founders", language="en", time_zone="Europe/London", country="GB"
    )
    ctx = DemoContext(
        korean_org=korean,
        english_org=english,
        superuser=_user("admin@example.com", "Platform Admin", "en", superuser=True),
        pm_ko=_user("pm@hanbit.example", "김지은", "ko"),
        pm_en=_user("pm@northwind.example", "Olivia Hart", "en"),
        mentor_ko=_user("mentor@hanbit.example", "박서준", "ko"),
        mentor_en=_user("mentor@northwind.example", "Sam Patel", "en"),
        shared_mentor=_user("mosaic.mentor@example.com", "이도윤 (Doyun Lee)", "ko"),
    )
    role = Membership.Role
    membership_grant(organization=korean, user=ctx.pm_ko, role=role.PROGRAM_MANAGER)
    membership_grant(organization=english, user=ctx.pm_en, role=role.PROGRAM_MANAGER)
    membership_grant(organization=korean, user=ctx.mentor_ko, role=role.MENTOR)
    membership_grant(organization=english, user=ctx.mentor_en, role=role.MENTOR)
    membership_grant(organization=korean, user=ctx.shared_mentor, role=role.MENTOR)
    membership_grant(organization=english, user=ctx.shared_mentor, role=role.MENTOR)
    log(f"organizations: {korean.name} ({korean.slug}), {english.name} ({english.slug})")
    return ctx


def logins(ctx: DemoContext) -> list[tuple[str, str]]:
    return [
        (ctx.superuser.email, "platform superuser: every organization"),
        (ctx.pm_ko.email, f"program manager, {ctx.korean_org.name}"),
        (ctx.pm_en.email, f"program manager, {ctx.english_org.name}"),
        (ctx.mentor_ko.email, f"mentor, {ctx.korean_org.name}"),
        (ctx.mentor_en.email, f"mentor, {ctx.english_org.name}"),
        (ctx.shared_mentor.email, "mentor in both organizations"),
    ]
