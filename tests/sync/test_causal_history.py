"""Causal history (vault.causal, issue 10): the version vector every record carries,
signed with its metadata and bound into the sealed row.

Each rule is fed the unlucky order between two devices, and each check a forged,
stripped, swapped or malformed history; real vault files, a real LocalFolder remote.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.sync.conftest import later, two_devices
from vault import causal
from vault.causal import Order
from vault.service import Vault
from vault.sync.local import LocalFolder

EXPIRED = {"rule": "inquiry-6m", "trigger": date(2025, 1, 1)}  # retention ended 2025-07-01
A, B, C = "a" * 16, "b" * 16, "c" * 16


def raw(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


# --- the vector itself ---------------------------------------------------------------------------


def test_order_of_versions() -> None:
    base = causal.bump(b"", A)
    on_a = causal.bump(base, A)
    on_b = causal.bump(base, B)
    assert causal.order(base, base) is Order.SAME
    assert causal.order(base, on_a) is Order.BEFORE
    assert causal.order(on_a, base) is Order.AFTER
    assert causal.order(on_a, on_b) is Order.CONCURRENT
    assert causal.order(causal.bump(on_b, A), on_a) is Order.AFTER  # B's edit, then A pulled and edited
    assert causal.order(b"", on_a) is None  # a row from before histories: unknown
    assert causal.decode(causal.bump(causal.bump(b"", B), A)) == {bytes.fromhex(A): 1, bytes.fromhex(B): 1}


@pytest.mark.parametrize(
    "history",
    [
        b"\x00" * 11,  # not a whole entry
        bytes.fromhex(B) + b"\x00\x00\x00\x01" + bytes.fromhex(A) + b"\x00\x00\x00\x01",  # not sorted
        bytes.fromhex(A) + b"\x00\x00\x00\x01" + bytes.fromhex(A) + b"\x00\x00\x00\x02",  # a device twice
        bytes.fromhex(A) + b"\x00\x00\x00\x00",  # a zero counter
        b"".join(i.to_bytes(8, "big") + b"\x00\x00\x00\x01" for i in range(causal.MAX_DEVICES + 1)),  # absurd
    ],
)
def test_a_malformed_history_is_refused(history: bytes) -> None:
    with pytest.raises(ValueError):
        causal.decode(history)
    assert causal.order(history, causal.bump(b"", A)) is None


# --- a forged history in the vault file -----------------------------------------------------------


def test_every_write_extends_the_history_of_the_stored_row(vault: Vault, vault_path: Path) -> None:
    contact = vault.add(draft(name="First"))
    (first,) = raw(vault_path, "SELECT history FROM contacts")
    edited = vault.update(contact.id, draft(name="Second"))
    (second,) = raw(vault_path, "SELECT history FROM contacts")
    assert causal.order(first[0], second[0]) is Order.BEFORE  # type: ignore[arg-type]
    assert edited.history == second[0]
    assert causal.decode(edited.history) == {causal.device_key(vault.device_id): 2}


@pytest.mark.parametrize("forged", ["stripped", "swapped", "garbage"])
def test_a_changed_history_column_is_noticed_by_unlock_and_refused_by_the_purge(
    vault: Vault, vault_path: Path, clock: FixedClock, forged: str
) -> None:
    """Someone with write access to the file (no passphrase) rewrites a record's history,
    e.g. so another device's tombstone would seem to cover it: the signature no longer
    verifies (purge refuses) and the sealed row no longer opens (unlock reports it)."""
    victim = vault.add(draft(name="Victim", **EXPIRED))
    other = vault.add(draft(name="Other", emails=("other@example.org",)))
    vault.update(other.id, draft(name="Other Edited", emails=("other@example.org",)))
    vault.close()
    value = {
        "stripped": b"",
        "swapped": raw(vault_path, "SELECT history FROM contacts WHERE id = ?", other.id)[0][0],
        "garbage": causal.bump(causal.bump(b"", C), C),
    }[forged]
    raw(vault_path, "UPDATE contacts SET history = ? WHERE id = ?", value, victim.id)
    with Vault(vault_path, clock=clock) as locked:
        report = locked.purge()
        assert victim.id in report.refused and report.purged == ()
    with Vault(vault_path, clock=clock) as v:
        v.unlock(PASSPHRASE)
        assert victim.id in v.damaged_ids
        assert [c.id for c in v.contacts()] == [other.id]


# --- two devices in the unlucky order -------------------------------------------------------------


def test_an_edit_made_after_pulling_the_other_version_is_no_conflict(tmp_path: Path, clock: FixedClock) -> None:
    """The history tells "later" from "concurrent": B pulls A's edit, edits on top of it and
    pushes; A's pull takes B's version without a conflict report."""
    a, b, record_id, folder = two_devices(tmp_path, clock)
    try:
        later(clock)
        a.update(record_id, draft(name="Edited On A"))
        a.sync_push(LocalFolder(folder))
        later(clock)
        assert b.sync_pull(LocalFolder(folder)).conflicts == ()
        b.update(record_id, draft(name="Edited On B After A"))
        later(clock)
        b.sync_push(LocalFolder(folder))
        later(clock)
        pulled = a.sync_pull(LocalFolder(folder))
        assert pulled.conflicts == ()
        assert a.get(record_id).name == "Edited On B After A"
    finally:
        a.close()
        b.close()


def test_a_hold_wins_over_a_concurrent_edit_on_both_devices(tmp_path: Path, clock: FixedClock) -> None:
    """A edits R twice (a higher version) while B, not synced, puts it on hold: both devices
    end with B's held version and both report the conflict (A's edit was the one let go)."""
    a, b, record_id, folder = two_devices(tmp_path, clock)
    try:
        later(clock)
        a.update(record_id, draft(name="Edited On A"))
        a.update(record_id, draft(name="Edited On A Again"))
        later(clock)
        a.sync_push(LocalFolder(folder))
        later(clock)
        b.hold(record_id)
        later(clock)
        pushed = b.sync_push(LocalFolder(folder))  # pulls A's edits first
        assert record_id in pushed.conflicts
        assert b.get(record_id).hold
        later(clock)
        pulled = a.sync_pull(LocalFolder(folder))
        assert record_id in pulled.conflicts
        assert a.get(record_id).hold and a.get(record_id).name == b.get(record_id).name
    finally:
        a.close()
        b.close()


def test_a_tombstone_with_a_forged_history_deletes_nothing(tmp_path: Path, clock: FixedClock) -> None:
    """A purges R; someone rewrites the tombstone's history in A's file so that it seems to
    descend from B's held version.  B refuses the tombstone and keeps its held record."""
    a, b, record_id, folder = two_devices(tmp_path, clock, **EXPIRED)
    try:
        later(clock)
        b.hold(record_id)
        held_history = b.get(record_id).history
        with Vault(a.path, clock=clock) as locked:
            assert [p.record_id for p in locked.purge().purged] == [record_id]
        forged = causal.bump(causal.bump(held_history, A), A)
        raw(a.path, "UPDATE tombstones SET history = ? WHERE id = ?", forged, record_id)
        a.refresh()
        later(clock)
        a.sync_push(LocalFolder(folder))
        later(clock)
        pulled = b.sync_pull(LocalFolder(folder))
        assert record_id in pulled.rejected
        assert b.get(record_id).hold
    finally:
        a.close()
        b.close()


def test_a_remote_row_with_a_swapped_history_is_rejected(tmp_path: Path, clock: FixedClock) -> None:
    """A pushes a row whose history was replaced by a later-looking one (to win the merge):
    the signature covers the history, so B rejects it and keeps its own version."""
    a, b, record_id, folder = two_devices(tmp_path, clock)
    try:
        later(clock)
        b.update(record_id, draft(name="Edited On B"))
        later(clock)
        a.update(record_id, draft(name="Edited On A"))
        a.close()
        mine = b.get(record_id).history
        raw(a.path, "UPDATE contacts SET history = ? WHERE id = ?", causal.bump(mine, A), record_id)
        with Vault(a.path, clock=clock) as locked:
            later(clock)
            locked.sync_push(LocalFolder(folder))  # the passphrase-less push sends the file as it is
        later(clock)
        pulled = b.sync_pull(LocalFolder(folder))
        assert record_id in pulled.rejected
        assert b.get(record_id).name == "Edited On B"
    finally:
        b.close()


def test_a_release_that_completes_an_erasure_leaves_a_tombstone_every_device_accepts(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A holds R, the person asks for erasure (it waits for the hold), B pulls that. A releases
    the hold, which completes the erasure.  The tombstone must verify elsewhere (it used to
    carry the held row's signature, hold = 1, which no tombstone may have): B deletes R."""
    a, b, record_id, folder = two_devices(tmp_path, clock, rule="inquiry-6m", trigger=date(2026, 6, 1))
    try:
        later(clock)
        a.hold(record_id, reason="tax audit 2025")
        a.erase(record_id)
        assert a.get(record_id).erasure_requested is not None
        a.sync_push(LocalFolder(folder))
        later(clock)
        b.sync_pull(LocalFolder(folder))
        assert b.get(record_id).hold
        later(clock)
        assert a.release(record_id) is None  # the erasure completes now
        a.sync_push(LocalFolder(folder))
        later(clock)
        pulled = b.sync_pull(LocalFolder(folder))
        assert pulled.rejected == ()
        assert record_id not in {c.id for c in b.contacts()}
    finally:
        a.close()
        b.close()
