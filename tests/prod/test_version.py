"""One version number: pyproject.toml, ``network_hub.__version__`` and ``network-hub --version`` agree."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import network_hub

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_and_package_versions_agree() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert declared == network_hub.__version__


def test_the_changelog_names_the_version_being_released() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"({network_hub.__version__})" in changelog or f"## {network_hub.__version__}" in changelog


def test_version_command_prints_the_package_version(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "network_hub", "--version"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HUB_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"network-hub {network_hub.__version__}"
