"""The arrows point front end -> vault, never back."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_importing_vault_loads_no_ui_library() -> None:
    code = (
        "import sys, vault, vault.service, vault.model, vault.retention, vault.config, vault.search\n"
        "import pkgutil, importlib\n"
        "for m in pkgutil.walk_packages(vault.__path__, 'vault.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in {'textual', 'rich', 'tui'})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


FORBIDDEN_FOR_FRONT_ENDS = ("sqlalchemy", "nacl", "argon2", "alembic", "vault.store", "vault.crypto")


def test_front_ends_do_not_reach_past_the_facade() -> None:
    offenders = []
    for path in (ROOT / "tui").rglob("*.py"):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_FOR_FRONT_ENDS):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_only_the_crypto_module_imports_nacl_or_argon2() -> None:
    offenders = []
    for path in (ROOT / "vault").rglob("*.py"):
        if path.name == "crypto.py" and path.parent.name == "vault":
            continue
        for name in _imports(path):
            if name.split(".")[0] in {"nacl", "argon2"}:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_import_linter_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed in this environment")
    out = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
