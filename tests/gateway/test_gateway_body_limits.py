"""Request bodies the gateway reads before any login are bounded: no memory exhaustion without logging in.

The console's login form and the API's alarm actions read a body. Read whole
before its size was looked at, three parallel 1 GiB posts to the login took
the gateway to 5.3 GB. Now a ``Content-Length`` over the bound is answered
413 at once, and a chunked body is refused as soon as it passes the bound.
Real parts: the gateway process and a raw socket; its memory is read from
``/proc/<pid>/status``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gateway_proc import TOKEN, start_gateway
from raw_http import RssWatch, announce_huge, stream_chunked

from edge_gateway.web.alarm_actions import MAX_BODY

pytestmark = pytest.mark.slow
MiB = 1 << 20
FLOOD = 64 * MiB  # what each of the parallel posts would send if nobody stopped it

DOORS = [  # path, headers, what the 413 says, a small body and its usual answer
    ("/console/login", {"Content-Type": "application/x-www-form-urlencoded"}, "表单过大 / the form is too large",
     b"password=wrong", 401),
    ("/api/alarms/1/ack", {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
     f"请求体超过 {MAX_BODY} 字节 / the request body is over {MAX_BODY} bytes", b'{"by": "wang"}', 404),
]
IDS = [door[0] for door in DOORS]


@pytest.fixture(scope="module")
def gateway(mosquitto_module, tmp_path_factory):
    gateway = start_gateway(tmp_path_factory.mktemp("limits"), mosquitto_module())
    yield gateway
    gateway.stop()


@pytest.mark.parametrize("path, headers, says, small, usual", DOORS, ids=IDS)
def test_a_content_length_over_the_bound_is_a_413_at_once(gateway, path, headers, says, small, usual):
    answer = announce_huge(gateway.http_port, path, headers)
    assert answer.status == 413 and answer.seconds < 2, answer
    assert says in answer.body.decode()
    assert httpx.post(gateway.base + path, content=small, headers=headers).status_code == usual


@pytest.mark.parametrize("path, headers, says, small, usual", DOORS, ids=IDS)
def test_parallel_chunked_floods_are_refused_as_they_pass_the_bound(gateway, path, headers, says, small, usual):
    with RssWatch(gateway.proc.pid) as rss, ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: stream_chunked(gateway.http_port, path, headers, FLOOD), range(3)))
    assert rss.growth < 32 * MiB, f"the gateway grew by {rss.growth / MiB:.0f} MiB"
    for answer in answers:
        assert answer.status == 413, answer
        assert answer.sent < FLOOD // 4  # answered while the flood was still coming (socket buffers aside)
    assert gateway.get("/healthz").json()["pipeline"] == "running"
