"""Alembic is the only way the schema is made; models and migrations must agree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from vault.store.engine import alembic_config, current_revision, head_revision, make_engine, migrate
from vault.store.models import Base


def test_empty_database_upgrades_to_head_and_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "empty.sqlite")
    migrate(engine)
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_every_revision_downgrades_to_an_empty_database_and_back(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "roundtrip.sqlite")
    migrate(engine)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert {"vault_meta", "contacts", "tombstones", "audit"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrations_run_from_any_working_directory(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.sqlite"
    code = (
        "import sys; from pathlib import Path; from vault.store.engine import make_engine, migrate, "
        "current_revision; e = make_engine(Path(sys.argv[1])); migrate(e); print(current_revision(e))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code, str(target)], cwd="/", env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() != "None"


def test_the_app_never_calls_create_all() -> None:
    root = Path(__file__).parents[2]
    offenders = [p for p in (root / "vault").rglob("*.py") if ".create_all(" in p.read_text()]
    assert offenders == []


def test_an_installed_wheel_carries_its_migrations(tmp_path: Path) -> None:
    """The wheel ships migrations/ inside the vault package; a vault opens from it."""
    import zipfile

    root = Path(__file__).parents[2]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"), str(root)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("sealbook-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "vault" / "migrations" / "env.py").is_file()
    code = (
        "import sys; from pathlib import Path; import vault; from vault.store.engine import make_engine, "
        "migrate, current_revision, migrations_dir; e = make_engine(Path(sys.argv[1])); migrate(e); "
        "print(vault.__file__); print(migrations_dir()); print(current_revision(e))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "w.sqlite")], cwd="/", env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    module_file, script_dir, revision = out.stdout.split()
    assert module_file.startswith(str(site)) and script_dir.startswith(str(site))
    assert revision != "None"


# --- issue 15: the revision and schema checks at open run without Alembic ------------------------


def test_the_constant_head_revision_is_alembics_head(tmp_path: Path) -> None:
    """Store opens compare the file's revision with schema.HEAD_REVISION (no Alembic import):
    a new migration must raise the constant, or every vault would be migrated at each open."""
    from vault.store import schema

    engine = make_engine(tmp_path / "head.sqlite")
    try:
        assert head_revision(engine) == schema.HEAD_REVISION
    finally:
        engine.dispose()


def test_the_constant_schema_is_the_head_revisions(tmp_path: Path) -> None:
    """The objects and columns vault.store.schema expects are those of an empty vault at head,
    and the columns equal the models'."""
    import sqlite3

    from vault.store import schema
    from vault.store.repository import expected_columns

    path = tmp_path / "schema.sqlite"
    engine = make_engine(path)
    migrate(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    try:
        assert schema.schema_objects(conn) == schema.EXPECTED_SCHEMA
        assert schema.table_columns(conn) == schema.EXPECTED_COLUMNS == expected_columns()
        assert schema.stored_revision(conn) == schema.HEAD_REVISION
    finally:
        conn.close()


def test_an_older_vault_is_still_migrated_when_opened(tmp_path: Path) -> None:
    """A file naming an older revision reaches Alembic (the plain check only skips it at head)."""
    from vault.store.repository import Store

    path = tmp_path / "old.sqlite"
    engine = make_engine(path)
    migrate(engine, "0006")
    engine.dispose()
    # An empty 0006 file has no vault_meta row, but it has the table: Store opens and migrates it.
    store = Store(path)
    try:
        assert current_revision(store.engine) == head_revision(store.engine)
    finally:
        store.close()


def test_opening_a_vault_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite"
    engine = make_engine(path)
    migrate(engine)
    engine.dispose()
    code = (
        "import sys; from pathlib import Path; from vault.store.repository import Store\n"
        "Store(Path(sys.argv[1])).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'alembic', 'mako'}))\n"
    )
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
