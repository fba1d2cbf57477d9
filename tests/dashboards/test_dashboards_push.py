"""``sebiao dashboards push`` through grafana-client against a fake Grafana on loopback.

Grafana itself cannot run in this environment, so a small HTTP server
implements the endpoints the push uses (build info, folders, datasources,
dashboards/db) with Grafana's answers and its token check. The tests assert
what it received, and that a wrong URL or token ends in a clear message and
exit code 2.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scripted_http import send_json
from servers import free_port

from dashboards.generator.catalog import DASHBOARDS
from dashboards.generator.render import build_files
from sebiao.cli import main

EDITOR, VIEWER = "glsa_editor_token", "glsa_viewer_token"


class FakeGrafana:
    def __init__(self) -> None:
        self.folders: list[dict] = []
        self.datasources: dict[str, dict] = {}
        self.dashboards: list[dict] = []  # every body POSTed to /api/dashboards/db
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: object) -> None:
                send_json(self, status, body)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                auth = self.headers.get("Authorization")
                fake.requests.append((method, self.path, auth))
                if auth not in (f"Bearer {EDITOR}", f"Bearer {VIEWER}"):
                    return self._answer(401, {"message": "Invalid API key", "messageId": "api-key.invalid"})
                if method != "GET" and auth == f"Bearer {VIEWER}":
                    return self._answer(403, {"message": "You'll need additional permissions to perform this action."})
                self._answer(*fake.route(method, self.path, body))

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: nothing can take it first
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, method: str, path: str, body: dict | None) -> tuple[int, object]:
        if (method, path) == ("GET", "/api/frontend/settings"):  # grafana-client's health check
            return 200, {"buildInfo": {"version": "11.6.0", "commit": "fake", "edition": "Open Source"}}
        if (method, path) == ("GET", "/api/folders"):
            return 200, self.folders
        if (method, path) == ("POST", "/api/folders"):
            folder = {"id": len(self.folders) + 1, "uid": body.get("uid", "gen"), "title": body["title"]}
            self.folders.append(folder)
            return 200, folder
        if path.startswith("/api/datasources/uid/"):
            uid = path.rsplit("/", 1)[1]
            if uid not in self.datasources:
                return 404, {"message": "Data source not found"}
            if method == "PUT":
                self.datasources[uid] = body
                return 200, {"message": "Datasource updated", "datasource": body}
            return 200, self.datasources[uid]
        if (method, path) == ("POST", "/api/datasources"):
            self.datasources[body["uid"]] = body
            return 200, {"message": "Datasource added", "datasource": body}
        if (method, path) == ("POST", "/api/dashboards/db"):
            self.dashboards.append(body)
            uid = body["dashboard"]["uid"]
            return 200, {"status": "success", "uid": uid, "url": f"/d/{uid}/x", "version": 1}
        return 404, {"message": "Not found"}

    def __enter__(self) -> "FakeGrafana":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def grafana():
    with FakeGrafana() as fake:
        yield fake


def test_push_creates_the_folder_and_datasource_and_uploads_every_dashboard(grafana, capsys):
    argv = ["dashboards", "push", "--url", grafana.url, "--token", EDITOR, "--influx-url", "http://influxdb:8086",
            "--influx-user", "reader", "--influx-password", "secret"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "version 11.6.0" in out and "色标 sebiao (created)" in out and "sebiao-influxdb: created" in out
    assert grafana.folders == [{"id": 1, "uid": "sebiao", "title": "色标 sebiao"}]
    assert grafana.datasources["sebiao-influxdb"] == {
        "name": "sebiao InfluxDB", "uid": "sebiao-influxdb", "type": "influxdb", "access": "proxy",
        "url": "http://influxdb:8086", "user": "reader", "secureJsonData": {"password": "secret"},
        "jsonData": {"version": "InfluxQL", "dbName": "sebiao", "httpMode": "GET", "timeInterval": "10s"}}
    built = {json.loads(text)["uid"]: json.loads(text) for path, text in build_files().items() if path.endswith(".json")}
    assert len(grafana.dashboards) == len(DASHBOARDS)
    for body in grafana.dashboards:
        assert body["folderUid"] == "sebiao" and body["overwrite"] is True
        assert body["dashboard"] == built[body["dashboard"]["uid"]]  # exactly the built JSON
    assert out.count("dashboard  " + grafana.url + "/d/") == len(DASHBOARDS)
    # Every authenticated call carried the token as a bearer.
    assert {auth for _m, _path, auth in grafana.requests} == {f"Bearer {EDITOR}"}
    assert ("GET", "/api/frontend/settings") in {(m, p) for m, p, _a in grafana.requests}


def test_a_second_push_reuses_the_folder_and_updates_the_datasource(grafana, capsys):
    argv = ["dashboards", "push", "--url", grafana.url, "--token", EDITOR, "--influx-url", "http://influxdb:8086"]
    assert main(argv) == 0
    assert main([*argv[:-1], "http://influx2:8086", "--influx-database", "sebiao_rp"]) == 0
    out = capsys.readouterr().out
    assert "(existing)" in out and "sebiao-influxdb: updated" in out
    assert len(grafana.folders) == 1 and len(grafana.dashboards) == 2 * len(DASHBOARDS)
    assert grafana.datasources["sebiao-influxdb"]["url"] == "http://influx2:8086"
    assert grafana.datasources["sebiao-influxdb"]["jsonData"]["dbName"] == "sebiao_rp"


def test_without_influx_url_a_missing_datasource_is_reported(grafana, capsys):
    assert main(["dashboards", "push", "--url", grafana.url, "--token", EDITOR, "--folder", "监管 inspectors"]) == 0
    out = capsys.readouterr().out
    assert "sebiao-influxdb: missing" in out and "--influx-url" in out
    assert grafana.folders[0]["title"] == "监管 inspectors" and grafana.datasources == {}


def test_a_wrong_token_exits_2_naming_the_token(grafana, capsys):
    assert main(["dashboards", "push", "--url", grafana.url, "--token", "glsa_wrong"]) == 2
    err = capsys.readouterr().err
    assert "refused the token (401)" in err and "--token" in err
    assert grafana.dashboards == [] and grafana.folders == []


def test_a_token_without_permission_exits_2_naming_the_role(grafana, capsys):
    assert main(["dashboards", "push", "--url", grafana.url, "--token", VIEWER]) == 2
    err = capsys.readouterr().err
    assert "(403)" in err and "Editor role" in err
    assert grafana.dashboards == []


def test_a_wrong_url_exits_2(capsys):
    refused = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["dashboards", "push", "--url", refused, "--token", EDITOR]) == 2
    err = capsys.readouterr().err
    assert f"cannot connect to Grafana at {refused} (connection refused): check --url" in err
    assert main(["dashboards", "push", "--url", "http://no-such-grafana.invalid:3000", "--token", EDITOR]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to Grafana at http://no-such-grafana.invalid:3000" in err and "check --url" in err
    assert main(["dashboards", "push", "--url", "grafana:3000", "--token", EDITOR]) == 2
    assert "expected http(s)://host" in capsys.readouterr().err


def test_a_server_that_is_not_grafana_is_named(grafana, capsys):
    assert main(["dashboards", "push", "--url", grafana.url + "/sub", "--token", EDITOR]) == 2
    err = capsys.readouterr().err
    assert "answered 404" in err and "base URL" in err
