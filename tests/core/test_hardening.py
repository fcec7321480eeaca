"""Hardening of issue #16: safe XLSX parsing, response headers, the production API and cookies, key users."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from programs import imports

ROOT = Path(__file__).resolve().parents[2]

ENTITY_SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE worksheet [<!ENTITY name "김민준">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>이름</t></is></c><c r="B1" t="inlineStr"><is><t>이메일</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>&name;</t></is></c>
<c r="B2" t="inlineStr"><is><t>minjun@startup.kr</t></is></c></row>
</sheetData></worksheet>"""


def _xlsx_with_sheet(sheet_xml: str) -> bytes:
    """A minimal workbook whose first sheet is ``sheet_xml`` (as an attacker would hand-craft it)."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["이름", "이메일"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml.encode("utf-8")
            target.writestr(item, data)
    return out.getvalue()


def test_an_xlsx_that_declares_xml_entities_is_refused_not_expanded():
    """openpyxl expands entities (the root of XML bombs) unless defusedxml is installed."""
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML
    with pytest.raises(imports.ImportFileError) as refused:
        imports.read_table("participants.xlsx", _xlsx_with_sheet(ENTITY_SHEET))
    assert "Excel" in str(refused.value)


def test_a_plain_xlsx_still_imports():
    plain = ENTITY_SHEET.replace('<!DOCTYPE worksheet [<!ENTITY name "김민준">]>\n', "").replace("&name;", "김민준")
    columns, rows = imports.read_table("participants.xlsx", _xlsx_with_sheet(plain))
    assert columns[:2] == ["name", "email"]  # Korean headers are recognised
    assert rows[0][1]["name"] == "김민준"


def test_pages_refuse_browser_features_they_never_use(db, client):
    response = client.get("/admin/login/")
    policy = response.headers["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy


def test_api_responses_are_never_stored(organization, api_key_for, key_client):
    _key, plaintext = api_key_for(organization, scopes=["programs:read"])
    listing = key_client(plaintext).get("/api/v1/orgs/")
    assert listing.status_code == 200 and listing.headers["Cache-Control"] == "no-store"
    refused = Client().get("/api/v1/orgs/")
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"
    page = Client().post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    assert page.status_code == 302 and "Cache-Control" not in page.headers  # pages outside /api/ are left alone


def _in_production(code: str) -> dict:
    """Run ``code`` (which prints one JSON line) under production settings in a fresh interpreter."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x7$Kq!9vLm2#Zp8RtY4wNc6&Hj1Fd3Bs5Gx0Ue-Ai+Oo_Ll=Mm",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_answers_the_api_in_json_only_even_to_a_browser():
    seen = _in_production(
        "import json\n"
        "from django.test import Client\n"
        "r = Client().get('/api/v1/orgs/', HTTP_ACCEPT='text/html,application/xhtml+xml,*/*;q=0.8', secure=True)\n"
        "print(json.dumps({'status': r.status_code, 'type': r.headers['Content-Type'],"
        " 'html': b'<html' in r.content, 'cache': r.headers.get('Cache-Control')}))"
    )
    assert seen == {"status": 401, "type": "application/problem+json", "html": False, "cache": "no-store"}


def test_production_sends_the_language_cookie_over_https_only(db, settings):
    production = _in_production(
        "import json\nfrom django.conf import settings as s\n"
        "print(json.dumps([s.LANGUAGE_COOKIE_SECURE, s.LANGUAGE_COOKIE_HTTPONLY, s.LANGUAGE_COOKIE_SAMESITE]))"
    )
    secure, httponly, samesite = production
    with override_settings(
        LANGUAGE_COOKIE_SECURE=secure, LANGUAGE_COOKIE_HTTPONLY=httponly, LANGUAGE_COOKIE_SAMESITE=samesite
    ):
        chosen = Client().post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    cookie = chosen.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en" and cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_an_organizations_deletion_deactivates_its_api_keys_users(organization, other_organization, api_key_for):
    key, _plaintext = api_key_for(organization, scopes=["programs:read"])
    others_key, _other_plaintext = api_key_for(other_organization, scopes=["programs:read"])
    organization.delete()
    users = get_user_model().objects
    assert users.get(pk=key.service_user_id).is_active is False
    assert users.get(pk=others_key.service_user_id).is_active is True  # another organization's key is untouched
