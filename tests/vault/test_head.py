"""The signed manifest head and the device pins (vault.head): every check fed a forged,
replayed or stale value (issue 10)."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from vault import head
from vault.errors import VaultDamaged, VaultTampered
from vault.service import Vault
from vault.store.models import index_bucket

EXPIRED = {"trigger": date(2015, 1, 1)}  # invoices-8y: retention ended 2023-12-31


def raw(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def reopen(path: Path, clock: FixedClock) -> Vault:
    return Vault(path, clock=clock)


def test_an_older_copy_of_the_whole_file_is_refused_by_unlock_and_purge(
    vault: Vault, vault_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    kept = vault.add(draft(name="Held Person", **EXPIRED))
    vault.close()
    old = tmp_path / "old.sqlite"
    shutil.copy(vault_path, old)  # a consistent, validly signed older copy
    with reopen(vault_path, clock) as v:
        v.unlock(PASSPHRASE)
        v.hold(kept.id)  # the epoch rises; this device pins it
    shutil.copy(old, vault_path)  # the attacker restores the copy without the hold
    for suffix in ("-wal", "-shm"):
        Path(f"{vault_path}{suffix}").unlink(missing_ok=True)
    with reopen(vault_path, clock) as v, pytest.raises(VaultTampered, match="older copy"):
        v.purge()
    with reopen(vault_path, clock) as v, pytest.raises(VaultTampered, match="older copy"):
        v.unlock(PASSPHRASE)
    assert raw(vault_path, "SELECT id FROM contacts") == [(kept.id,)]


def test_a_changed_epoch_or_signature_is_refused(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    vault.add(draft())
    vault.close()
    raw(vault_path, "UPDATE vault_meta SET head_epoch = head_epoch + 100")  # "newer" without a signature
    with reopen(vault_path, clock) as v, pytest.raises(VaultTampered, match="signed head"):
        v.unlock(PASSPHRASE)


def test_a_manifest_row_moved_to_another_bucket_is_refused(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    added = vault.add(draft())
    vault.close()
    raw(vault_path, "UPDATE manifest SET bucket = (bucket + 1) % 256 WHERE id = ?", added.id)
    with reopen(vault_path, clock) as v, pytest.raises(VaultTampered, match="signed head"):  # two buckets changed
        v.unlock(PASSPHRASE)


def test_a_manifest_row_with_a_bucket_out_of_range_is_refused(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    added = vault.add(draft())
    vault.close()
    raw(vault_path, "UPDATE manifest SET bucket = 999 WHERE id = ?", added.id)
    with reopen(vault_path, clock) as v, pytest.raises(VaultTampered, match="manifest"):
        v.unlock(PASSPHRASE)


def test_changed_bucket_digests_refuse_the_next_write_and_nothing_is_written(vault: Vault, vault_path: Path) -> None:
    vault.add(draft(name="First"))
    (digests,) = raw(vault_path, "SELECT manifest_digests FROM vault_meta")[0]
    assert isinstance(digests, bytes)
    forged = bytes([digests[0] ^ 1]) + digests[1:]
    raw(vault_path, "UPDATE vault_meta SET manifest_digests = ?", forged)
    with pytest.raises(VaultTampered):
        vault.add(draft(name="Second"))
    assert [r[0] for r in raw(vault_path, "SELECT count(*) FROM contacts")] == [1]


def _same_bucket_id(record_id: str) -> str:
    while True:
        candidate = str(uuid.uuid4())
        if index_bucket(candidate) == index_bucket(record_id):
            return candidate


def test_a_replay_behind_an_open_vault_is_never_signed_into_the_next_head(vault: Vault, vault_path: Path) -> None:
    """The open app writes after another process replayed a row and its manifest entry:
    the write re-hashes that bucket, finds it differs from the signed one, and refuses."""
    target = vault.add(draft(name="Target"))
    vault.hold(target.id)  # version 2 in the manifest
    raw(vault_path, "UPDATE manifest SET version = 1 WHERE id = ?", target.id)
    store = vault._store
    neighbour = _same_bucket_id(target.id)
    with pytest.raises(VaultTampered), store.session() as s:
        head.reseal(s, store, vault._book.sealer.sign, {neighbour: 1})
    assert raw(vault_path, "SELECT version FROM manifest WHERE id = ?", neighbour) == []


def test_a_record_deleted_behind_the_vaults_back_is_reported_by_id(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    gone = vault.add(draft(name="Gone"))
    kept = vault.add(draft(name="Kept"))
    vault.close()
    raw(vault_path, "DELETE FROM contacts WHERE id = ?", gone.id)
    with reopen(vault_path, clock) as v:
        v.unlock(PASSPHRASE)
        assert v.damaged_ids == (gone.id,)
        assert [c.id for c in v.contacts()] == [kept.id]


def test_a_planted_row_that_is_not_in_the_manifest_is_not_shown(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    """A validly signed row copied in from another file of this vault (an erased record's old row)."""
    erased = vault.add(draft(name="Erased", rule="inquiry-6m", trigger=date(2026, 6, 1)))
    row = raw(vault_path, "SELECT * FROM contacts WHERE id = ?", erased.id)[0]
    vault.erase(erased.id)
    vault.close()
    raw(vault_path, "DELETE FROM tombstones WHERE id = ?", erased.id)
    raw(vault_path, "DELETE FROM manifest WHERE id = ?", erased.id)  # the attacker hides the erasure ...
    placeholders = ",".join("?" * len(row))
    raw(vault_path, f"INSERT INTO contacts VALUES ({placeholders})", *row)  # ... and puts the row back
    with reopen(vault_path, clock) as v, pytest.raises(VaultTampered):
        v.unlock(PASSPHRASE)  # the manifest no longer matches its signed digest


def test_without_a_pin_on_this_device_the_purge_refuses_until_the_first_unlock(
    vault: Vault, vault_path: Path, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vault carried to a machine that never unlocked it (or whose pins were deleted):
    the purge trusts no key from the file alone; the first unlock pins it."""
    due = vault.add(draft(name="Due", **EXPIRED))
    vault.close()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "other-machine"))
    with reopen(vault_path, clock) as v:
        assert not head.Pins(bytes.fromhex(v.vault_id)).exists
        with pytest.raises(head.NotPinned):
            v.purge()
        with pytest.raises(head.NotPinned):
            v.purge(dry_run=True)
        assert raw(vault_path, "SELECT id FROM contacts") == [(due.id,)]
        v.unlock(PASSPHRASE)
        assert [p.record_id for p in v.purge().purged] == [due.id]


@pytest.mark.parametrize("table", ["manifest", "contacts"])
def test_an_id_that_is_no_longer_utf8_is_damage_not_a_crash(
    vault: Vault, vault_path: Path, clock: FixedClock, table: str
) -> None:
    """A flipped bit in a stored id (found by the long fault run): SQLite cannot decode
    the text; unlock and the purge report damage instead of an internal error."""
    contact = vault.add(draft(name="Flipped"))
    vault.close()
    broken = contact.id.encode()[:8] + b"\xff" + contact.id.encode()[9:]
    raw(vault_path, f"UPDATE {table} SET id = CAST(? AS TEXT) WHERE id = ?", broken, contact.id)
    with reopen(vault_path, clock) as v:
        try:
            v.unlock(PASSPHRASE)
        except VaultDamaged:
            pass  # refused as damaged (the manifest)
        else:
            assert v.damaged_ids and contact.id not in {c.id for c in v.contacts()}  # listed, the rest works
    with reopen(vault_path, clock) as v:
        try:
            report = v.purge()
        except VaultDamaged:
            pass
        else:
            assert report.purged == ()  # nothing due, nothing deleted; above all no internal error
