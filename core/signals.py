from django.dispatch import Signal

# Sent with organization=... after a new organization is created, so that other apps
# can give it their defaults (for example, the default assessment framework).
organization_created = Signal()

# Sent with organization=... after a write that may make a message due at once (a new
# enrollment, a help request, an answer, a survey that opened). The reminder planner
# (notifications) plans right after the commit; nothing is lost without it: beat plans
# every few minutes.
messages_due = Signal()
