"""A store that cannot write (a full disk, an I/O error) against the real gateway process: nothing is lost,
``/healthz`` says ``degraded``, and the ``store_failed`` gateway alarm is published, then written and cleared
when the store takes writes again.

The disk is made full for the gateway alone: its file-size limit (``RLIMIT_FSIZE``, set on the running
process with ``prlimit``) is lowered below its database's size, so every write SQLite makes fails with
``EFBIG`` as on a failing disk; raising it again is the disk freed.
"""

from __future__ import annotations

import json
import resource

import pytest
from gateway_proc import online_workshop

from edge_gateway.model.protocol import alarm_topic

pytestmark = pytest.mark.slow
WS = "ws-demo"
FREE = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)


def test_a_store_that_cannot_write_is_degraded_alarmed_and_loses_nothing(mosquitto, tmp_path):
    broker = mosquitto()
    with online_workshop(broker, tmp_path) as (gateway, stations):
        watcher = broker.client("monitor")  # read-only; the gateway's account is the gateway's own
        watcher.subscribe(alarm_topic(WS))
        stations["rack-red-1"].event("KN-R-01", "removed")
        gateway.wait_for(lambda: gateway.count("events") == 1, what="the first event stored")
        pid = gateway.proc.pid
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))  # the disk is full
        try:
            for i in range(6):
                stations["rack-green-1"].event("KN-G-01", "removed" if i % 2 == 0 else "placed")
            health = gateway.wait_for(lambda: (h := gateway.get("/healthz").json())["status"] == "degraded" and h,
                                      what="a degraded health")
            assert health["store"]["ok"] is False and "disk I/O error" in health["store"]["error"]
            assert health["store"]["since"] and health["pipeline"] == "running"
            assert gateway.metric("sebiao_store_failing") == 1
            raised = json.loads(watcher.receive_until(
                lambda m: json.loads(m.payload)["type"] == "store_failed", timeout=10)[-1].payload)
            assert raised["state"] == "active" and raised["severity"] == "critical"
            assert "disk" in raised["text"]["en"] and "磁盘" in raised["text"]["zh"]
            assert gateway.count("events") == 1  # nothing written, nothing acknowledged
        finally:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, FREE)  # the disk is freed
        gateway.wait_for(lambda: gateway.count("events") == 7, timeout=20, what="the waiting events written")
        gateway.wait_for(lambda: gateway.get("/healthz").json()["status"] == "ok", what="health ok again")
        cleared = json.loads(watcher.receive_until(
            lambda m: json.loads(m.payload)["type"] == "store_failed" and json.loads(m.payload)["state"] == "cleared",
            timeout=10)[-1].payload)
        assert cleared["id"] == raised["id"] and cleared["ts"] == raised["ts"]
        history = gateway.rows("SELECT action FROM alarm_history WHERE alarm_id = ? ORDER BY id", (raised["id"],))
        assert history == [("raised",), ("cleared",)]
        assert gateway.metric("sebiao_store_failing") == 0
        watcher.close()
