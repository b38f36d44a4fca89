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


# --- inside the core: parts, not a knot (issue 9) ---------------------------------------

JOBS_AND_PARTS = (
    "vault.audit",
    "vault.book",
    "vault.export",
    "vault.importers",
    "vault.keyring",
    "vault.policy",
    "vault.purge",
    "vault.requests",
    "vault.sealing",
    "vault.sync",
)


def _graph():  # type: ignore[no-untyped-def]
    grimp = pytest.importorskip("grimp")
    return grimp.build_graph("vault", include_external_packages=False)


def _cycles(graph) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _without_package_inits(graph):  # type: ignore[no-untyped-def]
    """A package's __init__ re-exporting its submodules is not a cycle between parts."""
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported.startswith(module + "."):
                graph.remove_import(importer=module, imported=imported)
    return graph


def test_the_core_import_graph_has_no_cycle() -> None:
    assert _cycles(_without_package_inits(_graph())) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = _graph()
    graph.add_import(importer="vault.records", imported="vault.service")  # service -> ... -> records
    assert any("vault.service" in c and "vault.records" in c for c in _cycles(graph))


def test_jobs_and_parts_never_import_the_facade() -> None:
    graph = _graph()
    offenders = [
        module
        for module in sorted(graph.modules)
        if module.startswith(JOBS_AND_PARTS) and "vault.service" in graph.find_modules_directly_imported_by(module)
    ]
    assert offenders == []


# gettext's conventional name for "translate this" (vault.i18n): public by convention, not private.
GETTEXT = {"vault.i18n._", "i18n._"}


def _private_reaches(path: Path) -> list[str]:
    """``from vault.x import _name`` and ``module._name`` where module is a vault module
    (except gettext's ``_`` from vault.i18n)."""
    tree = ast.parse(path.read_text(), str(path))
    modules: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in {"vault", "tui"}:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{node.module}.{alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in {"vault", "tui"}:
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return [name for name in found if name not in GETTEXT]


def test_no_module_uses_another_modules_private_names() -> None:
    offenders = []
    for path in [*(ROOT / "vault").rglob("*.py"), *(ROOT / "tui").rglob("*.py")]:
        offenders += [f"{path.relative_to(ROOT)}: {name}" for name in _private_reaches(path)]
    assert offenders == []


def test_the_private_name_check_catches_a_reach_in(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from vault import service\nfrom vault.book import _by_name\nservice._check_passphrase('x')\n")
    assert _private_reaches(sample) == ["vault.book._by_name", "service._check_passphrase"]
    sample.write_text("from vault.i18n import _\nfrom vault import i18n\ni18n._('x')\ni18n._catalogue\n")
    assert _private_reaches(sample) == ["i18n._catalogue"]


def test_modules_stay_small_or_say_why() -> None:
    long = []
    for path in [*(ROOT / "vault").rglob("*.py"), *(ROOT / "tui").rglob("*.py")]:
        text = path.read_text()
        if text.count("\n") > 500 and "Longer than 500 lines because" not in text[:3000]:
            long.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    assert long == []


def test_the_facade_is_thin() -> None:
    """Issue 9 asks for "under ~400 lines": ~65 one-line delegations with their docstrings;
    issue 11 added the data subject's rights (vault.rights) as eight more delegations."""
    assert (ROOT / "vault" / "service.py").read_text().count("\n") <= 460


def test_help_loads_neither_the_store_nor_the_app() -> None:
    """Issue 15: `sealbook --help` builds every parser without SQLAlchemy, Alembic, Textual,
    libsodium or the address and phone parsers (those cost ~0.9 s of imports), nor the
    platform folders, the TOML reader, subprocess or uuid (another ~20 ms)."""
    code = (
        "import sys\n"
        "from tui.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = {'sqlalchemy', 'alembic', 'textual', 'rich', 'nacl', 'argon2', 'email_validator', 'phonenumbers',"
        " 'vobject', 'platformdirs', 'tomllib', 'subprocess', 'uuid', 'platform'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
