"""The cloud config: defaults, and errors that name the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_ingest.config import load_cloud_config
from edge_gateway.errors import ConfigError

SECRET = "x" * 32


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cloud.yaml"
    path.write_text(text)
    return path


def test_a_minimal_config(tmp_path: Path) -> None:
    c = load_cloud_config(write(tmp_path, f"database:\n  url: sqlite:///cloud.db\nsession_secret: {SECRET}\n"))
    assert c.database_url == f"sqlite:///{tmp_path / 'cloud.db'}"  # relative to the config file
    assert (c.host, c.port, c.influx, c.bootstrap_admin, c.limits.max_items) == ("127.0.0.1", 8090, None, None, 5000)


def test_a_full_config(tmp_path: Path) -> None:
    c = load_cloud_config(write(tmp_path, f"""
database: {{url: "postgresql+psycopg://sebiao:pw@db/sebiao"}}
listen: 0.0.0.0:9000
session_secret: {SECRET}
influx: {{url: "http://influx:8086", database: sebiao}}
bootstrap_admin: {{username: admin, password_env: ADMIN_PW}}
limits: {{max_items: 100}}
"""), environ={"ADMIN_PW": "a-long-password"})
    assert (c.host, c.port, c.influx.url, c.bootstrap_admin.password, c.limits.max_items) == (
        "0.0.0.0", 9000, "http://influx:8086", "a-long-password", 100)


@pytest.mark.parametrize("text, path, words", [
    ("database: {url: 'mysql://x/y'}\nsession_secret: SECRET", "database.url", "postgresql+psycopg://"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: short", "session_secret", "at least 32"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: SECRET\nlisten: nowhere", "listen", "HOST:PORT"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: SECRET\nbootstrap_admin: {username: admin, password: short}",
     "bootstrap_admin.password", "at least 12"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: SECRET\nbootstrap_admin: {username: admin, password_env: NOPE}",
     "bootstrap_admin.password_env", "NOPE is not set"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: SECRET\nlimits: {max_items: 0}", "limits.max_items", "at least 1"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: SECRET\ncolour: red", "colour", "unknown key"),
    ("session_secret: SECRET", "", "missing required key 'database'"),
])
def test_errors_name_file_field_and_reason(tmp_path: Path, text: str, path: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_cloud_config(write(tmp_path, text.replace("SECRET", SECRET)), environ={})
    assert (err.value.path, err.value.file) == (path, str(tmp_path / "cloud.yaml"))
    assert words in err.value.reason
