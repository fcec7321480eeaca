"""List (``--dry-run``, the default) or erase the participants past their organization's retention period."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core import rls
from core.models import Organization
from privacy import services


class Command(BaseCommand):
    help = "Retention: list (dry run, the default) or erase (--apply) participants whose data has expired."

    def add_arguments(self, parser):
        parser.add_argument("organization", help="slug of the organization")
        parser.add_argument("--apply", action="store_true", help="erase them (without it: a dry run that lists them)")

    def handle(self, *args, organization, apply, **options):
        found = Organization.objects.filter(slug=organization).first()
        if found is None:
            raise CommandError(f"no organization {organization!r}")
        with rls.organization_context(found.pk):
            candidates = services.retention_candidates(organization=found)
            for candidate in candidates:
                self.stdout.write(
                    f"{candidate.participant.pk}\t{candidate.participant.name}\t{candidate.last_run_ended_on}"
                )
            ids = services.retention_apply(organization=found, dry_run=not apply)
        verb = "erased" if apply else "would be erased (dry run)"
        self.stdout.write(self.style.SUCCESS(f"{len(ids)} {verb}"))
