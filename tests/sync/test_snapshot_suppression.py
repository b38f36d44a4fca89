"""The suppression list inside a pulled snapshot is type-checked like every other table
(vault.sync.snapshot): a forged or damaged entry makes the whole copy refused."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import draft
from vault.service import Vault
from vault.sync.errors import BlobDamaged
from vault.sync.snapshot import read_snapshot


@pytest.fixture
def snapshot(vault: Vault, tmp_path: Path) -> Path:
    c = vault.add(draft(emails=("gone@example.org",), phones=()))
    vault.erase(c.id)
    vault.close()
    copy = tmp_path / "snapshot.db"
    conn = sqlite3.connect(vault.path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copy(vault.path, copy)
    return copy


def test_an_authentic_snapshot_carries_its_entries(snapshot: Path) -> None:
    entries = read_snapshot(snapshot).suppression
    assert len(entries) == 1 and entries[0][1:] == ("erased", date(2026, 6, 15)) and len(entries[0][0]) == 32


@pytest.mark.parametrize(
    "forged",
    [
        "UPDATE suppression SET digest = X'00'",  # not a 32-byte digest
        "UPDATE suppression SET reason = 'whatever'",  # not a reason sealbook writes
        "UPDATE suppression SET since = 'yesterday'",  # not a date
        "UPDATE suppression SET digest = 'text'",  # not even bytes
    ],
)
def test_a_forged_entry_refuses_the_whole_copy(snapshot: Path, forged: str) -> None:
    conn = sqlite3.connect(snapshot)
    conn.execute(forged)
    conn.commit()
    conn.close()
    with pytest.raises(BlobDamaged):
        read_snapshot(snapshot)


def test_a_view_named_suppression_is_refused(snapshot: Path) -> None:
    conn = sqlite3.connect(snapshot)
    conn.execute("DROP TABLE suppression")
    conn.execute("CREATE VIEW suppression AS SELECT X'00' AS digest, 'erased' AS reason, '2026-01-01' AS since")
    conn.commit()
    conn.close()
    with pytest.raises(BlobDamaged):
        read_snapshot(snapshot)
