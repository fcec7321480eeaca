"""``manage.py create_api_key --org hanbit --scopes programs:read,programs:write --name "CRM sync"``."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core import rls
from core.models import Organization
from core.tenancy import tenant_guard
from integrations import services
from integrations.scopes import all_scopes


class Command(BaseCommand):
    help = "Create an API key for an organization and print it once (it cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument(
            "--scopes",
            required=True,
            nargs="+",
            help=f"Scopes, space- or comma-separated, from: {' '.join(all_scopes())}.",
        )
        parser.add_argument("--name", default="", help="What the key is for (default: 'CLI key').")
        parser.add_argument("--expires-in-days", type=int, default=None, help="Expire after this many days.")

    def handle(self, *args, org, scopes, name, expires_in_days, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        requested = [scope.strip() for part in scopes for scope in part.split(",") if scope.strip()]
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            # Commands connect as the application role like web and worker: the key is
            # written inside the organization's row-level-security context.
            with rls.organization_context(organization.pk), tenant_guard():
                key, plaintext = services.api_key_create(
                    organization=organization, name=name or "CLI key", scopes=requested, expires_at=expires_at
                )
        except ValidationError as error:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()))
        self.stderr.write(
            f"Created API key {key.prefix} for {organization.slug} with scopes {', '.join(key.scopes)}. "
            "Store it now: it is not shown again."
        )
        self.stdout.write(plaintext)
