import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assessments.models import StatementRating, SurveyResponse, ValueSurvey
from assessments.reports import survey_report, survey_report_csv
from assessments.services import survey_response_submit, value_survey_create
from tests.factories.programs import EnrollmentFactory, ProgramsMentorFactory


def answer(survey, ratings_by_position, **respondent):
    statements = list(survey.statements.order_by("position"))
    ratings = {s.pk: ratings_by_position[i] for i, s in enumerate(statements)}
    extra = {k: respondent.pop(k) for k in ("own_values", "improve", "stop", "now") if k in respondent}
    return survey_response_submit(
        organization=survey.organization, survey=survey, ratings=ratings, **respondent, **extra
    )


def test_a_survey_is_created_with_its_statements(run):
    now = timezone.now()
    survey = value_survey_create(
        organization=run.organization,
        program=run.program,
        run=run,
        title="Spring value check",
        opens_at=now,
        closes_at=now + datetime.timedelta(days=7),
        statements=[
            {"text": "Weekly mentoring", "tier": "essential", "predicted_importance": 5},
            {"text": "Demo day", "tier": "enabler", "predicted_importance": 4},
        ],
    )
    assert [(s.position, s.text, s.tier) for s in survey.statements.order_by("position")] == [
        (1, "Weekly mentoring", "essential"),
        (2, "Demo day", "enabler"),
    ]


def test_a_prediction_outside_1_to_5_saves_nothing(run):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        value_survey_create(
            organization=run.organization,
            program=run.program,
            title="Broken",
            opens_at=now,
            closes_at=now + datetime.timedelta(days=1),
            statements=[{"text": "Too sure", "tier": "essential", "predicted_importance": 9}],
        )
    assert "statements[1]" in error.value.message_dict
    assert not ValueSurvey.objects.for_organization(run.organization).exists()


def test_a_participant_answers_and_can_change_the_answers_while_open(survey, enrollment):
    first = answer(survey, [(5, 2), (4, 4), (1, 5)], enrollment=enrollment, own_values="Honest feedback")
    second = answer(survey, [(4, 3), (5, 5), (2, 5)], enrollment=enrollment, improve="Fewer lectures")
    assert first.pk == second.pk
    assert second.respondent_kind == "participant" and second.enrollment == enrollment
    assert second.improve == "Fewer lectures" and second.own_values == ""
    assert sorted(second.ratings.values_list("importance", flat=True)) == [2, 4, 5]


def test_answers_out_of_range_save_nothing(survey, enrollment):
    with pytest.raises(ValidationError) as error:
        answer(survey, [(6, 2), (4, 0), ("x", 3)], enrollment=enrollment)
    messages = error.value.message_dict["ratings"]
    assert len(messages) == 3
    assert "“Weekly mentoring”: importance must be a whole number from 1 to 5." in messages
    assert not SurveyResponse.objects.for_organization(survey.organization).exists()


def test_every_statement_must_be_rated(survey, enrollment):
    first = survey.statements.order_by("position").first()
    with pytest.raises(ValidationError) as error:
        survey_response_submit(
            organization=survey.organization, survey=survey, enrollment=enrollment, ratings={first.pk: (3, 3)}
        )
    assert "Rate “Customer interviews”" in str(error.value)


def test_a_response_after_the_survey_closed_is_refused(survey, enrollment):
    with pytest.raises(ValidationError) as error:
        answer(survey, [(3, 3)] * 3, enrollment=enrollment, now=survey.closes_at + datetime.timedelta(minutes=1))
    assert "answers are no longer accepted" in str(error.value)
    assert not SurveyResponse.objects.for_organization(survey.organization).exists()


def test_respondents_must_belong_to_the_surveyed_run_and_organization(survey, organization, other_enrollment):
    outsider = EnrollmentFactory(run__program__organization=organization, organization=organization)
    with pytest.raises(ValidationError) as error:
        answer(survey, [(3, 3)] * 3, enrollment=outsider)
    assert "not in the surveyed run" in str(error.value)
    with pytest.raises(ValidationError) as error:
        answer(survey, [(3, 3)] * 3, enrollment=other_enrollment)
    assert error.value.message_dict["enrollment"] == ["Unknown enrollment."]


def test_a_survey_that_does_not_ask_mentors_refuses_them(survey, organization):
    survey.ask_mentors = False
    survey.save()
    with pytest.raises(ValidationError):
        answer(survey, [(3, 3)] * 3, mentor=ProgramsMentorFactory(organization=organization))


def test_ratings_for_another_survey_are_refused(survey, other_survey, enrollment):
    ratings = {s.pk: (3, 3) for s in survey.statements.all()}
    ratings[other_survey.statements.get().pk] = (3, 3)
    with pytest.raises(ValidationError) as error:
        survey_response_submit(organization=survey.organization, survey=survey, enrollment=enrollment, ratings=ratings)
    assert "not in this survey" in str(error.value)


def test_anonymous_answers_store_nobody_and_still_one_per_person(survey, enrollment):
    survey.is_anonymous = True
    survey.save()
    first = answer(survey, [(3, 3)] * 3, enrollment=enrollment)
    again = answer(survey, [(4, 4)] * 3, enrollment=enrollment)
    assert first.pk == again.pk
    again.refresh_from_db()
    assert again.enrollment is None and again.mentor is None
    assert again.respondent_key.startswith("anon:")
    assert f"enrollment:{enrollment.pk}" not in again.respondent_key


def _fill(survey, run, organization, participants, mentors):
    for index in range(participants):
        answer(
            survey,
            [(5, 2), (5, 3), (1, 4)],
            enrollment=EnrollmentFactory(run=run),
            own_values=f"Value {index}\nShared value",
            improve=f"Improve {index}",
        )
    for _index in range(mentors):
        answer(survey, [(3, 3), (4, 4), (2, 2)], mentor=ProgramsMentorFactory(organization=organization))


def test_the_report_ranks_statements_by_gap_and_keeps_groups_apart(survey, run, organization):
    _fill(survey, run, organization, participants=3, mentors=1)
    report = survey_report(organization=organization, survey=survey)

    assert report.respondents == {"participant": 3, "mentor": 1}
    ranked = [(r.statement.text, r.gap) for r in report.statements]
    # Predicted 5/2/3. Rated (3 participants + 1 mentor): 4.5, 4.75, 1.25.
    assert ranked == [("Customer interviews", 2.75), ("Founder dinners", -1.75), ("Weekly mentoring", -0.5)]
    interviews = report.statements[0]
    assert interviews.groups["participant"].importance == 5.0 and interviews.groups["mentor"].importance == 4.0
    assert interviews.quadrant == "fix" or interviews.quadrant == "keep"
    assert [label for _tier, label, results in report.by_tier() if results] == ["Essential", "Enabler", "Energizer"]
    values = report.own_words["participant"]["values"]
    assert (values[0].text, values[0].count) == ("Shared value", 3)
    assert sorted(w.text for w in values[1:]) == ["Value 0", "Value 1", "Value 2"]
    assert "Improve 0" in [w.text for w in report.own_words["participant"]["improve"]]


def test_an_anonymous_report_hides_groups_smaller_than_three(survey, run, organization):
    survey.is_anonymous = True
    survey.save()
    _fill(survey, run, organization, participants=3, mentors=2)
    report = survey_report(organization=organization, survey=survey)

    assert report.hidden_groups == ["mentor"]
    assert report.respondents == {"participant": 3, "mentor": None}
    for result in report.statements:
        assert result.groups["mentor"].hidden and result.groups["mentor"].importance is None
        # Combined figures leave the hidden group out, or subtraction would reveal it.
        assert result.importance == result.groups["participant"].importance
    assert "mentor" not in report.own_words
    content = survey_report_csv(report)
    assert "hidden (fewer than 3)" in content
    statement_rows = content.split("\r\n\r\n")[0].splitlines()[1:]
    assert len(statement_rows) == 3
    assert all(row.endswith("hidden (fewer than 3),,") for row in statement_rows)
    assert "Improve 0" in content


def test_an_anonymous_report_with_two_participants_shows_nothing_of_them(survey, run, organization):
    survey.is_anonymous = True
    survey.save()
    _fill(survey, run, organization, participants=2, mentors=0)
    report = survey_report(organization=organization, survey=survey)
    assert report.hidden_groups == ["participant"]
    assert all(r.importance is None for r in report.statements)
    assert "Improve 0" not in survey_report_csv(report)


def test_the_csv_never_has_one_row_per_respondent(survey, run, organization):
    _fill(survey, run, organization, participants=4, mentors=0)
    content = survey_report_csv(survey_report(organization=organization, survey=survey))
    assert StatementRating.objects.for_organization(organization).count() == 12
    first_section = content.split("\r\n\r\n")[0].splitlines()
    assert len(first_section) == 1 + 3  # header and one row per statement
    for enrollment_name in SurveyResponse.objects.for_organization(organization).values_list(
        "enrollment__participant__name", flat=True
    ):
        assert enrollment_name not in content


def test_the_report_counts_only_its_own_organization(survey, other_survey, other_enrollment, run, organization):
    _fill(survey, run, organization, participants=1, mentors=0)
    answer(other_survey, [(5, 5)], enrollment=other_enrollment)
    report = survey_report(organization=organization, survey=survey)
    assert report.respondents["participant"] == 1
