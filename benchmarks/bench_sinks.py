"""The gateway's sinks for a benchmark: a real InfluxDB 1.x and a real cloud (``sebiao cloud`` on SQLite) with
the workshop and its gateway registered, as the config sections ``influx:`` and ``cloud:`` to add.

    with GatewaySinks(tmp, workshop_id, data_dir) as sinks:
        data.update(sinks.sections)     # then start the gateway on that config
        sinks.influx_points()           # tool_event points InfluxDB holds
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
from argon2.profiles import CHEAPEST
from cloud_fixtures import SECRET
from cloud_server import CloudServer
from gateway_keys import gateway_key_command
from tsdb_servers import InfluxServer

from cloud_ingest.access import admin, passwords
from cloud_ingest.access.auth import Principal
from cloud_ingest.app import prepare
from cloud_ingest.config import BootstrapAdmin, CloudConfig
from cloud_ingest.store import db


class GatewaySinks:
    def __init__(self, workdir: Path, workshop: str, data_dir: Path) -> None:
        self.workdir, self.workshop, self.data_dir = Path(workdir), workshop, Path(data_dir)
        self._stack = ExitStack()
        self.sections: dict[str, dict] = {}

    def __enter__(self) -> "GatewaySinks":
        self.influx = self._stack.enter_context(InfluxServer(self.workdir / "influx"))
        self.influx.create_database("sebiao")
        self.cloud = CloudServer(self.workdir / "cloud-dir")
        token = self._register()
        self._stack.enter_context(self.cloud)
        self.sections = {"influx": {"api": "v1", "url": self.influx.url, "database": "sebiao"},
                         "cloud": {"url": self.cloud.url, "token": token}}
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _register(self) -> str:
        """Migrates the cloud's database, makes a district, the workshop and its gateway's token."""
        (self.workdir / "cloud-dir").mkdir(parents=True, exist_ok=True)
        public_key = gateway_key_command(self.data_dir)
        passwords.use_parameters(CHEAPEST)
        engine = db.make_engine(self.cloud.database_url)
        config = CloudConfig(str(self.cloud.config_path), self.cloud.database_url, "127.0.0.1", self.cloud.port,
                             SECRET, bootstrap_admin=BootstrapAdmin("admin", "admin-password-123"))
        now = int(time.time() * 1000)
        prepare(engine, config, lambda: now)
        who = Principal("admin", 1, "admin")
        with db.write(engine) as conn:
            admin.create_district(conn, who, {"id": "d1", "name": "昆都仑区"})
            admin.create_workshop(conn, who, {"id": self.workshop, "name": "基准作坊", "district": "d1"}, now)
            token = admin.issue_token(conn, who, {"kind": "gateway", "workshop": self.workshop,
                                                  "public_key": public_key}, now)["token"]
        engine.dispose()
        return token

    def influx_points(self, measurement: str = "tool_event") -> int:
        data = self.influx.query(f'SELECT count(*) FROM "{measurement}"', db="sebiao")
        series = data["results"][0].get("series") or [{"values": [[0, 0]]}]
        return max(int(v) for v in series[0]["values"][0][1:] if v is not None)
