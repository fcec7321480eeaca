"""Every example of docs/api.md runs, in order, against a live server: the guide cannot rot."""

import io
import re
import shlex
import subprocess
import threading
from pathlib import Path

from django.core.management import call_command
from standardwebhooks.webhooks import Webhook

from programs.models import Enrollment
from tests.factories.programs import ParticipantFactory, ProgramFactory, RunFactory

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
FENCED = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def runnable_blocks() -> list[tuple[str, str]]:
    return [(language, code) for language, code in FENCED.findall(GUIDE.read_text()) if language in ("bash", "python")]


def test_the_guide_has_the_promised_examples():
    blocks = runnable_blocks()
    text = "\n".join(code for _language, code in blocks)
    assert any(code.startswith("python manage.py create_api_key") for _language, code in blocks)
    for needle in ("/runs/", "Idempotency-Key", "/enrollments/", "/webhook-subscriptions/", "def verify_webhook"):
        assert needle in text
    assert {language for language, _code in blocks} == {"bash", "python"}


def test_every_example_runs_against_a_live_server(live_server, organization, webhook_receiver, monkeypatch):
    program = ProgramFactory(organization=organization, name="Customer Discovery Bootcamp")
    run = RunFactory(program=program, name="Spring cohort 2026")
    first, second = ParticipantFactory(organization=organization), ParticipantFactory(organization=organization)
    env = {
        "API": f"{live_server.url}/api/v1/orgs/{organization.slug}",
        "RUN_ID": str(run.pk),
        "PARTICIPANT_ID": str(first.pk),
        "SECOND_PARTICIPANT_ID": str(second.pk),
        "WEBHOOK_URL": webhook_receiver.url,
        "PATH": "/usr/bin:/bin",
    }
    namespace: dict = {}
    outputs = []
    for index, (language, code) in enumerate(runnable_blocks()):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        if language == "bash" and code.startswith("python manage.py "):
            args = shlex.split(code.strip())[2:]
            stdout = io.StringIO()
            call_command(*args, stdout=stdout, stderr=io.StringIO())
            env["API_KEY"] = stdout.getvalue().strip()
            outputs.append(env["API_KEY"])
        elif language == "bash":
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", code], env=env, capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 0, f"block {index}:\n{code}\n{result.stdout}\n{result.stderr}"
            outputs.append(result.stdout)
        else:
            exec(compile(code, f"docs/api.md, block {index}", "exec"), namespace)  # noqa: S102 - the guide's own code

    # Let the live server's request threads finish while the test database is still
    # shared with them (they close their connection when the client hangs up).
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=5)

    assert env["API_KEY"].startswith("ck_")
    assert "Spring cohort 2026" in "".join(outputs)
    # The retried curl created one enrollment, the Python example another: two in all.
    enrollments = Enrollment.objects.for_organization(organization)
    assert sorted(enrollments.values_list("participant_id", flat=True)) == [first.pk, second.pk]
    # The test event arrived, and both the guide's verifier and the official library accept it.
    [request] = webhook_receiver.requests
    event = namespace["verify_webhook"](namespace["secret"], request["headers"], request["body"])
    assert event["type"] == "webhook.test"
    assert Webhook(namespace["secret"]).verify(request["body"], request["headers"]) == event
