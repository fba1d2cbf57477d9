"""Only one job beyond pyproject.toml: ship ``firmware/`` (and ``examples/``) inside the wheel.

``firmware/`` is laid out as on the station's flash, outside any Python
package. A normal install gets a copy as ``edge_gateway/_firmware`` (see
``edge_gateway/tooling/firmware_files.py``); editable installs use the folder itself.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FIRMWARE = ROOT / "firmware"
SHIPPED = ("main.py", "sebiao_boot.py", "defaults.json", "README.md", "sebiao_station", "sebiao_sim")


class BuildWithFirmware(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "edge_gateway" / "_firmware"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")
        for name in SHIPPED:
            source = FIRMWARE / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=ignore)
            else:
                shutil.copy2(source, target / name)
        examples = Path(self.build_lib) / "edge_gateway" / "_examples"  # the demo's workshop
        examples.mkdir(exist_ok=True)
        for source in (ROOT / "examples").glob("*.yaml"):
            shutil.copy2(source, examples / source.name)


setup(cmdclass={"build_py": BuildWithFirmware})
