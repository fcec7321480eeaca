from django.dispatch import Signal

# Sent with organization=... after a new organization is created, so that other apps
# can give it their defaults (for example, the default assessment framework).
organization_created = Signal()
