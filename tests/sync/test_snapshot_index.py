"""The sealed index is a per-device cache: snapshots for the blob leave it out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import draft
from vault.service import Vault
from vault.sync.snapshot import vacuum_into


def test_snapshot_carries_the_rows_but_not_the_index_cache(vault: Vault, tmp_path: Path) -> None:
    for i in range(5):
        vault.add(draft(name=f"Person {i}"))
    with sqlite3.connect(vault.path) as live:
        assert live.execute("SELECT COUNT(*) FROM index_cache").fetchone()[0] > 0
    dest = tmp_path / "snap.sqlite"
    vacuum_into(vault._store.engine, dest)
    with sqlite3.connect(dest) as snap:
        assert snap.execute("SELECT COUNT(*) FROM contacts").fetchone()[0] == 5
        assert snap.execute("SELECT COUNT(*) FROM index_cache").fetchone()[0] == 0
    assert dest.stat().st_mode & 0o077 == 0


def test_snapshot_is_the_vault_as_vacuum_into_copies_it_less_the_index_cache(vault: Vault, tmp_path: Path) -> None:
    """Same schema (every table, index and setting), the same rows in every other table."""
    for i in range(5):
        vault.add(draft(name=f"Person {i}"))
    vault.erase(vault.add(draft(name="Gone")).id)
    with sqlite3.connect(vault.path) as live:
        live.execute("PRAGMA user_version = 7")
    reference = tmp_path / "vacuumed.sqlite"
    with sqlite3.connect(vault.path) as live:
        live.execute("VACUUM INTO ?", (str(reference),))
    dest = tmp_path / "snap.sqlite"
    vacuum_into(vault._store.engine, dest)

    def contents(path: Path) -> dict[str, object]:
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            objects = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
            tables = [name for kind, name, _t, _s in objects if kind == "table"]
            rows = {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
            rows["index_cache"] = []
            return {"objects": objects, "rows": rows, "user_version": db.execute("PRAGMA user_version").fetchone()}

    raw = vault._store.engine.raw_connection()  # the pooled connection the copy used
    try:
        assert raw.cursor().execute("PRAGMA foreign_keys").fetchone() == (1,)  # restored after the copy
    finally:
        raw.close()
    copied, expected = contents(dest), contents(reference)
    assert copied == expected
    assert len(expected["rows"]["contacts"]) >= 5  # type: ignore[index]
