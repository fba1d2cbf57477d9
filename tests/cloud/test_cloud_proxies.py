"""Who the client is, against the real ``sebiao cloud`` process: ``X-Forwarded-For`` and
``X-Forwarded-Proto`` count only from the configured ``trusted_proxies``.

Without trusted proxies, a guesser who writes a new ``X-Forwarded-For`` on
every try is still one client to the login brake (even from 127.0.0.1, which
uvicorn would otherwise believe); behind a trusted proxy the header names the
client, and a peer that is not a proxy is counted by its own address.
"""

from __future__ import annotations

import pytest
from cloud_server import CloudServer

pytestmark = pytest.mark.slow
PASSWORD = "inspector-password-1"


def _with_inspector(proc: CloudServer) -> CloudServer:
    admin = {"Authorization": f"Bearer {proc.admin_token()}"}
    with proc.client() as c:
        assert c.post("/api/v1/admin/districts", json={"id": "d1", "name": "昆都仑区"}, headers=admin).status_code == 201
        r = c.post("/api/v1/admin/users", headers=admin, json={
            "username": "insp1", "password": PASSWORD, "role": "inspector", "districts": ["d1"]})
        assert r.status_code == 201, r.text
    return proc


def _login(client, password: str, forwarded: str | None = None, page: bool = False):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    if page:
        return client.post("/login", data={"username": "insp1", "password": password}, headers=headers)
    return client.post("/api/v1/login", json={"username": "insp1", "password": password}, headers=headers)


def test_a_forged_x_forwarded_for_does_not_dodge_the_brake(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = _with_inspector(CloudServer(tmp_path, admin=True).start())
    with proc, proc.client() as guesser:  # from 127.0.0.1, which uvicorn alone would believe
        for n in range(5):
            assert _login(guesser, "wrong-password", f"198.51.100.{n}").status_code == 401
        assert _login(guesser, PASSWORD, "198.51.100.99").status_code == 429
        assert _login(guesser, PASSWORD, "198.51.100.98", page=True).status_code == 429
        with proc.client(source="127.0.0.2") as other:
            r = other.post("/login", data={"username": "insp1", "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https"})
            assert r.status_code == 303
            assert "Secure" not in r.headers["set-cookie"]  # the scheme is not taken from an untrusted peer


def test_behind_a_trusted_proxy_the_header_names_the_client(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = _with_inspector(CloudServer(tmp_path, admin=True, trusted_proxies=["127.0.0.1"]).start())
    with proc, proc.client() as proxy:
        for _ in range(5):
            assert _login(proxy, "wrong-password", "203.0.113.7").status_code == 401
        assert _login(proxy, PASSWORD, "203.0.113.7").status_code == 429  # that client waits ...
        assert _login(proxy, PASSWORD, "203.0.113.8").status_code == 201  # ... another behind the proxy does not
        # a client behind a chain of proxies: the nearest address that is not a trusted proxy counts
        assert _login(proxy, PASSWORD, "203.0.113.7, 127.0.0.1").status_code == 429
        r = proxy.post("/login", data={"username": "insp1", "password": PASSWORD},
                       headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]  # the client came over https
        with proc.client(source="127.0.0.2") as not_a_proxy:  # its header is not believed: it is the client
            for n in range(5):
                assert _login(not_a_proxy, "wrong-password", f"198.51.100.{n}").status_code == 401
            assert _login(not_a_proxy, PASSWORD, "198.51.100.99").status_code == 429
