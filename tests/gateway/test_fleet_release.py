"""Releases (edge_gateway/fleet/release.py, docs/fleet.md): `sebiao firmware release-key` and `release` make a
signed release of the firmware tree that verifies; a tampered file, a bad signature, another key, a path out of
the rules or a file too large are refused, each naming the file and the reason; the key's public half is what
the stations read."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from edge_gateway.fleet import release as rel
from edge_gateway.fleet.settings import fleet_settings
from edge_gateway.tooling.firmware_files import firmware_dir
from sebiao.cli import main
from sebiao_common.errors import ConfigError


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    out = tmp_path_factory.mktemp("keys")
    assert main(["firmware", "release-key", "--out", str(out)]) == 0
    return out


@pytest.fixture
def made(keys, tmp_path):
    out = tmp_path / "release"
    assert main(["firmware", "release", "--key", str(keys / rel.PRIVATE_KEY), "--out", str(out)]) == 0
    return out


def _public(keys):
    return rel.load_public_key(keys / rel.PUBLIC_KEY)


def test_the_key_pair(keys, capsys):
    assert stat.S_IMODE(os.stat(keys / rel.PRIVATE_KEY).st_mode) == 0o600
    doc = json.loads((keys / rel.PUBLIC_KEY).read_text())
    assert set(doc) == {"e", "n"} and doc["e"] == 65537 and int(doc["n"], 16).bit_length() == 2048
    private = rel.load_private_key(keys / rel.PRIVATE_KEY)
    assert private.public_key().public_numbers().n == int(doc["n"], 16)
    assert main(["firmware", "release-key", "--out", str(keys)]) == 2  # never overwritten
    assert "release_key.pem" in capsys.readouterr().err


def test_a_release_of_the_firmware_tree_verifies(made, keys):
    release = rel.read_release(made, _public(keys))
    sources = sorted(p.relative_to(firmware_dir()).as_posix() for p in (firmware_dir() / "sebiao_station").rglob("*.py")
                     if "__pycache__" not in p.parts)
    assert [f.path for f in release.files] == sources
    assert release.version == rel.firmware_version(firmware_dir())
    doc = json.loads((made / rel.MANIFEST).read_bytes())
    assert doc["v"] == 1 and doc["version"] == release.version
    app = release.file("sebiao_station/app.py")
    data = (firmware_dir() / "sebiao_station" / "app.py").read_bytes()
    assert app.size == len(data) and app.sha256 == hashlib.sha256(data).hexdigest()
    assert len((made / rel.SIGNATURE).read_bytes()) == 256


def test_the_signature_is_plain_pkcs1_v15_over_the_manifest_bytes(made, keys):
    """What the station checks with pow(s, e, n): EMSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §9.2)."""
    doc = json.loads((keys / rel.PUBLIC_KEY).read_text())
    n, e = int(doc["n"], 16), doc["e"]
    em = pow(int.from_bytes((made / rel.SIGNATURE).read_bytes(), "big"), e, n).to_bytes(256, "big")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
    expected = digest_info + hashlib.sha256((made / rel.MANIFEST).read_bytes()).digest()
    assert em == b"\x00\x01" + b"\xff" * (256 - 3 - len(expected)) + b"\x00" + expected


def test_mpy_files(keys, tmp_path):
    out = tmp_path / "mpy"
    assert main(["firmware", "release", "--key", str(keys / rel.PRIVATE_KEY), "--out", str(out), "--mpy"]) == 0
    release = rel.read_release(out, _public(keys))
    assert release.files and all(f.path.endswith(".mpy") for f in release.files)
    assert (out / "files" / "sebiao_station" / "app.mpy").read_bytes()[:1] == b"M"


def test_a_tampered_file_is_named(made, keys):
    path = made / "files" / "sebiao_station" / "app.py"
    path.write_bytes(path.read_bytes().replace(b"def ", b"def  ", 1)[:-1])  # same length: the hash tells
    with pytest.raises(rel.ReleaseError) as info:
        rel.read_release(made, _public(keys))
    assert "sebiao_station/app.py" in str(info.value) and "SHA-256" in str(info.value)
    path.write_bytes(path.read_bytes() + b"\n# more")
    with pytest.raises(rel.ReleaseError, match="size"):
        rel.read_release(made, _public(keys))


def test_a_file_beside_the_manifest_is_refused(made, keys):
    (made / "files" / "sebiao_station" / "extra.py").write_text("x = 1\n")
    with pytest.raises(rel.ReleaseError, match="extra.py.*not listed"):
        rel.read_release(made, _public(keys))


def test_a_changed_manifest_or_signature_or_another_key_is_refused(made, keys, tmp_path):
    manifest = (made / rel.MANIFEST).read_bytes()
    (made / rel.MANIFEST).write_bytes(manifest.replace(b'"version":"', b'"version":"9', 1))
    with pytest.raises(rel.ReleaseError, match="manifest.sig.*does not verify"):
        rel.read_release(made, _public(keys))
    (made / rel.MANIFEST).write_bytes(manifest)
    sig = bytearray((made / rel.SIGNATURE).read_bytes())
    sig[10] ^= 1
    (made / rel.SIGNATURE).write_bytes(bytes(sig))
    with pytest.raises(rel.ReleaseError, match="does not verify"):
        rel.read_release(made, _public(keys))
    (made / rel.SIGNATURE).write_bytes(bytes(sig[:100]))
    with pytest.raises(rel.ReleaseError, match="256 bytes"):
        rel.read_release(made, _public(keys))
    other = tmp_path / "other"
    rel.make_key(other)
    (made / rel.SIGNATURE).write_bytes(bytes(sig))
    sig[10] ^= 1
    (made / rel.SIGNATURE).write_bytes(bytes(sig))
    rel.read_release(made, _public(keys))  # restored: verifies again
    with pytest.raises(rel.ReleaseError, match="does not verify"):
        rel.read_release(made, rel.load_public_key(other / rel.PUBLIC_KEY))


def _signed(keys, doc) -> tuple[bytes, bytes]:
    manifest = json.dumps(doc, separators=(",", ":")).encode()
    key = rel.load_private_key(keys / rel.PRIVATE_KEY)
    return manifest, key.sign(manifest, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("path, why", [
    ("../main.py", "not under sebiao_station/"),
    ("sebiao_station/../../main.py", "'..'"),
    ("sebiao_station/./app.py", "'.'"),
    ("/sebiao_station/app.py", "not under"),
    ("sebiao_station/a b.py", "'a b.py'"),
    ("sebiao_station//app.py", "''"),
    ("main.py", "not under"),
    ("sebiao_station", "not under"),
])
def test_a_path_out_of_the_rules_is_refused_even_when_signed(keys, tmp_path, path, why):
    data = b"x = 1\n"
    manifest, sig = _signed(keys, {"v": 1, "version": "0.2.0", "files": [
        {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}]})
    with pytest.raises(rel.ReleaseError) as info:
        rel.verify_parts(manifest, sig, {path: data}, _public(keys), tmp_path)
    assert "files[0].path" in str(info.value) and why in str(info.value)


@pytest.mark.parametrize("doc, why", [
    ({"v": 2, "version": "1", "files": []}, '"v": 1'),
    ({"v": 1, "version": "a b", "files": []}, "version"),
    ({"v": 1, "version": "1", "files": []}, "1 .. 64"),
    ({"v": 1, "version": "1", "files": [{"path": "sebiao_station/a.py", "size": 70_000, "sha256": "0" * 64}]},
     "size"),
    ({"v": 1, "version": "1", "files": [{"path": f"sebiao_station/m{i}.py", "size": 60_000, "sha256": "0" * 64}
                                        for i in range(9)]}, "at most 524288"),
    ({"v": 1, "version": "1", "files": [{"path": "sebiao_station/a.py", "size": 1, "sha256": "0" * 64}] * 2},
     "twice"),
])
def test_a_manifest_out_of_bounds_is_refused(doc, why):
    with pytest.raises(rel.ReleaseError, match=why):
        rel.parse_manifest(json.dumps(doc).encode(), "manifest.json")


def test_an_upload_missing_a_file_or_carrying_another_is_refused(made, keys, tmp_path):
    release = rel.read_release(made, _public(keys))
    files = {f.path: (made / "files" / f.path).read_bytes() for f in release.files}
    rel.verify_parts(release.manifest, release.signature, files, _public(keys), tmp_path)
    with pytest.raises(rel.ReleaseError, match="files/sebiao_station/app.py.*missing"):
        rel.verify_parts(release.manifest, release.signature, {k: v for k, v in files.items()
                                                              if k != "sebiao_station/app.py"}, _public(keys), tmp_path)
    with pytest.raises(rel.ReleaseError, match="not listed"):
        rel.verify_parts(release.manifest, release.signature, {**files, "../x": b""}, _public(keys), tmp_path)


def test_the_fleet_section(keys, tmp_path):
    config = tmp_path / "workshop.yaml"
    (tmp_path / "release_key.json").write_bytes((keys / rel.PUBLIC_KEY).read_bytes())
    settings = fleet_settings({"release_key": "release_key.json"}, str(config))
    assert settings.release_key == tmp_path / "release_key.json" and settings.wave_size == 5
    assert settings.station_timeout_seconds == 600 and settings.port is None and settings.host is None
    full = fleet_settings({"release_key": "release_key.json", "wave_size": 3, "station_timeout_seconds": 300,
                           "port": 8081, "host": "gw.local"}, str(config))
    assert (full.wave_size, full.station_timeout_seconds, full.port, full.host) == (3, 300, 8081, "gw.local")
    assert fleet_settings(None, str(config)) is None
    for data, field, words in [
        ({}, "fleet", "release_key"),
        ({"release_key": "missing.json"}, "fleet.release_key", "cannot read"),
        ({"release_key": "workshop.yaml"}, "fleet.release_key", "not JSON"),
        ({"release_key": "release_key.json", "wave_size": 0}, "fleet.wave_size", "1"),
        ({"release_key": "release_key.json", "station_timeout_seconds": 1000}, "fleet.station_timeout_seconds",
         "900"),
        ({"release_key": "release_key.json", "host": "bad host!"}, "fleet.host", "not a host name"),
        ({"release_key": "release_key.json", "wave": 3}, "fleet", "wave"),
    ]:
        config.write_text("x: 1\n")
        with pytest.raises(ConfigError) as info:
            fleet_settings(data, str(config))
        assert str(config) in str(info.value) and field in str(info.value) and words in str(info.value), info.value
