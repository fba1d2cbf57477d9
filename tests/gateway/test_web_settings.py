"""The ``display:`` config section: defaults, values, and precise errors (file, field path, reason)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from edge_gateway.model.workshop import parse_config
from edge_gateway.web.settings import DisplaySettings, display_settings, parse_display
from sebiao_common.errors import ConfigError

BASE = yaml.safe_load((Path(__file__).parents[2] / "examples" / "workshop.yaml").read_text("utf-8"))


def _settings(display):
    data = copy.deepcopy(BASE)
    data["display"] = display
    return display_settings(parse_config(data, "workshop.yaml"))


def test_no_section_gives_the_defaults():
    assert display_settings(parse_config(copy.deepcopy(BASE))) == DisplaySettings()
    assert DisplaySettings().show_misuse and DisplaySettings().console_password is None


def test_values_are_read():
    s = _settings({"title": "阳光作坊", "title_en": "Sunlit workshop", "public_misuse": "hidden",
                   "public_url": "http://192.168.1.20:8080/display", "activity_items": 0,
                   "console_password": "a-long-secret", "label_stale_days": 14, "session_hours": 8,
                   "trusted_proxies": ["127.0.0.1", "192.168.1.0/24"], "grade_max_age_hours": 24})
    assert (s.title, s.title_en, s.show_misuse, s.activity_items) == ("阳光作坊", "Sunlit workshop", False, 0)
    assert (s.public_url, s.console_password, s.label_stale_days, s.session_hours) == (
        "http://192.168.1.20:8080/display", "a-long-secret", 14, 8)
    assert s.trusted_proxies == ("127.0.0.1/32", "192.168.1.0/24") and DisplaySettings().trusted_proxies == ()
    assert s.grade_max_age_hours == 24 and DisplaySettings().grade_max_age_hours == 72


CASES = [
    ({"public_misuse": "names"}, "display.public_misuse: 'names' is not one of: counts, hidden"),
    ({"colour": "red"}, "display.colour: unknown key (known keys: title,"),
    ({"public_url": "192.168.1.20/display"}, "display.public_url: '192.168.1.20/display' is not an http:// or "
                                             "https:// URL with a host"),
    ({"console_password": "short"}, "display.console_password: a console password must have at least 10 characters"),
    ({"console_password": 12345678901}, "display.console_password: must be a quoted string"),
    ({"label_stale_days": 0}, "display.label_stale_days: must be at least 1, got 0"),
    ({"grade_max_age_hours": 0}, "display.grade_max_age_hours: must be at least 1, got 0"),
    ({"activity_items": "8"}, "display.activity_items: must be a whole number, got a string"),
    ({"title": "很" * 61}, "display.title: is 61 characters long, at most 60 fit on the screen"),
    ({"trusted_proxies": ["127.0.0.1", "proxy"]},
     "display.trusted_proxies[1]: 'proxy' is not an IP address or CIDR network"),
    ("counts", "display: must be a mapping, got a string"),
]


@pytest.mark.parametrize("display, message", CASES, ids=[c[1].split(":")[1].strip() or "mapping" for c in CASES])
def test_mistakes_name_the_file_field_and_reason(display, message):
    with pytest.raises(ConfigError) as caught:
        parse_display(display, "workshop.yaml")
    assert "workshop.yaml: " + message in str(caught.value)
