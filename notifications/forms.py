"""Forms shared by every page where a person's channels are chosen.

The participant's page (``/n/channels/<token>/``), the mentor's portal page
(``/mentor/channels/``) and the admin's channel choices all show one row of
checkboxes per kind of message (a field ``kind__<kind>``) and save through
:func:`notifications.services.channel_profile_update`.
"""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from notifications.models import Channel, Kind


class SecretInput(forms.PasswordInput):
    """A secret is never rendered back into the page: the field stays empty, with a note if one is stored."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", **(attrs or {})}, render_value=False)


SECRET_KEPT = _("Stored encrypted. Leave empty to keep the saved value; it is never shown again.")


def kind_channel_fields(form, *, kinds, offered, current: dict, defaults: list[str]) -> None:
    """One multiple-choice field per kind (``kind__<value>``): the person's channels for it."""
    for kind in kinds:
        form.fields[f"kind__{kind}"] = forms.MultipleChoiceField(
            label=Kind(kind).label,
            choices=[(channel, Channel(channel).label) for channel in offered],
            widget=forms.CheckboxSelectMultiple,
            required=False,
            initial=current.get(kind, defaults),
        )


def kind_channel_choices(cleaned_data: dict, kinds) -> dict:
    """The chosen channels per kind; a kind left with none goes by email."""
    return {kind: cleaned_data.get(f"kind__{kind}") or [Channel.EMAIL.value] for kind in kinds}


class ChannelChoicesForm(forms.Form):
    """Channels per kind for one person: ``kinds`` they receive, ``offered`` channels to tick.

    ``current`` is their saved choice (kind -> channels); a kind they have not chosen
    for shows ``defaults`` (the organization's). A channel that is not offered is
    refused as an invalid choice, so nothing is saved.
    """

    def __init__(self, *args, kinds, offered, current: dict, defaults: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = [str(Kind(kind).value) for kind in kinds]
        self.offered = list(offered)
        kind_channel_fields(self, kinds=self.kinds, offered=self.offered, current=current, defaults=defaults)

    def kind_fields(self) -> list:
        return [self[f"kind__{kind}"] for kind in self.kinds]

    def choices(self) -> dict:
        return kind_channel_choices(self.cleaned_data, self.kinds)

    def kinds_with(self, channel: str) -> list[str]:
        """The kinds for which ``channel`` is ticked (after validation)."""
        return [kind for kind, chosen in self.choices().items() if channel in chosen]


class StaffChannelsForm(ChannelChoicesForm):
    """A mentor's (or program manager's) own channels: per kind, and their Slack member id and Teams URL.

    Ticking Slack or Teams needs the address it goes to: typed here now or saved before
    (the Teams URL is a secret: never shown back, an empty field keeps it). The format
    of both is the model's rule, checked by the service.
    """

    slack_member_id = forms.CharField(
        label=capfirst(_("Slack member id")),
        max_length=32,
        required=False,
        help_text=_("In Slack: your profile, ⋮, Copy member ID (U...)."),
    )
    teams_webhook_url = forms.URLField(
        label=capfirst(_("Microsoft Teams webhook URL")),
        required=False,
        assume_scheme="https",
        widget=SecretInput,
        help_text=_("An incoming-webhook (Workflows) URL of a Teams chat or channel that reaches you."),
    )

    def __init__(self, *args, profile=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.has_teams_url = bool(profile is not None and profile.teams_webhook_url)
        if profile is not None:
            self.fields["slack_member_id"].initial = profile.slack_member_id
        if self.has_teams_url:
            self.fields["teams_webhook_url"].help_text = SECRET_KEPT
        if Channel.SLACK.value not in self.offered:
            del self.fields["slack_member_id"]
        if Channel.TEAMS.value not in self.offered:
            del self.fields["teams_webhook_url"]

    def account_fields(self) -> list:
        return [self[name] for name in ("slack_member_id", "teams_webhook_url") if name in self.fields]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if self.kinds_with(Channel.SLACK.value) and not (cleaned.get("slack_member_id") or "").strip():
            self.add_error("slack_member_id", _("Enter your Slack member id to get messages on Slack."))
        if self.kinds_with(Channel.TEAMS.value) and not (cleaned.get("teams_webhook_url") or self.has_teams_url):
            self.add_error("teams_webhook_url", _("Enter your Teams webhook URL to get messages on Microsoft Teams."))
        return cleaned
