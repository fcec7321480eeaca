"""Deployment files: production settings and docker-compose (no Docker engine here)."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy_without_warnings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x7$Kq!9vLm2#Zp8RtY4wNc6&Hj1Fd3Bs5Gx0Ue-Ai+Oo_Ll=Mm",
        "ALLOWED_HOSTS": "cohort.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_defines_the_whole_stack():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_compose_commands_name_modules_and_settings_that_exist():
    services = _compose()["services"]
    for name in ("web", "worker", "beat", "migrate"):
        service = services[name]
        env = service["environment"]
        settings_module = env["DJANGO_SETTINGS_MODULE"]
        assert importlib.util.find_spec(settings_module) is not None, settings_module
        for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"):
            assert key in env, (name, key)
        command = service["command"]
        if command[0] == "gunicorn":
            module, attribute = command[1].split(":")
            assert hasattr(importlib.import_module(module), attribute)
        elif command[0] == "celery":
            app_module = command[command.index("-A") + 1]
            assert hasattr(importlib.import_module(app_module), "celery_app")
            assert command[command.index("-A") + 2] in ("worker", "beat")
        else:
            _assert_manage_py_commands_exist(command)


def _assert_manage_py_commands_exist(command):
    """`python manage.py X` (alone, or chained in `sh -c "... && ..."`) names real commands."""
    from django.core.management import get_commands

    script = " ".join(command[2:]) if command[:2] == ["sh", "-c"] else " ".join(command)
    steps = [step.split() for step in script.split("&&")]
    assert steps
    for step in steps:
        assert step[:2] == ["python", "manage.py"], step
        assert step[2] in get_commands(), step


def test_compose_runs_the_app_as_the_row_level_security_role_and_migrates_as_owner():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://cohort_app:"), name
    migrate = services["migrate"]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://postgres:")
    assert "setup_database_roles" in " ".join(migrate["command"])


def test_compose_runs_exactly_one_beat():
    beat = _compose()["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1


def test_compose_knows_when_web_and_worker_are_healthy():
    services = _compose()["services"]
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "/health/live/" in web_check and "ALLOWED_HOSTS" in web_check
    worker_check = " ".join(services["worker"]["healthcheck"]["test"])
    assert "inspect ping" in worker_check and "celery@$$HOSTNAME" in worker_check


def test_compose_lets_prometheus_scrape_web_and_worker():
    services = _compose()["services"]
    web, worker = services["web"]["environment"], services["worker"]["environment"]
    assert "METRICS_TOKEN" in web and web["PROMETHEUS_MULTIPROC_DIR"]
    assert worker["METRICS_WORKER_PORT"] and worker["PROMETHEUS_MULTIPROC_DIR"]
    assert worker["METRICS_WORKER_ADDRESS"] == "0.0.0.0"  # reachable from the Prometheus container
    assert web["DATABASE_URL"].startswith("postgres://cohort_app:")  # the shared settings still apply
