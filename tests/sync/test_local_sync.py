"""Two devices through a local folder: convergence, merge rules, rollback and fork."""

from __future__ import annotations

import os
import stat
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.conftest import draft
from tests.sync.conftest import Pair, later
from vault.service import Vault
from vault.store.models import ContactRow, TombstoneRow
from vault.sync.errors import (
    RemoteChanged,
    RemoteNewer,
    RemoteRefused,
    RollbackRefused,
)
from vault.sync.local import LocalFolder


def names(vault: object) -> list[str]:
    return [c.name for c in vault.contacts()]  # type: ignore[attr-defined]


def test_two_devices_converge_through_a_local_folder(local_pair: Pair) -> None:
    p = local_pair
    anna = p.a.add(draft(name="Anna Alpha"))
    p.a.sync_push(p.remote_a)
    p.b.add(draft(name="Bert Beta"))
    report = p.b.sync_push(p.remote_b)
    assert report.pulled_first and report.added == 1
    p.a.sync_pull(p.remote_a)
    assert names(p.a) == names(p.b) == ["Anna Alpha", "Bert Beta"]
    later(p.clock)
    p.b.update(anna.id, draft(name="Anna Alpha-Berg"))
    p.b.sync_push(p.remote_b)
    assert p.a.sync_pull(p.remote_a).updated == 1
    assert p.a.get(anna.id).name == "Anna Alpha-Berg"
    assert p.a.sync_pull(p.remote_a).action == "up-to-date"


def test_blob_file_is_private_and_holds_no_plaintext(local_pair: Pair, tmp_path: Path) -> None:
    local_pair.a.add(draft(name="Zacharias Plaintextcheck", notes="secret-note-marker"))
    local_pair.a.sync_push(local_pair.remote_a)
    blob = tmp_path / "shared-folder" / "sealbook.blob"
    assert stat.S_IMODE(blob.stat().st_mode) == 0o600
    data = blob.read_bytes()
    assert b"Plaintextcheck" not in data and b"secret-note-marker" not in data
    assert not [p for p in blob.parent.iterdir() if p.name.endswith(".tmp")]


def test_blob_never_deletes_a_record_it_merely_omits(local_pair: Pair) -> None:
    p = local_pair
    only_b = p.b.add(draft(name="Only On B"))
    # A pushes a blob that lacks B's unpushed record; B pulls it.
    p.a.add(draft(name="From A"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    assert p.b.get(only_b.id).name == "Only On B"


def test_higher_meta_version_wins_and_concurrent_edits_are_reported(local_pair: Pair) -> None:
    p = local_pair
    c = p.a.add(draft(name="Carla"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    later(p.clock)
    p.a.update(c.id, draft(name="Carla A1"))
    p.a.update(c.id, draft(name="Carla A2"))  # version 3
    p.a.sync_push(p.remote_a)
    later(p.clock)
    p.b.update(c.id, draft(name="Carla B1"))  # version 2, edited on B since its last sync
    report = p.b.sync_pull(p.remote_b)
    assert p.b.get(c.id).name == "Carla A2"
    assert c.id in report.conflicts


def test_same_version_edits_are_a_reported_conflict_with_a_deterministic_winner(local_pair: Pair) -> None:
    p = local_pair
    c = p.a.add(draft(name="Dora"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    p.b.update(c.id, draft(name="Dora B"))
    later(p.clock)
    p.a.update(c.id, draft(name="Dora A"))  # same version, later update time
    p.a.sync_push(p.remote_a)
    report = p.b.sync_push(p.remote_b)  # pulls, merges, pushes
    assert c.id in report.conflicts
    p.a.sync_pull(p.remote_a)
    assert p.a.get(c.id).name == p.b.get(c.id).name == "Dora A"


def test_signed_erasure_tombstone_deletes_everywhere(local_pair: Pair) -> None:
    p = local_pair
    c = p.a.add(draft(name="Erik", rule="inquiry-6m" if False else "invoices-8y"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    _erase_now(p.a, c.id)
    p.a.sync_push(p.remote_a)
    report = p.b.sync_pull(p.remote_b)
    assert report.deleted == 1
    assert c.id not in [x.id for x in p.b.contacts()]
    # B pushes: the record does not come back to A either.
    p.b.add(draft(name="Other"))
    p.b.sync_push(p.remote_b)
    p.a.sync_pull(p.remote_a)
    assert c.id not in [x.id for x in p.a.contacts()]


def _erase_now(vault: Vault, record_id: str) -> None:
    """A signed erasure tombstone, as Vault.erase writes when no retention applies (this
    record has a duty, so erase() would restrict it: the record book's delete is called directly)."""
    vault._book.delete([record_id], reason="erased")


def _purge_like(vault: Vault, record_id: str, today: date) -> None:
    """The real passphrase-less purge (the record's retention has ended)."""
    report = vault.purge(today)
    assert record_id in {p.record_id for p in report.purged}


def test_stale_device_offline_during_a_purge_does_not_resurrect_the_record(local_pair: Pair) -> None:
    p = local_pair
    old = p.a.add(draft(name="Old Invoice Contact", trigger=date(2016, 3, 1)))  # retention ended 2024-12-31
    keep = p.a.add(draft(name="Current Contact"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)  # B has the record, then goes offline
    _purge_like(p.a, old.id, p.a.today())
    p.a.sync_push(p.remote_a)  # locked-style push of the purge
    # B comes back: edits something and pushes (which pulls and merges first).
    later(p.clock)
    p.b.update(keep.id, draft(name="Current Contact Updated"))
    report = p.b.sync_push(p.remote_b)
    assert report.deleted == 1
    assert old.id not in [c.id for c in p.b.contacts()]
    p.a.sync_pull(p.remote_a)
    assert old.id not in [c.id for c in p.a.contacts()]
    assert p.a.get(keep.id).name == "Current Contact Updated"


def test_unsigned_tombstone_for_an_unexpired_record_is_refused(local_pair: Pair) -> None:
    p = local_pair
    c = p.a.add(draft(name="Still Needed"))  # retention until 2033
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    # A forged purge tombstone (anyone with the public key can write a blob).
    with p.a._store.session() as s:
        s.delete(s.get(ContactRow, c.id))
        s.add(
            TombstoneRow(
                id=c.id,
                deleted_at=datetime(2026, 6, 15),
                reason="purged",
                retention_end=date(2020, 1, 1),
                signature=None,
            )
        )
    p.a.load_contacts()
    p.a.sync_push(p.remote_a)
    report = p.b.sync_pull(p.remote_b)
    assert c.id in report.rejected
    assert p.b.get(c.id).name == "Still Needed"


def test_records_that_do_not_authenticate_are_rejected(local_pair: Pair) -> None:
    p = local_pair
    c = p.a.add(draft(name="Tamper Target"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    later(p.clock)
    p.a.update(c.id, draft(name="Tamper Target 2"))
    with p.a._store.session() as s:
        row = s.get(ContactRow, c.id)
        row.sealed = row.sealed[:-1] + bytes([row.sealed[-1] ^ 1])
    p.a.sync_push(p.remote_a)
    report = p.b.sync_pull(p.remote_b)
    assert c.id in report.rejected
    assert p.b.get(c.id).name == "Tamper Target"


def test_replayed_older_blob_is_refused_and_nothing_changes(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    blob = tmp_path / "shared-folder" / "sealbook.blob"
    old = blob.read_bytes()
    p.a.add(draft(name="Newer"))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    before = names(p.b)
    blob.write_bytes(old)  # an attacker (or a restored backup) puts the old blob back
    with pytest.raises(RollbackRefused):
        p.b.sync_pull(p.remote_b)
    assert names(p.b) == before


def test_locked_push_works_and_refuses_when_the_remote_is_newer(local_pair: Pair) -> None:
    p = local_pair
    p.a.add(draft(name="Locked Push"))
    p.a.lock()
    assert p.a.sync_push(p.remote_a).action == "pushed"
    p.b.add(draft(name="B Pushes"))
    p.b.sync_push(p.remote_b)
    with pytest.raises(RemoteNewer):
        p.a.sync_push(p.remote_a)


def test_stale_writer_never_overwrites_another_devices_push(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    folder = LocalFolder(tmp_path / "shared-folder")
    expected = folder.version()
    p.b.add(draft(name="B First"))
    p.b.sync_push(p.remote_b)
    with pytest.raises(RemoteChanged):
        folder.put(b"stale blob", expected)
    assert folder.version() != expected
    p.a.sync_pull(p.remote_a)
    assert "B First" in names(p.a)


def test_missing_folder_is_refused_not_created(tmp_path: Path) -> None:
    folder = LocalFolder(tmp_path / "not-mounted")
    with pytest.raises(RemoteRefused):
        folder.put(b"x", None)
    assert not (tmp_path / "not-mounted").exists()


def test_failed_fsync_keeps_the_old_blob(local_pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = local_pair
    blob = tmp_path / "shared-folder" / "sealbook.blob"
    old = blob.read_bytes()
    p.a.add(draft(name="Never Lands"))

    real_fsync = os.fsync

    def broken_fsync(fd: int) -> None:  # the remote folder's disk fails; this device's state folder does not
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(blob.parent)):
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(RemoteRefused):
        p.a.sync_push(p.remote_a)
    monkeypatch.undo()
    assert blob.read_bytes() == old
    assert not [x for x in blob.parent.iterdir() if x.name.endswith(".tmp")]


def test_unattended_purge_pushes_while_locked_and_a_stale_device_follows(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    old = p.a.add(draft(name="Expired Long Ago", trigger=date(2016, 3, 1)))  # retention ended 2024-12-31
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    p.a.sync_setup(str(tmp_path / "shared-folder"))
    p.a.lock()  # the purge runs without the passphrase
    report = p.a.purge()
    assert [r.record_id for r in report.purged] == [old.id]
    assert not report.push_pending and not report.push_error
    p.b.sync_pull(p.remote_b)
    assert old.id not in [c.id for c in p.b.contacts()]


def test_pull_needs_the_unlocked_vault(local_pair: Pair) -> None:
    from vault.errors import VaultLocked

    local_pair.b.lock()
    with pytest.raises(VaultLocked):
        local_pair.b.sync_pull(local_pair.remote_b)


def test_the_suppression_list_travels_to_the_other_device(local_pair: Pair) -> None:
    """Erased on A: B must not quietly add the person back (issue 11.3)."""
    from vault.errors import SuppressedPerson

    p = local_pair
    gone = p.a.add(draft(name="Gone Person", emails=("gone@example.org",), phones=("+49 89 1234567",)))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    later(p.clock)
    p.a.erase(gone.id)
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    with pytest.raises(SuppressedPerson):
        p.b.add(draft(name="Back Again", emails=("GONE@example.org",), phones=()))
    with pytest.raises(SuppressedPerson):
        p.b.add(draft(name="Back Again", emails=(), phones=("089 1234567",)))
    # And B's own list goes back to A through B's next push (a union, never a removal).
    other = p.b.add(draft(name="Other", emails=("other@example.org",), phones=()))
    later(p.clock)
    p.b.erase(other.id)
    p.b.sync_push(p.remote_b)
    p.a.sync_pull(p.remote_a)
    with pytest.raises(SuppressedPerson):
        p.a.add(draft(name="Other", emails=("other@example.org",), phones=()))


def test_a_clone_carries_the_suppression_list(local_pair: Pair, tmp_path: Path) -> None:
    from tests.conftest import PASSPHRASE
    from vault.errors import SuppressedPerson

    p = local_pair
    gone = p.a.add(draft(name="Gone", emails=("gone@example.org",), phones=()))
    p.a.erase(gone.id)
    p.a.sync_push(p.remote_a)
    clone, _ = Vault.clone_from(None, tmp_path / "clone.sqlite", PASSPHRASE, remote=p.remote_b, clock=p.clock)
    try:
        with pytest.raises(SuppressedPerson):
            clone.add(draft(name="Gone", emails=("gone@example.org",), phones=()))
    finally:
        clone.close()
