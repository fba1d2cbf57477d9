"""The offline installation bundle: everything a gateway host without the package index needs, in one tar.gz.

``sebiao bundle`` builds it on a machine with the same Debian release and
architecture as the gateway (the wheels and .deb files are for this machine's
Python and CPU). Inside ``sebiao-bundle-VERSION/``:

- ``wheels/``: sebiao and every dependency (``pip wheel`` of the source tree,
  or from a wheelhouse given with ``--wheelhouse``, with no index);
- ``debs/``: mosquitto, mosquitto-clients, python3-venv and whatever they
  need (Essential packages and those of priority required/important are left
  out; ``install.sh`` installs only those the host does not have), from apt's
  cache or ``apt-get download``;
- ``units/``: the systemd units for the default paths, to read before installing;
- ``install.sh``, ``README.md`` (中文 first) and ``SHA256SUMS``.

The script and README are in ``bundle_files``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from edge_gateway.tooling.bundle_files import INSTALL_SH, README
from edge_gateway.tooling.service_units import (
    MosquittoUnit,
    ServiceSettings,
    gateway_command,
    render_units,
)
from sebiao_common.errors import ConfigError

DEBIAN_PACKAGES = ("mosquitto", "mosquitto-clients", "python3-venv")
# Every Debian installation has these priorities; bundling them would only risk replacing the host's own.
BASE_PRIORITIES = {"required", "important"}
APT_CACHE = Path("/var/cache/apt/archives")
PREFIX = "/opt/sebiao"  # install.sh's default venv
SOURCE_SKIP = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "node_modules",
               ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "sebiao-data")


@dataclass(frozen=True, kw_only=True)
class BundleReport:
    path: Path
    wheels: tuple[str, ...]
    debs: tuple[str, ...]
    debs_downloaded: int  # fetched with apt-get download (the rest came from apt's cache)


def source_root() -> Path:
    """The sebiao source tree this code runs from (the wheel of sebiao is built from it)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise ConfigError("sebiao bundle", "", f"no source tree at {root} (this sebiao was installed from a "
                                               "wheel): give --wheelhouse DIR holding sebiao's wheel / "
                                               "请指定 --wheelhouse")
    return root


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version
    try:
        return dist_version("sebiao")
    except PackageNotFoundError:
        return "0"


def collect_wheels(out: Path, wheelhouse: Path | None, run=subprocess.run) -> list[str]:
    """sebiao's wheel and its dependencies' into ``out``: built and fetched by pip, or found in ``wheelhouse``."""
    out.mkdir(parents=True, exist_ok=True)
    if wheelhouse is None:
        # A clean copy: setuptools builds in the tree, and files left in an old build/ would join the wheel.
        source = out.parent / "source"
        shutil.copytree(source_root(), source, ignore=shutil.ignore_patterns(*SOURCE_SKIP))
        argv = [sys.executable, "-m", "pip", "wheel", "--quiet", "--prefer-binary", "--wheel-dir", str(out),
                str(source)]
    else:
        argv = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-index", "--find-links", str(wheelhouse),
                "--wheel-dir", str(out), "sebiao"]
    done = run(argv, capture_output=True, text=True)
    shutil.rmtree(out.parent / "source", ignore_errors=True)
    if done.returncode != 0:
        raise ConfigError("sebiao bundle", "wheels", "pip could not gather the wheels (no package index here? "
                                                    "give --wheelhouse DIR) / 无法收集 wheel:\n"
                          + (done.stderr or done.stdout).strip()[-2000:])
    return sorted(p.name for p in out.glob("*.whl"))


def _apt(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise ConfigError("sebiao bundle", "debs", f"`{' '.join(argv[:3])} …` failed (is apt's package list "
                                                   "there? `apt-get update`, or --no-debs) / apt 失败:\n"
                          + done.stderr.strip()[-1500:])
    return done.stdout


def _records(packages: list[str]) -> dict[str, dict[str, str]]:
    """apt's candidate record (Package, Version, Priority, Filename, …) for each real package."""
    text = _apt("apt-cache", "show", "--no-all-versions", *packages) if packages else ""
    out: dict[str, dict[str, str]] = {}
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(" "))
        if "Package" in fields:
            out.setdefault(fields["Package"], fields)
    return out


def _first_choices(depends_text: str) -> set[str]:
    """The package apt would pick for each dependency of ``apt-cache depends`` output: the first of each
    ``A | B`` group (an alternative like libelogind0 for libsystemd0 must not come along)."""
    picked, in_group = set(), False
    for line in depends_text.splitlines():
        stripped = line.strip()
        if not line.startswith(" ") or not stripped.lstrip("|").startswith(("Depends:", "PreDepends:")):
            continue
        name = stripped.lstrip("|").split(":", 1)[1].strip().removesuffix(":any").removesuffix(":any>")
        name = name + ">" if name.startswith("<") and not name.endswith(">") else name
        if not in_group:
            picked.add(name)
        in_group = stripped.startswith("|")  # the next line is another choice for the same dependency
    return picked


def debian_closure(roots: tuple[str, ...] = DEBIAN_PACKAGES) -> list[dict[str, str]]:
    """``roots`` and the packages they need, less the base system's: apt's records, sorted by name."""
    seen: set[str] = set()
    wanted: dict[str, dict[str, str]] = {}
    todo = list(roots)
    while todo:
        batch = [p for p in todo if p not in seen]
        seen.update(batch)
        real = [p for p in batch if not p.startswith("<")]
        virtual = [p.strip("<>") for p in batch if p.startswith("<")]
        records = _records(real)
        for name in virtual:  # a virtual package: the base system or a root already provides it, or its first provider
            providers = _apt("apt-cache", "showpkg", name).split("Reverse Provides:", 1)[-1].split()
            if providers and providers[0] not in seen:
                real.append(providers[0])
                records |= _records([providers[0]])
                seen.add(providers[0])
        todo = []
        for name in real:
            record = records.get(name)
            if record is None or record.get("Priority") in BASE_PRIORITIES or record.get("Essential") == "yes":
                continue  # the base system has it, and so its own dependencies
            wanted[name] = record
        deps_of = [n for n in real if n in wanted]
        if deps_of:
            todo = sorted(_first_choices(_apt("apt-cache", "depends", "--no-recommends", "--no-suggests",
                                              "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                                              *deps_of)) - seen)
    return [wanted[n] for n in sorted(wanted)]


def collect_debs(out: Path, roots: tuple[str, ...] = DEBIAN_PACKAGES) -> tuple[list[str], int]:
    """The .deb files of :func:`debian_closure` into ``out``: from apt's cache when it has them, else
    ``apt-get download``. The file names; how many were downloaded."""
    out.mkdir(parents=True, exist_ok=True)
    missing = []
    for record in debian_closure(roots):
        name = PurePosixPath(record["Filename"]).name
        cached = APT_CACHE / name
        if cached.is_file():
            shutil.copy2(cached, out / name)
        else:
            missing.append(f"{record['Package']}={record['Version']}")
    if missing:
        _apt("apt-get", "download", "-q", *missing, cwd=out)
    return sorted(p.name for p in out.glob("*.deb")), len(missing)


def example_units() -> dict[str, str]:
    """The units ``sebiao service install`` writes for the default paths (install.sh runs it for real)."""
    settings = ServiceSettings(
        workshop="ws-example", user="sebiao", data_dir=PurePosixPath("/var/lib/sebiao"),
        exec_start=gateway_command((f"{PREFIX}/bin/sebiao",), PurePosixPath("/etc/sebiao/workshop.yaml"),
                                   PurePosixPath("/var/lib/sebiao"), "0.0.0.0:8080"),
        mosquitto=MosquittoUnit(program=PurePosixPath("/usr/sbin/mosquitto"),
                                conf=PurePosixPath("/etc/sebiao/broker/mosquitto.conf"),
                                persistence_dir=PurePosixPath("/var/lib/sebiao-mosquitto")))
    return render_units(settings)


def build(out_file: Path, wheelhouse: Path | None = None, debs: bool = True) -> BundleReport:
    """Write the bundle to ``out_file`` (a .tar.gz), replacing it only once it is whole."""
    name = f"sebiao-bundle-{version()}"
    out_file = out_file.absolute()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sebiao-bundle-", dir=out_file.parent) as tmp:
        top = Path(tmp) / name
        wheels = collect_wheels(top / "wheels", wheelhouse)
        deb_files, downloaded = collect_debs(top / "debs") if debs else ([], 0)
        (top / "debs").mkdir(exist_ok=True)
        for unit, text in example_units().items():
            (top / "units").mkdir(exist_ok=True)
            (top / "units" / unit).write_text(text, encoding="utf-8")
        (top / "install.sh").write_text(INSTALL_SH, encoding="utf-8")
        os.chmod(top / "install.sh", 0o755)
        (top / "README.md").write_text(README.format(version=version(), prefix=PREFIX), encoding="utf-8")
        (top / "SHA256SUMS").write_text(_sums(top), encoding="utf-8")
        partial = out_file.with_name(out_file.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(top, arcname=name)
        os.replace(partial, out_file)
    return BundleReport(path=out_file, wheels=tuple(wheels), debs=tuple(deb_files), debs_downloaded=downloaded)


def _sums(top: Path) -> str:
    lines = []
    for path in sorted(p for p in top.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(top).as_posix()}\n")
    return "".join(lines)
