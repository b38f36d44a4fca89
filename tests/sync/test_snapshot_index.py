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
