"""The cloud config: defaults, and errors that name the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_ingest.config import load_cloud_config
from sebiao_common.errors import ConfigError

SECRET = "x" * 32


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cloud.yaml"
    path.write_text(text)
    return path


def test_a_minimal_config(tmp_path: Path) -> None:
    c = load_cloud_config(write(tmp_path, f"database:\n  url: sqlite:///cloud.db\nsession_secret: {SECRET}\n"))
    assert c.database_url == f"sqlite:///{tmp_path / 'cloud.db'}"  # relative to the config file
    assert (c.host, c.port, c.influx, c.bootstrap_admin, c.limits.max_items) == ("127.0.0.1", 8090, None, None, 5000)
    assert c.trusted_proxies == ()  # no proxy is believed unless configured


def test_a_full_config(tmp_path: Path) -> None:
    c = load_cloud_config(write(tmp_path, f"""
database: {{url: "postgresql+psycopg://sebiao:pw@db/sebiao"}}
listen: 0.0.0.0:9000
session_secret: {SECRET}
influx: {{url: "http://influx:8086", database: sebiao}}
bootstrap_admin: {{username: admin, password_env: ADMIN_PW}}
limits: {{max_items: 100}}
trusted_proxies: [10.0.1.5, "10.0.2.0/24", "::1"]
"""), environ={"ADMIN_PW": "a-long-password"})
    assert (c.host, c.port, c.influx.url, c.bootstrap_admin.password, c.limits.max_items) == (
        "0.0.0.0", 9000, "http://influx:8086", "a-long-password", 100)
    assert c.trusted_proxies == ("10.0.1.5/32", "10.0.2.0/24", "::1/128")


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
    ("database: {url: 'sqlite:///a'}", "", "exactly one of 'session_secret' and 'session_secret_env'"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: SECRET\nsession_secret_env: S", "",
     "exactly one of 'session_secret' and 'session_secret_env'"),
    ("database: {url: 'sqlite:///a'}\nsession_secret_env: NOPE", "session_secret_env", "NOPE is not set"),
    ("database: {url: 'sqlite:///a'}\nsession_secret_env: 'not a name'", "session_secret_env", "variable name"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: SECRET\ntrusted_proxies: [10.0.0.1, nginx]",
     "trusted_proxies[1]", "'nginx' is not an IP address or CIDR network"),
    ("database: {url: 'sqlite:///a'}\nsession_secret: SECRET\ntrusted_proxies: 10.0.0.1", "trusted_proxies",
     "must be a list"),
])
def test_errors_name_file_field_and_reason(tmp_path: Path, text: str, path: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_cloud_config(write(tmp_path, text.replace("SECRET", SECRET)), environ={})
    assert (err.value.path, err.value.file) == (path, str(tmp_path / "cloud.yaml"))
    assert words in err.value.reason


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DOC = Path(__file__).resolve().parents[2] / "docs" / "cloud-ingest.md"


def test_the_example_config_loads_with_its_secrets_from_the_environment() -> None:
    env = {"SEBIAO_CLOUD_SESSION_SECRET": SECRET, "SEBIAO_CLOUD_ADMIN_PASSWORD": "a-long-password"}
    c = load_cloud_config(EXAMPLES / "cloud.yaml", environ=env)
    assert c.session_secret == SECRET and c.bootstrap_admin.password == "a-long-password"
    assert c.database_url == f"sqlite:///{EXAMPLES.resolve() / 'cloud.db'}" and c.influx is None
    with pytest.raises(ConfigError) as err:
        load_cloud_config(EXAMPLES / "cloud.yaml", environ={})
    assert err.value.path == "session_secret_env"


def test_the_documented_config_loads(tmp_path: Path) -> None:
    import re
    text = re.findall(r"```yaml\n(.*?)```", DOC.read_text("utf-8"), re.S)[0]
    text = text.replace('"…at least 32 characters…"', SECRET)
    c = load_cloud_config(write(tmp_path, text), environ={"SEBIAO_CLOUD_ADMIN_PASSWORD": "a-long-password"})
    assert (c.influx.database, c.influx.batch_points, c.limits.max_items) == ("sebiao", 5000, 5000)


def test_the_deployment_config_loads(tmp_path: Path) -> None:
    import re
    doc = DOC.parent / "deploy.md"
    text = re.findall(r"```yaml\n(.*?)```", doc.read_text("utf-8"), re.S)[0]
    c = load_cloud_config(write(tmp_path, text), environ={"SEBIAO_CLOUD_ADMIN_PASSWORD": "a-long-password"})
    assert c.database_url.startswith("postgresql+psycopg://") and c.influx.url == "https://influx.example.org"
