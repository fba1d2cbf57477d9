"""An owner answers a rectification on its alarm's page with photos, as on the ledger item's page (the same
form, checks, storage and evidence), on SQLite and PostgreSQL: in headless Chromium on a 390 px phone (a
file chosen, a fake refused, the thumbnail shown on the alarm's page after the answer), and attacked over
HTTP against the real ``sebiao cloud`` process (another workshop's owner, the inspector, no CSRF token, a
foreign Origin, a non-image, an oversized photo, an oversized form: all refused, nothing stored)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import PASSWORD, Cloud, world_batches
from cloud_server import *  # noqa: F401,F403 - the served_cloud fixture
from cloud_server import Served
from PIL import Image
from sqlalchemy import select
from test_cloud_pages import seed
from test_cloud_pages_browser import PageServer, _login
from web_browser import LOADED_WIDTH, PHONE, browser, screenshot

from cloud_ingest.review.photos import MAX_PHOTO, MAX_PHOTOS
from cloud_ingest.store import db
from cloud_ingest.store.schema import evidence_log, ledger_photos

OVERFLOW = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 40)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.slow
def test_an_owner_answers_with_a_photo_on_the_alarm_page_from_a_phone(cloud_url: str, tmp_path: Path) -> None:
    cloud = Cloud(cloud_url)
    tokens, ids = seed(cloud)
    a = ids["ws-a"]
    r = cloud.post(tokens["insp1"], f"/api/v1/alarms/{a}/rectifications", {"note": "请拍照说明刀具已放回红色架"})
    assert r.status_code == 201, r.text
    rect, item = r.json()["id"], r.json()["item"]
    photo, fake = tmp_path / "rack.png", tmp_path / "rack-fake.png"
    photo.write_bytes(_png())
    fake.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    with PageServer(cloud.client.app) as server, browser() as chrome:
        base = server.base
        owner = _login(chrome, base, "owner-a", "/rectifications", PHONE)  # where "待您答复" is
        with owner.expect_navigation():
            owner.click(f"#rects-waiting tr[data-rect='{rect}'] a.open")
        assert urlsplit(owner.url).path == f"/alarms/{a}"
        assert owner.locator("#action-bar a[data-action=answer]").get_attribute("href") == "#form-answer"
        assert owner.get_attribute("#form-answer", "enctype") == "multipart/form-data"
        assert owner.locator("article.rect .photos img").count() == 0
        owner.fill("#answer-text", "刀具已消毒并放回红色架")
        owner.set_input_files("#answer-photos", str(fake))
        with owner.expect_response(f"{base}/rectifications/{rect}/answer") as refused:
            owner.click("#answer-submit")
        assert refused.value.status == 422
        assert "JPEG" in owner.text_content("#error") and owner.get_attribute("article.rect",
                                                                              "data-state") == "requested"
        owner.fill("#answer-text", "刀具已消毒并放回红色架")
        owner.set_input_files("#answer-photos", str(photo))
        with owner.expect_navigation():
            owner.click("#answer-submit")
        assert urlsplit(owner.url).path == f"/alarms/{a}" and urlsplit(owner.url).fragment == f"rect-{rect}"
        assert owner.get_attribute("article.rect", "data-state") == "answered"
        img = owner.locator("article.rect .photos img")
        assert img.count() == 1
        img.scroll_into_view_if_needed()
        owner.wait_for_function("() => document.querySelector('article.rect .photos img').complete")
        assert img.evaluate(LOADED_WIDTH) == 64 and img.is_visible()
        assert owner.locator("#form-answer").count() == 0  # answered: nothing more to send
        assert owner.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert owner.evaluate(OVERFLOW) == []
        screenshot(owner, "cloud-alarm-answer-photo-phone")

        insp = _login(chrome, base, "insp1", f"/alarms/{a}")  # the inspector sees it beside the answer
        assert insp.locator("article.rect .photos img").evaluate(LOADED_WIDTH) == 64
        insp.goto(f"{base}/ledger/{item}")  # the same photo, the ledger item's
        assert insp.locator(".photos img").get_attribute("src") == img.get_attribute("src")
        for page in (insp, owner):
            assert [e for e in page.errors if "422" not in e and "favicon.ico" not in e] == [], page.errors
    got = cloud.get(tokens["admin"], f"/api/v1/ledger/items/{item}").json()
    assert [p["size"] for p in got["photos"]] == [len(photo.read_bytes())]
    cloud.client.close()
    cloud.engine.dispose()


class Session:
    """A page session against the real server: its cookies, its CSRF token read from a page."""

    def __init__(self, base: str, username: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
        r = self.client.post("/login", data={"username": username, "password": PASSWORD[username]})
        assert r.status_code == 303, r.text
        self.csrf = self.client.get("/workshops").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]

    def answer(self, rect: int, text: str, files: list[tuple[str, bytes, str]], csrf: str | None = "session",
               headers: dict[str, str] | None = None) -> httpx.Response:
        data = {"text": text, **({"csrf": self.csrf if csrf == "session" else csrf} if csrf is not None else {})}
        return self.client.post(f"/rectifications/{rect}/answer", data=data, headers=headers,
                                files=[("photo", f) for f in files] or [("photo", ("", b"", "application/octet-stream"))])


def test_the_alarm_page_answer_refuses_the_attacks_on_the_real_server(served_cloud: Served) -> None:
    cloud, process, tokens = served_cloud.cloud, served_cloud.process, served_cloud.tokens
    for gateway, _, doc in world_batches():
        assert cloud.push(tokens[gateway], doc).status_code == 200
    a = {x["workshop"]: x["id"] for x in cloud.get(tokens["admin"], "/api/v1/alarms").json()}["ws-a"]
    r = process.post(tokens["insp1"], f"/api/v1/alarms/{a}/rectifications", {"note": "请拍照"})
    assert r.status_code == 201, r.text
    rect, item = r.json()["id"], r.json()["item"]
    owner_a, owner_c, insp1 = (Session(process.url, u) for u in ("owner-a", "owner-c", "insp1"))
    png = ("rack.png", _png((8, 8)), "image/png")

    def stored() -> tuple:
        got = process.get(tokens["admin"], f"/api/v1/rectifications/{rect}").json()
        with db.read(cloud.engine) as conn:
            n = len(conn.execute(select(ledger_photos.c.id)).all())
        return got["state"], len(got["steps"]), n
    before = stored()
    # another workshop's owner: the same 404 as for a rectification that does not exist; nothing stored
    r = owner_c.answer(rect, "别家的", [png])
    assert r.status_code == 404, r.text
    assert owner_c.answer(99999, "别家的", [png]).status_code == 404
    assert owner_c.client.get(f"/alarms/{a}").status_code == 404
    # the inspector may see it, not answer it
    assert insp1.answer(rect, "替作坊答复", [png]).status_code == 403
    # CSRF: no token, a wrong one, a foreign Origin even with the token
    for csrf in (None, "not-the-token"):
        r = owner_a.answer(rect, "好了", [png], csrf=csrf)
        assert r.status_code == 403 and "CSRF" in r.text
    r = owner_a.answer(rect, "好了", [png], headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    # not an image, an image cut short, one photo too large, too many photos: the alarm page with the reason
    for files, status, words in (
            ([("x.png", b"<html><script>alert(1)</script></html>", "image/png")], 422, "not a JPEG, PNG or WebP"),
            ([("y.png", png[1][:40], "image/png")], 422, "cannot be read"),
            ([("z.png", png[1] + b"\0" * MAX_PHOTO, "image/png")], 413, f"over {MAX_PHOTO} bytes"),
            ([png] * (MAX_PHOTOS + 1), 400, f"at most {MAX_PHOTOS} photos")):
        r = owner_a.answer(rect, "好了", files)
        assert r.status_code == status, (files[0][0], r.status_code, r.text[-400:])
        assert 'role="alert"' in r.text and words in r.text and 'id="form-answer"' in r.text
    # a form over what any answer can be is refused before it is read whole
    r = owner_a.answer(rect, "好了", [("big.png", b"\0" * (MAX_PHOTOS * MAX_PHOTO + 128 * 1024), "image/png")])
    assert r.status_code == 413 and 'role="alert"' in r.text
    assert stored() == before
    # the answer with its photo: back to the alarm's page, the photo shown there, named in the evidence
    r = owner_a.answer(rect, "刀具已放回红色架", [png])
    assert (r.status_code, r.headers["location"]) == (303, f"/alarms/{a}#rect-{rect}")
    page = owner_a.client.get(f"/alarms/{a}").text
    photo = cloud.get(tokens["admin"], f"/api/v1/ledger/items/{item}").json()["photos"][0]
    assert f'src="/ledger/photos/{photo["id"]}"' in page
    assert owner_a.client.get(f"/ledger/photos/{photo['id']}").content == png[1]
    assert owner_c.client.get(f"/ledger/photos/{photo['id']}").status_code == 404
    with db.read(cloud.engine) as conn:
        body = json.loads(conn.execute(select(evidence_log.c.body).where(evidence_log.c.kind == "rectification_answer")
                                       .order_by(evidence_log.c.seq.desc())).scalars().first())
    assert body["text"] == "刀具已放回红色架" and body["photos"] == [
        {"id": photo["id"], "type": "image/png", "size": len(png[1]), "sha256": photo["sha256"]}]
    assert stored()[0] == "answered"
