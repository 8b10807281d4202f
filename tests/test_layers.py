"""The apps are layers, config > benefits > rollout > actors (pyproject.toml's
import-linter contract, run by `make lint`): the real tree keeps it, and an upward import
hidden inside a function breaks it."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ["config", "actors", "rollout", "benefits"]


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_the_layers():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_an_upward_import_inside_a_function_breaks_them(tmp_path):
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / "actors" / "scoping.py", "a") as module:
        module.write("\n\ndef _sneaky():\n    from benefits import models\n\n    return models\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "actors is not allowed to import benefits" in result.stdout
    assert "actors.scoping -> benefits.models" in result.stdout
