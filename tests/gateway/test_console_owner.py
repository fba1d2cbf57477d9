"""The owner's console as an owner uses it, in headless Chromium on a phone (390×844) and an old PC (1024×768),
against the real gateway and real Mosquitto: the most urgent alarm first, 今日待处理 at the top, one tap to act,
a confirm step before 已处理, 今日已处理, a silent station's last message, names instead of ids, the installer's
details closed, headings below the sticky header, success drawn as success, no sideways scrolling, and the
gateway's refusals in Chinese first."""

from __future__ import annotations

import re
import time

import pytest
from gateway_proc import TOKEN, online_workshop
from web_browser import PHONE, browser, login, screenshot

pytestmark = pytest.mark.slow
PC = (1024, 768)
SIZES = {"phone": PHONE, "pc": PC}
RANK = {"critical": 0, "major": 1, "minor": 2, "warning": 3}
HAN = re.compile(r"^[\u4e00-\u9fff“「（]")  # a message that starts in Chinese


@pytest.fixture(scope="module")
def rig(mosquitto_module, tmp_path_factory):
    """Five alarms, raised one after the other: a misplaced board (warning) with its unwashed return (major),
    a sink gone offline (major), an unwashed green knife (major), a red knife on the white rack (critical)."""
    with online_workshop(mosquitto_module(), tmp_path_factory.mktemp("owner")) as (gateway, stations), \
            browser() as chrome:
        def raised(n: int) -> None:
            gateway.wait_for(lambda: len(gateway.get("/api/alarms").json()) >= n, what=f"{n} alarms")
            time.sleep(0.02)  # the next one is younger by a few ms at least

        stations["rack-red-2"].event("CB-R-01", "removed")
        stations["rack-red-1"].event("CB-R-01", "placed")  # not its home (rack-red-2), and not washed
        raised(2)
        stations["sink-yellow-1"].status(False)
        raised(3)
        stations["rack-green-1"].event("KN-G-01", "removed")
        stations["rack-green-1"].event("KN-G-01", "placed")
        raised(4)
        stations["rack-red-1"].event("KN-R-01", "removed")
        stations["rack-white-1"].event("KN-R-01", "placed")
        raised(5)
        yield gateway, stations, chrome


def _alarms(gateway) -> dict[tuple[str, str], dict]:
    return {(a["type"], a["tool"] or a["station"]): a for a in gateway.get("/api/alarms").json()}


def _card(page, alarm: dict):
    return page.locator(f'article.alarm[data-alarm="{alarm["id"]}"]')


def _order(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all("article.alarm", "els => els.map(e => [e.dataset.severity, e.dataset.acked])")


def _no_sideways_scroll(page) -> None:
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"the page is {width} px wide in a {client} px window"


@pytest.mark.parametrize("size", ["phone", "pc"])
def test_urgent_first_with_the_count_at_the_top_and_names_not_ids(rig, size):
    gateway, _, chrome = rig
    page = login(chrome, gateway.base, TOKEN, SIZES[size])
    page.wait_rendered()
    page.wait_for_selector("article.alarm")
    alarms = _alarms(gateway)
    # sorted by severity, unacknowledged first, then the longest waiting
    order = _order(page)
    assert [RANK[s] for s, _ in order] == sorted(RANK[s] for s, _ in order), order
    assert order[0][0] == "critical" and order[-1][0] == "warning"
    ids = page.eval_on_selector_all("article.alarm[data-severity=major]", "els => els.map(e => +e.dataset.alarm)")
    majors = sorted((a for a in alarms.values() if a["severity"] == "major"), key=lambda a: a["ts"])
    assert ids == [a["id"] for a in majors if not a["acked"]] + [a["id"] for a in majors if a["acked"]]
    # 今日待处理 N at the top, above the list, N the active alarms
    summary = page.locator("#summary")
    assert f"今日待处理 {len(alarms)} 条" in summary.text_content()
    assert summary.bounding_box()["y"] < page.locator("#alarm-list").bounding_box()["y"]
    # what the owner reads names things: the station's name, the tool as 红色刀具 KN-R-01, no station ids
    card = _card(page, alarms[("cross_zone", "KN-R-01")])
    seen = card.evaluate("c => [...c.children].filter(e => !e.matches('details.tech')).map(e => e.innerText).join(' ')")
    assert "熟食器具架" in seen and "红色刀具 KN-R-01" in seen and "rack-white-1" not in seen, seen
    misplaced = _card(page, alarms[("misplaced", "CB-R-01")]).inner_text()
    assert "生肉砧板架" in misplaced and "rack-red-2" not in misplaced, misplaced  # its home, by name
    # the triggering event is marked in the evidence, in words as well as colour
    card.locator("details.evidence-box > summary").click()
    trigger = card.locator("tr[data-trigger='1']")
    assert trigger.count() == 1 and "触发报警" in trigger.inner_text() and "熟食器具架" in trigger.inner_text()
    _no_sideways_scroll(page)
    screenshot(page, f"console-owner-{size}", full_page=False)
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize("size", ["phone", "pc"])
def test_an_offline_station_shows_when_it_was_last_heard_not_a_tool_history(rig, size):
    gateway, _, chrome = rig
    page = login(chrome, gateway.base, TOKEN, SIZES[size])
    page.wait_rendered()
    alarm = _alarms(gateway)[("station_offline", "sink-yellow-1")]
    card = _card(page, alarm)
    card.wait_for()
    text = card.inner_text()
    assert "最后一次收到它的消息" in text and "半成品清洗池" in text and "sink-yellow-1" not in text, text
    assert "该器具最近的记录" not in text and "该读卡站最后发来的记录" in text
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize("size", ["phone", "pc"])
def test_technical_details_are_closed_by_default_and_hold_the_ids(rig, size):
    gateway, _, chrome = rig
    page = login(chrome, gateway.base, TOKEN, SIZES[size])
    page.wait_rendered()
    alarm = _alarms(gateway)[("cross_zone", "KN-R-01")]
    card = _card(page, alarm)
    # the one id in sight: the alarm's number, the same the inspectors see in the cloud ("ws-demo #N")
    assert card.locator(".alarm-head .number").inner_text() == f"#{alarm['id']}"
    tech = card.locator("details.tech")
    assert tech.evaluate("d => d.open") is False
    assert not tech.locator("dl").is_visible()
    tech.locator("summary").click()
    assert tech.locator("dl").is_visible()
    ids = tech.locator("dl").inner_text()
    assert "rack-white-1" in ids and "cross_zone" in ids and "04A224E2C65E80" in ids
    _no_sideways_scroll(page)
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize("size", ["phone", "pc"])
def test_a_tabs_heading_lands_below_the_sticky_header(rig, size):
    gateway, _, chrome = rig
    page = login(chrome, gateway.base, TOKEN, SIZES[size])
    page.wait_rendered()
    for tab in ("stations", "labels", "day"):
        page.click(f"nav.tabs a[href='#{tab}']")
        page.wait_for_function(f"() => Math.abs(document.getElementById('{tab}-h').getBoundingClientRect().top"
                               f" - (document.querySelector('.bar').getBoundingClientRect().bottom + 8)) < 40"
                               f" || window.scrollY + innerHeight >= document.documentElement.scrollHeight - 2")
        header = page.locator(".bar").bounding_box()
        heading = page.locator(f"#{tab}-h").bounding_box()
        assert heading["y"] >= header["y"] + header["height"], (tab, heading, header)
    page.context.close()


def test_one_tap_opens_one_form_and_the_name_is_asked_there_and_kept(rig):
    gateway, _, chrome = rig
    page = login(chrome, gateway.base, TOKEN, PHONE)
    page.wait_rendered()
    page.wait_for_selector("article.alarm")
    assert page.locator("#by").count() == 0  # nothing asked at the top of the page any more
    forms = page.locator("article.alarm form.act")
    assert forms.count() == len(_alarms(gateway)) and all(not forms.nth(i).is_visible() for i in range(forms.count()))
    first, second = page.locator("article.alarm").nth(0), page.locator("article.alarm").nth(1)
    first.locator("button[data-act=open]").click()  # one tap
    assert first.locator("form.act").is_visible() and first.locator("input.by").is_visible()
    second.locator(".alarm-head").click()  # a tap on another card: that one opens, the first closes
    assert second.locator("form.act").is_visible() and not first.locator("form.act").is_visible()
    second.locator("input.by").fill("王师傅")
    second.locator("input.by").dispatch_event("change")
    page.reload()
    page.wait_rendered()
    page.locator("article.alarm").nth(0).locator("button[data-act=open]").click()
    assert page.locator("article.alarm").nth(0).locator("input.by").input_value() == "王师傅"  # kept on this device
    assert page.errors == []
    page.context.close()


def test_acknowledge_is_drawn_as_success_and_moves_the_card_behind_the_unacknowledged(rig):
    gateway, _, chrome = rig
    page = login(chrome, gateway.base, TOKEN, PC)
    page.wait_rendered()
    alarms = _alarms(gateway)
    oldest = alarms[("unwashed_return", "CB-R-01")]
    card = _card(page, oldest)
    card.locator("button[data-act=open]").click()
    card.locator("input.by").fill("张师傅")
    card.locator("button[data-act=ack]").click()
    page.wait_for_selector(f'article.alarm[data-alarm="{oldest["id"]}"][data-acked="1"]', timeout=3000)
    ok = card.locator("p.ok")
    assert "张师傅" in ok.text_content() and ok.is_visible() and not card.locator("p.error").is_visible()
    colours = ok.evaluate("""p => [getComputedStyle(p).color,
        getComputedStyle(p.closest('article').querySelector('p.error')).color]""")
    assert colours[0] != colours[1], colours  # the success is not in the error's colour
    assert colours[0] == "rgb(134, 239, 172)", colours  # --ok
    majors = page.eval_on_selector_all("article.alarm[data-severity=major]", "els => els.map(e => +e.dataset.alarm)")
    assert majors[-1] == oldest["id"]  # acknowledged: behind the majors nobody is on yet
    waiting = sum(not a["acked"] for a in gateway.get("/api/alarms").json())
    page.wait_for_function(f"() => document.getElementById('summary').textContent.includes('其中 {waiting} 条')")
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize("size", ["phone", "pc"])
def test_refusals_come_in_chinese_first_naming_the_alarm(rig, size):
    gateway, _, chrome = rig
    alarm = _alarms(gateway)[("cross_zone", "KN-R-01")]
    page = login(chrome, gateway.base, TOKEN, SIZES[size])
    page.wait_rendered()
    card = _card(page, alarm)
    card.locator("button[data-act=open]").click()
    card.locator("input.by").fill("张师傅")
    card.locator("button[data-act=clear]").click()
    card.locator("button[data-act=confirm-clear]").click()  # no corrective action: the gateway refuses
    page.wait_for_function(f"""() => document.querySelector('article.alarm[data-alarm="{alarm["id"]}"] p.error')
                               .textContent.length > 0""", timeout=3000)
    refusal = card.locator("p.error").text_content()
    assert HAN.match(refusal) and "整改措施" in refusal and "红色刀具 KN-R-01" in refusal, refusal
    assert refusal.index("/") > refusal.index("整改措施")  # Chinese, then English
    assert card.locator("p.error").is_visible() and not card.locator("p.ok").is_visible()
    _no_sideways_scroll(page)
    # the API's doors say the same, Chinese first
    again = gateway.post(f"/api/alarms/{alarm['id']}/clear", {"by": "张师傅"})
    assert again.status_code == 422 and HAN.match(again.json()["error"]), again.text
    missing = gateway.post("/api/alarms/999999/ack", {"by": "张师傅"})
    assert missing.status_code == 404 and HAN.match(missing.json()["error"]) and "does not exist" in missing.text
    assert [e for e in page.errors if "status of 422" not in e] == []
    page.context.close()


def test_clear_asks_to_confirm_then_goes_under_handled_today(rig):
    gateway, _, chrome = rig
    alarm = _alarms(gateway)[("unwashed_return", "KN-G-01")]
    page = login(chrome, gateway.base, TOKEN, PHONE)
    page.wait_rendered()
    before = int(page.locator("#summary").get_attribute("data-todo"))
    card = _card(page, alarm)
    card.locator("button[data-act=open]").click()
    card.locator("input.by").fill("李师傅")
    card.locator("textarea").fill("已在绿色清洗池重新清洗")
    card.locator("button[data-act=clear]").click()
    confirm = card.locator(".confirm")
    assert confirm.is_visible() and "确定" in confirm.inner_text()
    assert gateway.get(f"/api/alarms/{alarm['id']}").json()["state"] == "active"  # nothing sent yet
    card.locator("button[data-act=cancel-clear]").click()  # 返回: nothing happens
    assert not confirm.is_visible() and card.locator("button[data-act=clear]").is_visible()
    time.sleep(0.3)
    assert gateway.get(f"/api/alarms/{alarm['id']}").json()["state"] == "active"
    card.locator("button[data-act=clear]").click()
    card.locator("button[data-act=confirm-clear]").click()
    card.wait_for(state="detached", timeout=3000)
    detail = gateway.get(f"/api/alarms/{alarm['id']}").json()
    assert detail["state"] == "cleared" and detail["history"][-1]["by"] == "李师傅"
    done = page.locator(f'#handled-list li[data-alarm="{alarm["id"]}"]')
    done.wait_for(timeout=3000)
    assert "李师傅" in done.inner_text() and "已在绿色清洗池重新清洗" in done.inner_text()
    assert "已处理" in page.text_content("#action-note")
    page.wait_for_function(f"() => document.getElementById('summary').dataset.todo === '{before - 1}'")
    assert f"今日已处理 {page.locator('#handled-list li[data-alarm]').count()} 条" in page.text_content("#summary")
    _no_sideways_scroll(page)
    screenshot(page, "console-owner-handled-phone", full_page=False)
    assert page.errors == []
    page.context.close()


def test_an_alarm_that_ended_by_itself_is_told_in_the_owners_words(rig):
    gateway, stations, chrome = rig
    stations["sink-green-1"].event("04DD0000000009", "placed")  # a tag nobody enrolled, then gone again
    stations["sink-green-1"].event("04DD0000000009", "removed")
    gateway.wait_for(lambda: any(a["tag"] == "04DD0000000009" and a["state"] == "cleared"
                                 for a in gateway.get("/api/alarms?state=all").json()), what="the tag's alarm cleared")
    page = login(chrome, gateway.base, TOKEN, PHONE)
    page.wait_rendered()
    item = page.locator("#handled-list li", has_text="04DD0000000009")
    item.wait_for(timeout=3000)
    text = item.inner_text()
    assert "系统自动关闭" in text and "“标签已离开”" in text and "system" not in text and "/" not in text, text
    page.click("#lang")
    assert "closed automatically" in item.inner_text() and "“the tag has left the reader”" in item.inner_text()
    page.click("#lang")
    assert page.errors == []
    page.context.close()


def test_station_names_wrap_on_a_phone_with_the_full_id_at_hand(rig):
    gateway, _, chrome = rig
    page = login(chrome, gateway.base, TOKEN, PHONE)
    page.wait_rendered()
    page.wait_for_selector("#station-table .station-label")
    labels = page.eval_on_selector_all("#station-table .station-label, #tool-table .station-label", """els => els.map(
        e => ({ title: e.title, text: e.innerText, clipped: e.scrollWidth > e.clientWidth + 1
                || e.getBoundingClientRect().right > document.documentElement.clientWidth }))""")
    assert labels and not [x for x in labels if x["clipped"]], labels
    assert all("(" in x["title"] or x["title"] == x["text"] for x in labels)
    assert any("(sink-yellow-1)" in x["title"] for x in labels)  # the full id is there to read
    assert "生肉刀具架" in page.locator('tr[data-tool="KN-R-01"] td:nth-child(5)').inner_text()  # its home, named
    row = page.locator('tr[data-station="sink-yellow-1"]')
    assert "半成品清洗池" in row.inner_text() and "sink-yellow-1" not in row.inner_text()  # ids: the installer's
    page.check("#show-tech")  # 显示技术详情: the ids come, wrapping, and stay asked for on this device
    assert "sink-yellow-1" in row.inner_text()
    _no_sideways_scroll(page)
    page.reload()
    page.wait_rendered()
    assert page.is_checked("#show-tech") and "sink-yellow-1" in row.inner_text()
    page.uncheck("#show-tech")
    _no_sideways_scroll(page)
    page.context.close()


def test_an_enrolment_refusal_names_the_field_in_chinese_first(rig):
    gateway, _, chrome = rig
    page = login(chrome, gateway.base, TOKEN, PC)
    page.wait_rendered()
    enrol = """async (body) => {
        const csrf = (await (await fetch('/console/api/session')).json()).csrf;
        const r = await fetch('/console/api/enrol', { method: 'POST', headers: { 'Content-Type': 'application/json',
            'X-CSRF-Token': csrf }, body: JSON.stringify(body) });
        return [r.status, (await r.json()).error]; }"""
    body = {"tag": "04DD0000000009", "color": "green", "home": "rack-green-1", "by": "李师傅"}
    answer = page.evaluate(enrol, body)
    assert answer[0] == 400 and answer[1].startswith("请填写器具种类 / "), answer
    answer = page.evaluate(enrol, {**body, "kind": "brush", "home": "rack-red-1"})  # a red rack for a green brush
    assert answer[0] == 400 and answer[1].startswith("生肉刀具架是红色区的器具架"), answer
    assert "rack-red-1" in answer[1] and "workshop.yaml" not in answer[1]  # no file path, the id after the name
    page.context.close()


def test_the_login_hint_speaks_to_the_owner_with_config_keys_behind_technical_details(rig):
    gateway, _, chrome = rig
    page = chrome.new_page(viewport={"width": PHONE[0], "height": PHONE[1]})
    page.goto(gateway.base + "/console/login")
    shown = page.locator("main").inner_text()
    assert "安装" in shown and "console_password" not in shown and "http.token" not in shown, shown
    assert page.locator("details.tech").evaluate("d => d.open") is False
    page.click("details.tech summary")
    assert "display.console_password" in page.locator("details.tech").inner_text()
    page.close()
