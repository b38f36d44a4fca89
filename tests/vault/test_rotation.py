"""`passwd --rotate`: every key replaced, every row re-sealed, nothing lost (issue 10 case 13)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from vault import crypto
from vault.errors import VaultTampered, WrongPassphrase
from vault.model import LegalBasis
from vault.records import meta_message
from vault.service import Vault

NEW = "a brand new passphrase"


def _raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_rotation_keeps_every_record_request_and_tombstone_usable(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    kept = vault.add(draft(name="Kept Person"))
    gone = vault.add(
        draft(name="Gone Person", rule="inquiry-6m", basis=LegalBasis.LEGITIMATE_INTERESTS, emails=(), phones=())
    )
    vault.erase(gone.id)
    expired = vault.add(draft(name="Expired Person", trigger=date(2015, 1, 1)))
    request = vault.open_request("access", [kept.id], notes="asked by e-mail")
    (verify_before,) = _raw(vault_path, "SELECT verify_key FROM vault_meta")[0]

    vault.change_passphrase(PASSPHRASE, NEW, kdf=WEAK_KDF, allow_weak_kdf=True, rotate=True)
    after = vault.add(draft(name="Added After Rotation", emails=(), phones=()))  # signed with the new key

    (verify_after,) = _raw(vault_path, "SELECT verify_key FROM vault_meta")[0]
    assert verify_after != verify_before
    assert vault.get(kept.id).name == "Kept Person"
    assert vault.get_request(request.id).notes == "asked by e-mail"
    # The erasure tombstone still verifies, under the new key.
    (tid, end, version, sig, history) = _raw(
        vault_path, "SELECT id, retention_end, meta_version, meta_sig, history FROM tombstones"
    )[0]
    assert tid == gone.id and history
    end_date = date.fromisoformat(end) if end else None
    message = meta_message(bytes.fromhex(vault.vault_id), tid, end_date, False, version, history)
    assert crypto.verify(verify_after, message, sig)
    vault.close()
    # The passphrase-less purge trusts the new key (re-pinned on this device) and works.
    with Vault(vault_path, clock=clock) as cron:
        assert {p.record_id for p in cron.purge().purged} == {expired.id}
    with Vault(vault_path, clock=clock) as again:
        with pytest.raises(WrongPassphrase):
            again.unlock(PASSPHRASE)
        again.unlock(NEW)
        assert again.damaged_ids == ()
        assert {c.id for c in again.contacts()} == {kept.id, after.id}


def test_rotation_with_a_wrong_old_passphrase_changes_nothing(vault: Vault, vault_path: Path) -> None:
    vault.add(draft())
    before = _raw(vault_path, "SELECT wrapped_root_key, verify_key FROM vault_meta")
    sealed = _raw(vault_path, "SELECT sealed FROM contacts")
    with pytest.raises(WrongPassphrase):
        vault.change_passphrase("not the passphrase", NEW, rotate=True)
    assert _raw(vault_path, "SELECT wrapped_root_key, verify_key FROM vault_meta") == before
    assert _raw(vault_path, "SELECT sealed FROM contacts") == sealed


def test_a_rotation_that_dies_between_its_commit_and_the_repin_still_unlocks(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    """Found by the kill tests: the new key is committed but this device's pin still holds the
    old one.  The key this device announced before the commit is accepted (and pinned); any
    other key is still refused as tampering."""
    from vault.rotation import rotate_keys

    kept = vault.add(draft(name="Kept Person"))
    pins = vault._pins
    old_pin = pins.verify_key()
    rotate_keys(vault._store, vault._audit, PASSPHRASE, NEW, WEAK_KDF, expect=pins.expect_key)  # no repin: "killed"
    vault.close()
    assert pins.verify_key() == old_pin
    with Vault(vault_path, clock=clock) as again:
        again.unlock(NEW)
        assert again.get(kept.id).name == "Kept Person"
    assert pins.verify_key() != old_pin  # promoted
    # Another rotation that never announced its key (someone else's file) is refused.
    rotate_keys(Vault(vault_path, clock=clock)._store, vault._audit, NEW, PASSPHRASE, WEAK_KDF, expect=lambda key: None)
    with Vault(vault_path, clock=clock) as third, pytest.raises(VaultTampered):
        third.unlock(PASSPHRASE)
