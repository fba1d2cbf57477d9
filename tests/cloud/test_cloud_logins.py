"""Password guessing against the real ``sebiao cloud`` process, over real HTTP, with the service's own argon2.

One brake for the JSON login and the pages' login: it slows the guessing
client (per client address, and per username and client address), so a
guesser waits while the same inspector still logs in from elsewhere; an
unknown username takes an argon2 verification like a known one, so timing
does not tell which usernames exist. Each test speaks from its own loopback
address (127.0.0.x), a client of its own as the server sees it.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from cloud_server import CloudServer

pytestmark = pytest.mark.slow
PASSWORD = "inspector-password-1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):  # type: ignore[no-untyped-def]
    with CloudServer(tmp_path_factory.mktemp("cloud-logins"), admin=True) as proc:
        admin = {"Authorization": f"Bearer {proc.admin_token()}"}
        with proc.client() as c:
            assert c.post("/api/v1/admin/districts", json={"id": "d1", "name": "昆都仑区"}, headers=admin).status_code == 201
            for name in ("insp1", "insp2", "insp3", "t1", "t2", "t3", "t4"):
                r = c.post("/api/v1/admin/users", headers=admin, json={
                    "username": name, "password": PASSWORD, "role": "inspector", "districts": ["d1"]})
                assert r.status_code == 201, r.text
        yield proc


def _json_login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/login", json={"username": username, "password": password})


def _page_login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password})


def test_the_json_login_brakes_a_guesser_even_with_the_right_password(served) -> None:  # type: ignore[no-untyped-def]
    with served.client(source="127.0.0.11") as guesser:
        for _ in range(5):
            r = _json_login(guesser, "insp1", "wrong-password")
            assert r.status_code == 401 and r.json()["error"] == "用户名或密码错误 / wrong username or password"
        for _ in range(25):  # thirty tries in all: none of the later ones is even checked
            assert _json_login(guesser, "insp1", "wrong-password").status_code == 429
        r = _json_login(guesser, "insp1", PASSWORD)
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
        assert r.json()["error"].startswith("尝试次数过多") and "too many attempts" in r.json()["error"]
        assert _page_login(guesser, "insp1", PASSWORD).status_code == 429  # one brake for both logins
        assert _json_login(guesser, "insp2", PASSWORD).status_code == 201  # another user from there: not braked
    with served.client(source="127.0.0.12") as inspector:
        assert _json_login(inspector, "insp1", PASSWORD).status_code == 201  # the inspector is not locked out


def test_failing_an_inspectors_page_login_does_not_lock_them_out(served) -> None:  # type: ignore[no-untyped-def]
    with served.client(source="127.0.0.21") as guesser:
        for _ in range(5):
            assert _page_login(guesser, "insp3", "wrong-password").status_code == 401
        r = _page_login(guesser, "insp3", PASSWORD)
        assert r.status_code == 429 and "尝试次数过多" in r.text
    with served.client(source="127.0.0.22") as inspector:
        r = _page_login(inspector, "insp3", PASSWORD)
        assert r.status_code == 303 and "sebiao_cloud=" in r.headers["set-cookie"]


def test_one_client_guessing_many_usernames_is_braked(served) -> None:  # type: ignore[no-untyped-def]
    with served.client(source="127.0.0.31") as guesser:
        for n in range(20):  # four names, five tries each: the client's limit
            assert _json_login(guesser, f"user-{n % 4}", "wrong-password").status_code == 401
        assert _json_login(guesser, "user-9", "wrong-password").status_code == 429
        assert _page_login(guesser, "insp2", PASSWORD).status_code == 429
    with served.client(source="127.0.0.32") as other:
        assert _json_login(other, "insp2", PASSWORD).status_code == 201


def test_an_unknown_username_takes_as_long_as_a_known_one(served) -> None:  # type: ignore[no-untyped-def]
    """Medians of interleaved tries, so a busy machine slows both sides alike; an unknown username must cost
    an argon2 verification (the known one's median is that cost), not answer at once."""
    known, unknown = [], []
    with served.client(source="127.0.0.41") as client:
        _json_login(client, "nobody-warm-up", "x")  # the dummy hash is made on first use
        for n in range(8):  # 16 failures: under the client's limit of 20, two per known user
            for username, times in ((f"t{n % 4 + 1}", known), (f"nobody-{n}", unknown)):
                started = time.perf_counter()
                r = _json_login(client, username, "wrong-password")
                times.append(time.perf_counter() - started)
                assert r.status_code == 401, r.text
    assert statistics.median(unknown) > 0.5 * statistics.median(known), (known, unknown)


def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_a_sequence(served) -> None:  # type: ignore[no-untyped-def]
    """Each try takes its place before the (slow) argon2 check, so thirty guesses sent at once are still five
    checked guesses and twenty-five refusals, not thirty guesses that all passed the brake while checking."""
    def guess(_: int) -> int:
        with served.client(source="127.0.0.51") as client:
            return _json_login(client, "insp2", "wrong-password").status_code
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(guess, range(30)))
    assert sorted(answers) == [401] * 5 + [429] * 25
