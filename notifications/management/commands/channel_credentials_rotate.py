"""Re-encrypt every stored channel secret with the first FIELD_ENCRYPTION_KEY (key rotation).

Put the new key first in FIELD_ENCRYPTION_KEY (keep the old one after it), deploy, run
this command, then remove the old key. See docs/operations.md.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from core.models import Organization
from core.rls import organization_context
from notifications import crypto
from notifications.models import ChannelCredentials, ChannelProfile

SECRETS = {
    ChannelCredentials: ["solapi_api_key", "solapi_api_secret", "slack_bot_token"],
    ChannelProfile: ["teams_webhook_url"],
}


class Command(BaseCommand):
    help = "Re-encrypt organizations' channel secrets with the first FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        rotated = 0
        for organization in Organization.objects.order_by("id"):
            with transaction.atomic(), organization_context(organization.id):
                for model, fields in SECRETS.items():
                    for row in model.objects.for_organization(organization).select_for_update():
                        # Reading decrypted with any key; saving encrypts with the first.
                        row.save(update_fields=[*fields, "updated_at"])
                        rotated += 1
        self.stdout.write(f"re-encrypted the secrets of {rotated} rows")
        return None


__all__ = ["Command", "crypto"]
