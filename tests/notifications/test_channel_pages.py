"""The pages of channels: a participant's choices (signed link), the admin's templates, credentials, choices."""

from django.core import signing
from django.urls import reverse

from notifications import services
from notifications.models import AlimTalkTemplate, Channel, ChannelCredentials, ChannelProfile, Kind
from programs import links as participant_links
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, ProgramFactory, RunFactory


def _enrollment(organization, **participant):
    run = RunFactory(program=ProgramFactory(organization=organization))
    person = ParticipantFactory(organization=organization, email="minji@startup.test", language="en", **participant)
    return EnrollmentFactory(run=run, participant=person)


def _page(enrollment, purpose=participant_links.PURPOSE_HOME):
    token = participant_links.participant_token(enrollment, purpose)
    return reverse("notifications:participant_channels", args=[token])


def test_a_participant_chooses_kakaotalk_for_one_kind_from_their_home_link(client, organization, reminder_settings):
    enrollment = _enrollment(organization, phone="010-1234-5678")
    url = _page(enrollment)
    page = client.get(url)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "+821012345678" in page.content.decode()
    response = client.post(url, {f"kind__{Kind.MILESTONE_DUE_TODAY}": [Channel.KAKAO], "kind__welcome": ["email"]})
    assert response.status_code == 302 and "saved=1" in response["Location"]
    profile = ChannelProfile.objects.for_organization(organization).get()
    assert profile.email == "minji@startup.test"
    assert profile.choices[Kind.MILESTONE_DUE_TODAY] == [Channel.KAKAO]
    assert profile.choices[Kind.MILESTONE_UPCOMING] == [Channel.EMAIL]  # nothing ticked: email


def test_a_participant_cannot_choose_a_staff_channel(client, organization, reminder_settings):
    enrollment = _enrollment(organization)
    response = client.post(_page(enrollment), {f"kind__{Kind.WELCOME}": [Channel.SLACK]})
    assert response.status_code == 200  # the form with its error, nothing saved
    assert not ChannelProfile.objects.for_organization(organization).exists()


def test_a_link_for_one_action_or_another_organizations_enrollment_answers_404(
    client, organization, other_organization, reminder_settings
):
    ours = _enrollment(organization)
    assert client.get(_page(ours, participant_links.PURPOSE_CHECK_IN)).status_code == 404
    theirs = _enrollment(other_organization)
    # A token signed for our organization that names their enrollment: as if it did not exist.
    forged = signing.dumps(
        {"o": organization.id, "e": theirs.pk, "p": "home", "x": 4102444800}, salt=participant_links.SALT, compress=True
    )
    assert client.get(reverse("notifications:participant_channels", args=[forged])).status_code == 404
    assert client.get(reverse("notifications:participant_channels", args=["not-a-token"])).status_code == 404


def test_the_participant_home_links_to_the_channels_page(client, organization, reminder_settings):
    enrollment = _enrollment(organization)
    home = client.get(participant_links.participant_link(enrollment))
    assert "/n/channels/" in home.content.decode()


def test_a_program_manager_registers_a_template_in_the_admin(admin_client_for, program_manager, organization):
    client = admin_client_for(program_manager)
    url = reverse("admin:notifications_alimtalktemplate_add")
    bad = client.post(
        url,
        {"kind": Kind.WELCOME, "language": "ko", "template_id": "KA01TP1", "content": "#{nmae}님", "is_active": "on"},
    )
    assert bad.status_code == 200 and "#{nmae}" in bad.content.decode()
    assert not AlimTalkTemplate.objects.for_organization(organization).exists()
    good = client.post(
        url,
        {
            "kind": Kind.WELCOME,
            "language": "ko",
            "template_id": "KA01TP1",
            "content": "#{name}님 #{link}",
            "is_active": "on",
        },
    )
    assert good.status_code == 302
    template = AlimTalkTemplate.objects.for_organization(organization).get()
    assert template.variables == ["name", "link"]


def test_secrets_are_never_shown_back_in_the_admin(admin_client_for, program_manager, organization):
    client = admin_client_for(program_manager)
    response = client.post(
        reverse("admin:notifications_channelcredentials_add"),
        {
            "solapi_api_key": "NCSKEYSHOWNNEVER",
            "solapi_api_secret": "secret-shown-never",
            "kakao_pf_id": "KA01PF1",
            "sms_sender": "0212345678",
            "slack_bot_token": "",
        },
    )
    assert response.status_code == 302
    credentials = ChannelCredentials.objects.for_organization(organization).get()
    page = client.get(reverse("admin:notifications_channelcredentials_change", args=[credentials.pk])).content.decode()
    assert "secret-shown-never" not in page and "NCSKEYSHOWNNEVER" not in page and "KA01PF1" in page
    # Saving again with the secret fields empty keeps them.
    client.post(
        reverse("admin:notifications_channelcredentials_change", args=[credentials.pk]),
        {"solapi_api_key": "", "solapi_api_secret": "", "kakao_pf_id": "KA01PF2", "sms_sender": "0212345678"},
    )
    credentials = ChannelCredentials.objects.for_organization(organization).get()
    assert (credentials.solapi_api_secret, credentials.kakao_pf_id) == ("secret-shown-never", "KA01PF2")


def test_another_organizations_channel_rows_answer_404_in_the_admin(
    admin_client_for, program_manager, other_organization
):
    template = services.alimtalk_template_save(
        organization=other_organization, kind=Kind.WELCOME, language="en", template_id="T", content="#{name}"
    )
    credentials = services.channel_credentials_update(organization=other_organization, kakao_pf_id="KA01PFX")
    profile = services.channel_profile_update(organization=other_organization, email="pm@other.test")
    client = admin_client_for(program_manager)
    for name, pk in (
        ("alimtalktemplate", template.pk),
        ("channelcredentials", credentials.pk),
        ("channelprofile", profile.pk),
    ):
        assert client.get(reverse(f"admin:notifications_{name}_change", args=[pk])).status_code == 404


def test_a_program_manager_sets_their_slack_and_channels_per_kind_in_the_admin(
    admin_client_for, program_manager, organization
):
    client = admin_client_for(program_manager)
    data = {"email": "pm@hanbit.test", "slack_member_id": "U012AB3CD", "teams_webhook_url": ""}
    data[f"kind__{Kind.DIGEST_PM}"] = [Channel.SLACK, Channel.EMAIL]
    response = client.post(reverse("admin:notifications_channelprofile_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = ChannelProfile.objects.for_organization(organization).get()
    assert profile.choices[Kind.DIGEST_PM] == [Channel.SLACK, Channel.EMAIL]
    assert profile.slack_member_id == "U012AB3CD"
