"""Links in emails: one base address, joined the same way everywhere (core/public_url.py)."""

import pytest

from core.public_url import public_base_url, public_url


@pytest.mark.parametrize("configured", ["https://cohorts.example.com", "https://cohorts.example.com/"])
def test_the_setting_with_or_without_a_trailing_slash_gives_one_address(settings, configured):
    settings.PUBLIC_BASE_URL = configured
    assert public_base_url() == "https://cohorts.example.com"
    assert public_url("/mentor/rate/abc/") == "https://cohorts.example.com/mentor/rate/abc/"
    assert public_url("mentor/") == "https://cohorts.example.com/mentor/"


def test_a_requests_own_address_wins_and_absolute_links_are_left_alone(settings):
    settings.PUBLIC_BASE_URL = "https://cohorts.example.com/"
    assert public_url("/mentor/", base_url="http://127.0.0.1:8017/") == "http://127.0.0.1:8017/mentor/"
    assert public_url("https://elsewhere.example/x") == "https://elsewhere.example/x"
