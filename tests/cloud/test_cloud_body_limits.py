"""Request bodies the cloud reads before any token or session are bounded: no memory exhaustion unauthenticated.

The ingest endpoint, the API's login and admin bodies and the pages' login
form each read a body before they know who sends it; read whole before its
size was looked at, a few parallel gigabyte posts would take the cloud's
memory. Now a ``Content-Length`` over the bound is answered 413 at once, and a
chunked body is refused as soon as it passes the bound. Real parts: the
``sebiao cloud`` process over SQLite and a raw socket; its memory is read from
``/proc/<pid>/status``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from cloud_fixtures import Cloud
from cloud_server import CloudServer
from raw_http import RssWatch, announce_huge, stream_chunked

pytestmark = pytest.mark.slow
MiB = 1 << 20
FLOOD = 64 * MiB  # what each of the parallel posts would send if nobody stopped it
JSON = {"Content-Type": "application/json"}

DOORS = [  # path, headers (None: the gateway token's), what the 413 says, a small body and its usual answer
    ("/api/v1/ingest", None, "请求体过大", b"not gzip", 400),
    ("/api/v1/login", JSON, "请求体过大", b'{"username": "nobody", "password": "x"}', 401),
    ("/api/v1/admin/districts", JSON, "请求体过大", b'{"id": "d9"}', 401),
    ("/login", {"Content-Type": "application/x-www-form-urlencoded"}, "表单过大", b"username=a&password=b", 401),
]
IDS = [door[0] for door in DOORS]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cloud-limits")
    url = f"sqlite:///{tmp / 'cloud.db'}"
    cloud = Cloud(url)
    token = cloud.tenants()["gw-ws-a"]
    cloud.client.close()
    cloud.engine.dispose()
    process = CloudServer(tmp, url).start()
    yield process, {"Authorization": f"Bearer {token}", "Content-Encoding": "gzip", **JSON}
    process.stop()


@pytest.mark.parametrize("path, headers, says, small, usual", DOORS, ids=IDS)
def test_a_content_length_over_the_bound_is_a_413_at_once(served, path, headers, says, small, usual):
    process, gateway = served
    answer = announce_huge(process.port, path, headers or gateway)
    assert answer.status == 413 and answer.seconds < 2, answer
    assert says in answer.body.decode()
    assert httpx.post(process.url + path, content=small, headers=headers or gateway).status_code == usual


@pytest.mark.parametrize("path, headers, says, small, usual", DOORS, ids=IDS)
def test_parallel_chunked_floods_are_refused_as_they_pass_the_bound(served, path, headers, says, small, usual):
    process, gateway = served
    with RssWatch(process.pid) as rss, ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: stream_chunked(process.port, path, headers or gateway, FLOOD), range(3)))
    assert rss.growth < 32 * MiB, f"the cloud grew by {rss.growth / MiB:.0f} MiB"
    for answer in answers:
        assert answer.status == 413, answer
        assert answer.sent < FLOOD // 4  # answered while the flood was still coming (socket buffers aside)
    assert httpx.get(process.url + "/healthz").status_code == 200
