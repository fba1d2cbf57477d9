"""The ledger's and the plan's page forms attacked over HTTP (the real app, SQLite and PostgreSQL): another
district's inspector, another workshop's owner, the wrong role, no CSRF token, a fake or oversized photo,
and the photo route; nothing refused leaves a trace."""

from __future__ import annotations

import io

from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from PIL import Image
from test_cloud_pages import Browserless

from cloud_ingest.review.photos import MAX_PHOTO

DAY_MS = 86_400_000


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 200)).save(out, "PNG")
    return out.getvalue()


def _answer(page: Browserless, item: int, text: str, files: list[tuple[str, bytes, str]],  # type: ignore[no-untyped-def]
            csrf: str | None = "session"):
    data = {"text": text, **({"csrf": page.csrf} if csrf == "session" else {})}
    return page.client.post(f"/ledger/{item}/answer", data=data,
                            files=[("photo", f) for f in files] or [("photo", ("", b"", "application/octet-stream"))])


def test_the_ledger_forms_refuse_the_attacks(cloud) -> None:  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    r = cloud.post(tokens["insp1"], "/api/v1/ledger/items", {"workshop": "ws-a", "text": "刀具未分色",
                                                             "due": cloud.now + DAY_MS})
    item = r.json()["id"]
    insp1, insp2 = Browserless(cloud, "insp1"), Browserless(cloud, "insp2")
    owner_a, owner_c = Browserless(cloud, "owner-a"), Browserless(cloud, "owner-c")

    def snapshot() -> tuple:
        got = cloud.get(tokens["admin"], f"/api/v1/ledger/items/{item}").json()
        return got["state"], len(got["steps"]), len(got["photos"])
    before = snapshot()
    # out of scope: 404 pages, whatever the form
    assert insp2.get(f"/ledger/{item}").status_code == 404
    assert insp2.post(f"/ledger/{item}/return", note="x").status_code == 404
    assert insp2.post("/ledger", workshop="ws-a", text="别区的").status_code == 404
    assert _answer(owner_c, item, "别家的", [("a.png", _png(), "image/png")]).status_code == 404
    assert owner_c.get("/workshops/ws-a/plan").status_code == 404
    assert insp2.post("/workshops/ws-a/plan", summary="x").status_code == 404
    # the wrong role: 403; closing what was never answered: 409
    assert owner_a.post(f"/ledger/{item}/close", note="自己销号").status_code == 403
    assert owner_a.post("/workshops/ws-a/plan", summary="自己写").status_code == 403
    assert insp1.post(f"/ledger/{item}/close", note="直接销号").status_code == 409
    # no CSRF token: 403
    assert _answer(owner_a, item, "好了", [], csrf=None).status_code == 403
    assert insp1.post("/ledger", csrf=None, workshop="ws-a", text="x").status_code == 403
    # photos: not an image, an image cut short, too large
    for name, data, status in (("x.png", b"<html><script>alert(1)</script></html>", 422),
                               ("y.png", _png()[:40], 422),
                               ("z.png", _png() + b"\0" * MAX_PHOTO, 413)):
        r = _answer(owner_a, item, "好了", [(name, data, "image/png")])
        assert r.status_code == status, (name, r.status_code)
        assert 'role="alert"' in r.text
    assert snapshot() == before
    # an answer with a real photo: the photo only for those who may see the item
    r = _answer(owner_a, item, "已更换红色刀具", [("a.png", _png(), "image/png")])
    assert r.status_code == 303, r.text
    photo = cloud.get(tokens["admin"], f"/api/v1/ledger/items/{item}").json()["photos"][0]["id"]
    for page in (owner_a, insp1):
        got = page.get(f"/ledger/photos/{photo}")
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff" and "sandbox" in got.headers[
            "content-security-policy"]
    for page in (owner_c, insp2):
        assert page.get(f"/ledger/photos/{photo}").status_code == 404
    assert Browserless(cloud).get(f"/ledger/photos/{photo}").status_code == 303  # to the login
    assert insp1.post(f"/ledger/{item}/close", note="").status_code == 303
    assert snapshot() == ("closed", 3, 1)
