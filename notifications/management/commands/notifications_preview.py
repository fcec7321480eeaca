"""Print what reminders will be sent in the next days, and why (the admin's preview)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from core import rls
from core.models import Organization
from core.tenancy import tenant_guard
from notifications import selectors, services


class Command(BaseCommand):
    help = "Show the reminders an organization (or one of its runs) will send in the next days, and why."

    def add_arguments(self, parser):
        parser.add_argument("organization", help="slug of the organization")
        parser.add_argument("--run", type=int, help="id of one run (digests are shown too)")
        parser.add_argument("--days", type=int, default=14, help="how many days ahead (default 14)")
        parser.add_argument(
            "--language", choices=["ko", "en"], help="language of the reasons (default: the organization's)"
        )

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['organization']!r}")
        if not 1 <= options["days"] <= 60:
            raise CommandError("--days must be between 1 and 60")
        with (
            tenant_guard(),
            rls.organization_context(organization.id),
            translation.override(options["language"] or organization.language),
        ):
            run = None
            if options["run"] is not None:
                run = selectors.runs_for_preview(organization=organization).filter(pk=options["run"]).first()
                if run is None:
                    raise CommandError(f"No run {options['run']} in {organization.slug}")
            rows = services.notifications_preview(organization=organization, run=run, days=options["days"])
        scope = f"run {run.name}" if run else "all runs"
        self.stdout.write(f"{organization.name} ({organization.time_zone}), {scope}: {len(rows)} reminders")
        for row in rows:
            to = (
                "team chat (webhook)"
                if row["channel"] == "webhook"
                else f"{row['recipient_name']} <{row['recipient']}>"
            )
            flags = [flag for flag, on in (("in outbox", row["queued"]), ("unsubscribed", row["unsubscribed"])) if on]
            self.stdout.write(
                f"{row['when']:%Y-%m-%d %a %H:%M}  {row['kind']:<24} {to}"
                + (f"  [{', '.join(flags)}]" if flags else "")
            )
            self.stdout.write(f"    {row['subject']}")
            self.stdout.write(f"    why: {row['reason']}")
