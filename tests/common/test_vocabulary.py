"""One vocabulary of alarm types and severities everywhere: the gateway console's JavaScript says the
same words as ``sebiao_common/alarms.py``, and every alarm type the gateway can raise has a name."""

from __future__ import annotations

import re
from pathlib import Path

from sebiao_common import alarms as vocabulary
from sebiao_common.alarms import ALARM_TYPES, SEVERITIES
from sebiao_common.station_health import RESET_CAUSE_NAMES, UPDATE_STATE_NAMES

CONSOLE_JS = Path(__file__).resolve().parents[2] / "edge_gateway" / "web" / "static" / "console.js"


def _js_table(language: str, name: str) -> dict[str, str]:
    text = CONSOLE_JS.read_text("utf-8")
    block = text[text.index(f"    {language}: {{"):]
    body = re.search(name + r": \{(.*?)\}", block, re.S)
    assert body, f"console.js: no {language}.{name} table"
    return dict(re.findall(r'(\w+): "([^"]*)"', body.group(1)))


def test_every_configurable_alarm_type_has_a_name_in_both_languages():
    assert tuple(vocabulary.ALARM_TYPE_NAMES) == ALARM_TYPES
    assert tuple(vocabulary.SEVERITY_NAMES) == SEVERITIES
    for zh, en in vocabulary.ALARM_TYPE_NAMES.values():
        assert re.search(r"[\u4e00-\u9fff]", zh) and en.isascii()


def test_each_severity_has_its_own_symbol():
    symbols = [symbol for _, _, symbol in vocabulary.SEVERITY_NAMES.values()]
    assert len(set(symbols)) == len(symbols) == 4


def test_the_console_script_says_the_same_words():
    zh = _js_table("zh", "types")
    en = _js_table("en", "types")
    names = {**vocabulary.ALARM_TYPE_NAMES, **vocabulary.GATEWAY_ALARM_TYPE_NAMES}  # the console shows both
    assert zh == {k: words[0] for k, words in names.items()}
    assert en == {k: words[1] for k, words in names.items()}
    assert _js_table("zh", "sev") == {k: words[0] for k, words in vocabulary.SEVERITY_NAMES.items()}
    assert _js_table("en", "sev") == {k: words[1] for k, words in vocabulary.SEVERITY_NAMES.items()}


def test_an_unknown_type_is_shown_as_its_id():
    assert vocabulary.alarm_type_words("sink_refused") == ("接收方拒绝写入", "sink refused writes")
    assert vocabulary.alarm_type_words("new_type") == ("new_type", "new_type")


def test_the_console_names_reset_causes_and_update_states_as_the_common_table_does():
    for i, language in enumerate(("zh", "en")):
        assert _js_table(language, "causes") == {k: words[i] for k, words in RESET_CAUSE_NAMES.items()}
        assert _js_table(language, "updateStates") == {k: words[i] for k, words in UPDATE_STATE_NAMES.items()}
