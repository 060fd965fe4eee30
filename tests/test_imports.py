"""Every module imports on its own in a fresh interpreter (no import cycles hidden by test order),
and content/recommender never import Flask, the database layer or `learning` (DESIGN §2)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for p in (ROOT / "learning").rglob("*.py")
)


def test_every_learning_module_imports_alone():
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    failures = []
    for name in MODULES:
        result = subprocess.run([sys.executable, "-c", script, name], capture_output=True, text=True,
                                cwd=ROOT, timeout=120)
        if result.returncode != 0:
            failures.append(f"{name}: {result.stderr.strip().splitlines()[-1]}")
    assert not failures, failures


@pytest.mark.parametrize("package", ["content", "recommender"])
def test_plain_packages_do_not_import_the_app(package):
    forbidden = ("learning", "flask", "flask_sqlalchemy", "sqlalchemy")
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.relative_to(ROOT)} imports {name}"
