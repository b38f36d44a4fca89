"""Issue 10, cases 1-4 and 13, through the Python API: an attacker with write access
to the vault file (no passphrase) edits it with the sqlite3 module.

Every test here fails on the code the issue was filed against and is marked
``xfail(strict=True)``; the marker goes when the fix for its case lands (a
strict xfail that passes fails the run, so it cannot be forgotten).

What the fix must give: tampering is reported as tampered, a
:class:`vault.errors.VaultDamaged` (the fix adds ``VaultTampered`` under it) for
the whole vault, or the record's id in ``damaged_ids`` / ``report.refused`` for
one record, while the other records keep working.  Never
``WrongPassphrase``, never a traceback, and never a deleted record that was on
hold or not yet due.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from tests.conftest import PASSPHRASE, FixedClock, draft
from vault import crypto
from vault.errors import VaultDamaged, WrongPassphrase
from vault.records import meta_message
from vault.service import Vault
from vault.sync.local import LocalFolder

TODAY = date(2026, 6, 15)  # the clock fixture's day
EXPIRED = {"rule": "inquiry-6m", "trigger": date(2025, 1, 1)}  # retention ended 2025-07-01
NEW_PASSPHRASE = "another horse battery staple"


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform data/state/config folders (where the fix pins the verify key and
    keeps the high-water marks) live under tmp_path; autouse, so they are set before
    the ``vault`` fixture creates the vault."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("SEALBOOK_NO_KEYRING", "1")
    monkeypatch.delenv("SEALBOOK_VAULT", raising=False)


# --- the attacker's tools: sqlite3 on the file, nothing from the vault's internals ----------


def connect(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path))


def ids_in_file(path: Path) -> set[str]:
    with connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM contacts")}


def copy_vault_file(source: Path, dest: Path) -> None:
    """A consistent copy of the vault (WAL included), as a backup or an old copy would be."""
    with connect(source) as src, connect(dest) as dst:
        src.backup(dst)


def copy_rows(source: Path, dest: Path, ids: list[str]) -> None:
    """Byte copy of every column of these contacts rows from ``source`` over ``dest``."""
    with connect(source) as src, connect(dest) as dst:
        for record_id in ids:
            cursor = src.execute("SELECT * FROM contacts WHERE id = ?", (record_id,))
            columns = [d[0] for d in cursor.description]
            row = cursor.fetchone()
            assert row is not None, f"{record_id} not in {source}"
            dst.execute(
                f"INSERT OR REPLACE INTO contacts ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                row,
            )
        dst.commit()


def fix_header_checksum(conn: sqlite3.Connection) -> None:
    """Recompute vault_meta.header_checksum (an unkeyed BLAKE2b over the key header: it
    only tells accidental damage apart, so an attacker recomputes it)."""
    row = conn.execute(
        "SELECT format_version, vault_id, kdf_t, kdf_m_kib, kdf_p, kdf_salt, wrapped_root_key, "
        "sync_public_key, wrapped_sync_secret_key, verify_key, wrapped_signing_key FROM vault_meta WHERE id = 1"
    ).fetchone()
    conn.execute("UPDATE vault_meta SET header_checksum = ? WHERE id = 1", (crypto.checksum(crypto.pae(*row)),))


def swap_verify_key_and_resign_all_as_expired(path: Path) -> None:
    """Case 2: a new Ed25519 key in vault_meta, every row re-signed as expired and unheld."""
    key = SigningKey.generate()
    expired = date(2020, 1, 1)
    with connect(path) as conn:
        (vault_id,) = conn.execute("SELECT vault_id FROM vault_meta WHERE id = 1").fetchone()
        conn.execute("UPDATE vault_meta SET verify_key = ? WHERE id = 1", (bytes(key.verify_key),))
        for record_id, version in conn.execute("SELECT id, meta_version FROM contacts").fetchall():
            signature = key.sign(meta_message(vault_id, record_id, expired, False, version)).signature
            conn.execute(
                "UPDATE contacts SET retention_end = ?, hold = 0, meta_sig = ? WHERE id = ?",
                (expired.isoformat(), signature, record_id),
            )
        fix_header_checksum(conn)
        conn.commit()


PLANTED = {
    "trigger": "CREATE TRIGGER t AFTER DELETE ON contacts BEGIN DELETE FROM contacts; END;",
    "view": "CREATE VIEW v AS SELECT id, retention_end, hold FROM contacts",
    "index": "CREATE INDEX ix_planted ON contacts (hold, meta_version)",
}


def plant(path: Path, sql: str) -> None:
    with connect(path) as conn:
        conn.execute(sql)
        conn.commit()


def purge_outcome(path: Path, clock: FixedClock, expect_key: str | None = None) -> tuple[object | None, str]:
    """Run the purge as the unattended job does (a fresh, locked Vault).  Returns the
    report, or None and the error's text when it raised VaultDamaged (refused)."""
    try:
        with Vault(path, clock=clock) as vault:
            return vault.purge(TODAY, expect_key=expect_key), ""
    except VaultDamaged as error:
        return None, str(error)


# --- case 1: replay of an old signed row -------------------------------------------------------


@pytest.fixture
def replayed(vault: Vault, vault_path: Path, tmp_path: Path) -> dict[str, str]:
    """R is added (version 1, expired, no hold), the file is copied, R is put on hold
    (version 2); then R's version-1 row is copied from the old copy over version 2."""
    held = vault.add(draft(name="Held Person", **EXPIRED))
    other = vault.add(draft(name="Other Person"))
    fingerprint = vault.verify_key_fingerprint
    old_copy = tmp_path / "old-copy.sqlite"
    copy_vault_file(vault_path, old_copy)
    assert vault.hold(held.id).meta_version == 2
    vault.close()
    copy_rows(old_copy, vault_path, [held.id])
    return {"held": held.id, "other": other.id, "fingerprint": fingerprint}


@pytest.mark.parametrize("pinned", [False, True], ids=["plain", "expect-key"])
def test_replayed_old_row_is_not_purged_and_reported_tampered(
    replayed: dict[str, str], vault_path: Path, clock: FixedClock, pinned: bool
) -> None:
    report, _error = purge_outcome(vault_path, clock, replayed["fingerprint"] if pinned else None)
    assert replayed["held"] in ids_in_file(vault_path), "the held record was purged from a replayed row"
    if report is not None:  # not refused as a whole: then the record must be refused by id
        assert replayed["held"] in report.refused  # type: ignore[attr-defined]
        assert replayed["held"] not in [p.record_id for p in report.purged]  # type: ignore[attr-defined]


def test_replayed_old_row_is_damaged_at_unlock_not_shown_without_its_hold(
    replayed: dict[str, str], vault_path: Path, clock: FixedClock
) -> None:
    vault = Vault(vault_path, clock=clock)
    try:
        try:
            vault.unlock(PASSPHRASE)
        except VaultDamaged:
            return  # refused as tampered: fine
        assert replayed["held"] in vault.damaged_ids
        assert replayed["held"] not in [c.id for c in vault.contacts()]
        assert vault.get(replayed["other"]).name == "Other Person"  # the others keep working
    finally:
        vault.close()


# --- case 2: a manual purge trusts the verify key in the file -----------------------------------


@pytest.fixture
def rekeyed(vault: Vault, vault_path: Path) -> set[str]:
    ids = {
        vault.add(draft(name="Future Person")).id,
        vault.add(draft(name="Another Future")).id,
        vault.hold(vault.add(draft(name="Held Expired", **EXPIRED)).id).id,
    }
    vault.close()
    swap_verify_key_and_resign_all_as_expired(vault_path)
    return ids


def test_swapped_verify_key_plain_purge_deletes_nothing_and_says_tampered(
    rekeyed: set[str], vault_path: Path, clock: FixedClock
) -> None:
    report, error = purge_outcome(vault_path, clock)  # no expect_key: the key pinned at create counts
    assert ids_in_file(vault_path) == rekeyed
    if report is None:
        assert "tamper" in error.lower()
    else:
        assert not report.purged and set(report.refused) == rekeyed  # type: ignore[attr-defined]


def test_swapped_verify_key_unlock_says_tampered_not_wrong_passphrase(
    rekeyed: set[str], vault_path: Path, clock: FixedClock
) -> None:
    vault = Vault(vault_path, clock=clock)
    try:
        with pytest.raises(VaultDamaged) as caught:
            vault.unlock(PASSPHRASE)
    except WrongPassphrase:
        pytest.fail("a tampered key header was reported as a wrong passphrase")
    finally:
        vault.close()
    assert "tamper" in str(caught.value).lower()


# --- case 3: objects planted in the file ----------------------------------------------------------


@pytest.fixture
def two_records(vault: Vault) -> set[str]:
    ids = {vault.add(draft(name="Expired Person", **EXPIRED)).id, vault.add(draft(name="Future Person")).id}
    vault.close()
    return ids


@pytest.mark.parametrize("kind", list(PLANTED))
def test_planted_schema_object_is_refused_by_the_purge_and_nothing_is_deleted(
    two_records: set[str], vault_path: Path, clock: FixedClock, kind: str
) -> None:
    plant(vault_path, PLANTED[kind])
    report, error = purge_outcome(vault_path, clock)
    assert ids_in_file(vault_path) == two_records, "the purge ran on a file with a planted " + kind
    assert report is None and "tamper" in error.lower()


@pytest.mark.parametrize("kind", list(PLANTED))
def test_planted_schema_object_is_refused_at_open_or_unlock(
    two_records: set[str], vault_path: Path, clock: FixedClock, kind: str
) -> None:
    plant(vault_path, PLANTED[kind])
    with pytest.raises(VaultDamaged) as caught, Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
    assert "tamper" in str(caught.value).lower()
    assert ids_in_file(vault_path) == two_records


# --- case 4: one malformed plaintext date ---------------------------------------------------------


@pytest.fixture
def malformed(vault: Vault, vault_path: Path) -> dict[str, str]:
    ids = {
        "expired": vault.add(draft(name="Expired Person", **EXPIRED)).id,
        "healthy": vault.add(draft(name="Healthy Person")).id,
        "bad": vault.add(draft(name="Damaged Person")).id,
    }
    vault.close()
    with connect(vault_path) as conn:
        conn.execute("UPDATE contacts SET retention_end = ' 2033-12-31' WHERE id = ?", (ids["bad"],))
        conn.commit()
    return ids


def test_malformed_date_marks_one_record_damaged_and_the_others_unlock(
    malformed: dict[str, str], vault_path: Path, clock: FixedClock
) -> None:
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        assert vault.damaged_ids == (malformed["bad"],)
        assert {c.id for c in vault.contacts()} == {malformed["expired"], malformed["healthy"]}
        assert [c.id for c in vault.search("healthy")] == [malformed["healthy"]]
        with pytest.raises(VaultDamaged):
            vault.get(malformed["bad"])


def test_malformed_date_does_not_stop_the_purge_of_other_due_records(
    malformed: dict[str, str], vault_path: Path, clock: FixedClock
) -> None:
    with Vault(vault_path, clock=clock) as vault:
        report = vault.purge(TODAY)
    assert [p.record_id for p in report.purged] == [malformed["expired"]]
    assert ids_in_file(vault_path) == {malformed["healthy"], malformed["bad"]}


# --- case 13: passwd keeps the root key; payload lengths leak field lengths ------------------------


def root_key(passphrase: str, header: dict[str, object]) -> bytes:
    """The attacker's way to the root key: the KEK from the passphrase opens the wrapped
    root key of a key header (DESIGN.md, Keys; the additional data is the one the vault
    and every pushed blob use, pinned by tests/data/sync/blob-v1.*)."""
    kdf = crypto.KdfParams(header["kdf_t"], header["kdf_m_kib"], header["kdf_p"])  # type: ignore[arg-type]
    kek = crypto.derive_kek(passphrase, header["kdf_salt"], kdf)  # type: ignore[arg-type]
    bound = ("vault_id", "kdf_t", "kdf_m_kib", "kdf_p", "kdf_salt", "sync_public_key", "verify_key")
    ad = crypto.pae(b"sealbook-rk-v1", header.get("format_version", 1), *(header[k] for k in bound))  # type: ignore[arg-type]
    return crypto.open_sealed(kek, header["wrapped_root_key"], ad)  # type: ignore[arg-type]


def file_header(path: Path) -> dict[str, object]:
    with connect(path) as conn:
        cursor = conn.execute("SELECT * FROM vault_meta WHERE id = 1")
        return dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))


def blob_header(blob: bytes) -> dict[str, object]:
    from dataclasses import asdict

    from vault.sync.blob import read_header

    return asdict(read_header(blob)[0])


def test_rotated_passphrase_old_blob_and_old_passphrase_cannot_open_records_sealed_after(
    vault: Vault, vault_path: Path, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote"
    remote.mkdir()
    before = vault.add(draft(name="Before Rotation"))
    vault.sync_push(LocalFolder(remote))
    old_blob = (remote / "sealbook.blob").read_bytes()  # a Nextcloud version, a hoster's backup

    vault.change_passphrase(PASSPHRASE, NEW_PASSPHRASE, rotate=True)  # type: ignore[call-arg]
    after = vault.add(draft(name="After Rotation"))
    assert vault.get(before.id).name == "Before Rotation"  # re-sealed, still readable
    vault.sync_push(LocalFolder(remote))
    vault.close()

    # The new key header does not open with the old passphrase ...
    with pytest.raises(WrongPassphrase):
        Vault.clone_from(None, tmp_path / "new-with-old.sqlite", PASSPHRASE, remote=LocalFolder(remote), clock=clock)
    # ... and the root key behind it is a new one.
    same_key = root_key(PASSPHRASE, blob_header(old_blob)) == root_key(NEW_PASSPHRASE, file_header(vault_path))
    assert not same_key, "the root key did not change"

    # The attacker, on their own machine: the old blob and the old passphrase ...
    attacker_home = tmp_path / "attacker-home"
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(attacker_home / name.lower()))
    old_remote = tmp_path / "old-remote"
    old_remote.mkdir()
    (old_remote / "sealbook.blob").write_bytes(old_blob)
    attacker_path = tmp_path / "attacker" / "vault.sqlite"
    attacker, _report = Vault.clone_from(None, attacker_path, PASSPHRASE, remote=LocalFolder(old_remote), clock=clock)
    assert attacker.get(before.id).name == "Before Rotation"  # what an old copy can still open
    attacker.close()
    # ... do not open the rows sealed since the rotation (copied from the current file).
    copy_rows(vault_path, attacker_path, [after.id, before.id])
    attacker = Vault(attacker_path, clock=clock)
    try:
        try:
            attacker.unlock(PASSPHRASE)
            readable = {c.id for c in attacker.contacts()}
        except VaultDamaged:
            readable = set()
    finally:
        attacker.close()
    assert after.id not in readable, "a record added after the rotation opens with the old root key"
    assert before.id not in readable, "a record re-sealed by the rotation opens with the old root key"


def test_sealed_payload_length_does_not_reveal_the_name_length(vault: Vault, vault_path: Path) -> None:
    # 31 names whose lengths differ by 1 to 30 characters; everything else is equal.
    ids = [vault.add(draft(name="Name " + "x" * extra)).id for extra in range(31)]
    with connect(vault_path) as conn:
        sealed = dict(conn.execute("SELECT id, length(sealed) FROM contacts").fetchall())
    lengths = Counter(sealed[record_id] for record_id in ids)
    # Padded to a block of at least 31 bytes, a window of 31 consecutive lengths
    # spans at most one block boundary: at most two distinct sealed sizes.
    assert len(lengths) <= 2, f"sealed sizes follow the name length: {sorted(lengths)}"
