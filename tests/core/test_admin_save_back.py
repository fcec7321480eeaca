"""Every admin change page with inline rows saves back what it shows, as a browser posts it.

On the demo organization (every kind of row, with history): open each change page, post its
form unchanged, and expect the save to succeed. Inline rows that exist are posted back with
their ids, which Django looks up in a query of its own: it must stay inside the organization
(the tenant guard refuses an unscoped one, which was a 500 on every such page).
"""

from __future__ import annotations

import re
from html import unescape

from django.contrib import admin
from django.core.management import call_command

from core.admin_base import TenantAdmin
from core.models import Organization, User

INPUT = re.compile(r"<input\b[^>]*>")
TEXTAREA = re.compile(r'<textarea\b[^>]*?(?<![\w-])name="([^"]+)"[^>]*>(.*?)</textarea>', re.S)
SELECT = re.compile(r'<select\b[^>]*?(?<![\w-])name="([^"]+)"[^>]*>(.*?)</select>', re.S)
SELECTED = re.compile(r'<option value="([^"]*)"[^>]*\bselected\b')


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'(?<![\w-]){name}="([^"]*)"', tag)  # not data-…-name
    return unescape(found.group(1)) if found else None


def posted_form(html: str) -> dict[str, str | list[str]]:
    """What the page's form sends when its save button is pressed with nothing changed."""
    html = html[html.index("<form") : html.rindex("</form>")]
    data: dict[str, str | list[str]] = {}
    for match in INPUT.finditer(html):
        tag = match.group(0)
        name, kind = _attribute(tag, "name"), _attribute(tag, "type") or "text"
        if (
            name is None
            or kind in ("submit", "button", "file")
            or (kind in ("checkbox", "radio") and " checked" not in tag)
        ):
            continue
        data[name] = _attribute(tag, "value") or ("on" if kind == "checkbox" else "")
    for name, text in TEXTAREA.findall(html):
        data[name] = unescape(text).removeprefix("\n")
    for name, options in SELECT.findall(html):
        data[name] = (
            SELECTED.findall(options)
            if "multiple" in name or len(SELECTED.findall(options)) > 1
            else ((SELECTED.findall(options) or [""])[0])
        )
    return data


def _pages_with_rows(organization):
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, TenantAdmin) or not model_admin.inlines:
            continue
        for inline in model_admin.inlines:
            fk = next(f for f in inline.model._meta.concrete_fields if f.is_relation and f.related_model is model)
            parent_ids = inline.model.objects.for_organization(organization).values_list(fk.attname, flat=True)
            parent = model.objects.for_organization(organization).filter(pk__in=parent_ids[:50]).first()
            if parent is not None:
                yield model, parent
                break


def test_every_change_page_with_inline_rows_saves_back_unchanged(db, admin_client_for):
    call_command("seed_demo", verbosity=0)
    organization = Organization.objects.get(name="한빛창업학교")
    client = admin_client_for(User.objects.get(email="pm@hanbit.example"))
    tried, failed = [], []
    for model, parent in _pages_with_rows(organization):
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{parent.pk}/change/"
        page = client.get(url)
        html = page.content.decode()
        if 'name="_save"' not in html:
            continue  # a page to read, not to change
        data = posted_form(html)
        assert any(key.endswith("-INITIAL_FORMS") and value not in ("", "0") for key, value in data.items()), url
        data["_save"] = "Save"
        response = client.post(url, data)
        tried.append(model._meta.label)
        if response.status_code != 302:
            errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
            failed.append((url, response.status_code, errors[:3]))
    assert not failed, failed
    assert {"programs.Program", "programs.Run", "assessments.ValueSurvey"} <= set(tried), tried
