"""The unattended purge: selection, signatures, one transaction, real erasure, the lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import FixedClock, draft
from vault import crypto
from vault.errors import ContactNotFound, VaultBusy, VaultTampered
from vault.lockfile import LockFileRefused, exclusive, lock_path_for
from vault.model import LegalBasis
from vault.purge import VerifyKeyChanged, push_is_pending, wal_is_empty
from vault.records import meta_message
from vault.service import Vault

TODAY = date(2026, 6, 15)
EXPIRED = {"rule": "inquiry-6m", "trigger": date(2025, 1, 1)}  # retention end 2025-07-01


def raw_rows(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Read the vault file directly, as an attacker (or an auditor) would."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def raw_write(path: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def vault_files(path: Path) -> list[Path]:
    """The database and every side file SQLite may leave: -wal, -shm, -journal."""
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(path.name) and p.is_file())


def found_in_files(path: Path, needle: bytes) -> list[str]:
    return [p.name for p in vault_files(path) if needle in p.read_bytes()]


@pytest.fixture
def mixed(vault: Vault) -> dict[str, str]:
    """One record of each kind the selection must tell apart."""
    ids = {
        "expired": vault.add(draft(**EXPIRED)).id,
        "expired_held": vault.add(draft(name="Held Person", **EXPIRED)).id,
        "future": vault.add(draft(name="Future Person")).id,  # invoices-8y: 2033-12-31
        "consent": vault.add(
            draft(
                name="Consent Person",
                basis=LegalBasis.CONSENT,
                rule="consent",
                trigger=date(2026, 1, 1),
                consent_given=date(2026, 1, 1),
                consent_method="form",
            )
        ).id,
        "ends_yesterday": vault.add(draft(name="Yesterday", rule="inquiry-6m", trigger=date(2025, 12, 14))).id,
        "ends_today": vault.add(draft(name="Today", rule="inquiry-6m", trigger=date(2025, 12, 15))).id,
    }
    vault.hold(ids["expired_held"])
    return ids


def test_only_expired_unheld_records_are_purged(vault: Vault, mixed: dict[str, str]) -> None:
    report = vault.purge(TODAY)
    gone = {p.record_id for p in report.purged}
    assert gone == {mixed["expired"], mixed["ends_yesterday"]}
    assert report.refused == () and report.scrubbed and report.ok
    left = {row[0] for row in raw_rows(vault.path, "SELECT id FROM contacts")}
    assert left == {mixed["expired_held"], mixed["future"], mixed["consent"], mixed["ends_today"]}
    with pytest.raises(ContactNotFound):
        vault.get(mixed["expired"])  # the unlocked instance forgot it at once


def test_purge_needs_no_passphrase(vault_path: Path, vault: Vault, mixed: dict[str, str], clock: FixedClock) -> None:
    with Vault(vault_path, clock=clock) as locked:
        assert locked.is_locked
        report = locked.purge(TODAY)
    assert {p.record_id for p in report.purged} == {mixed["expired"], mixed["ends_yesterday"]}


def test_tombstones_and_audit_rows_match_the_purged_records(vault: Vault, mixed: dict[str, str]) -> None:
    report = vault.purge(TODAY)
    expected = {(p.record_id, p.retention_end.isoformat()) for p in report.purged}
    tombstones = raw_rows(vault.path, "SELECT id, reason, retention_end, signature FROM tombstones")
    assert {(t[0], t[2]) for t in tombstones} == expected
    assert {t[1] for t in tombstones} == {"purged"}
    assert all(t[3] is None for t in tombstones)  # the signed retention end justifies them
    audit = vault.audit_log(action="purged")
    assert {(a.record_id, a.detail) for a in audit} == {(r, f"retention_end={e}") for r, e in expected}
    assert all(a.device == vault.device_id for a in audit)
    pending = vault.audit_log(action="push-pending")
    assert len(pending) == 1 and pending[0].record_id is None and pending[0].detail == "2 purged"


def test_audit_rows_and_tombstones_hold_no_personal_data(vault: Vault, mixed: dict[str, str]) -> None:
    vault.purge(TODAY)
    dump = repr(raw_rows(vault.path, "SELECT * FROM audit")) + repr(raw_rows(vault.path, "SELECT * FROM tombstones"))
    for personal in ("Jürgen", "Müller", "juergen", "1234567", "Söhne", "Prefers"):
        assert personal not in dump


def test_a_tampered_retention_date_is_refused_and_the_rest_still_purged(vault: Vault, mixed: dict[str, str]) -> None:
    raw_write(vault.path, "UPDATE contacts SET retention_end = '2020-01-01' WHERE id = ?", mixed["future"])
    report = vault.purge(TODAY)
    assert report.refused == (mixed["future"],)
    assert not report.ok
    assert {p.record_id for p in report.purged} == {mixed["expired"], mixed["ends_yesterday"]}
    assert raw_rows(vault.path, "SELECT id FROM contacts WHERE id = ?", mixed["future"]) != []
    assert raw_rows(vault.path, "SELECT id FROM tombstones WHERE id = ?", mixed["future"]) == []
    refused = vault.audit_log(action="purge-refused")
    assert [a.record_id for a in refused] == [mixed["future"]]


def test_a_tampered_hold_flag_is_refused(vault: Vault, mixed: dict[str, str]) -> None:
    raw_write(vault.path, "UPDATE contacts SET hold = 0 WHERE id = ?", mixed["expired_held"])
    report = vault.purge(TODAY)
    assert mixed["expired_held"] in report.refused
    assert raw_rows(vault.path, "SELECT id FROM contacts WHERE id = ?", mixed["expired_held"]) != []


def test_a_signature_copied_from_another_record_is_refused(vault: Vault, mixed: dict[str, str]) -> None:
    (sig,) = raw_rows(vault.path, "SELECT meta_sig FROM contacts WHERE id = ?", mixed["expired"])[0]
    raw_write(
        vault.path,
        "UPDATE contacts SET retention_end = '2025-07-01', meta_sig = ? WHERE id = ?",
        sig,
        mixed["future"],
    )
    assert mixed["future"] in vault.purge(TODAY).refused


def test_dry_run_lists_and_changes_nothing(vault: Vault, mixed: dict[str, str]) -> None:
    before = raw_rows(vault.path, "SELECT count(*) FROM contacts")
    audit_before = len(vault.audit_log())
    report = vault.purge(TODAY, dry_run=True)
    assert report.dry_run and {p.record_id for p in report.purged} == {mixed["expired"], mixed["ends_yesterday"]}
    assert raw_rows(vault.path, "SELECT count(*) FROM contacts") == before
    assert len(vault.audit_log()) == audit_before
    assert vault.get(mixed["expired"]).id == mixed["expired"]


def test_a_second_run_finds_nothing_more(vault: Vault, mixed: dict[str, str]) -> None:
    vault.purge(TODAY)
    again = vault.purge(TODAY)
    assert again.purged == () and again.scrubbed and not vault.audit_log(action="push-pending")[1:]


def test_purge_erases_old_ciphertext_and_plaintext_from_every_file(vault: Vault, clock: FixedClock) -> None:
    marker = "Zyxwvu-Erasure-Marker-4711"
    planted = vault.add(draft(name=marker, notes=f"{marker} notes", **EXPIRED))
    keeper = vault.add(draft(name="Keeper"))  # the file must still hold other records
    (sealed,) = raw_rows(vault.path, "SELECT sealed FROM contacts WHERE id = ?", planted.id)[0]
    assert isinstance(sealed, bytes) and len(sealed) > 72
    fragments = [sealed[i : i + 24] for i in (0, len(sealed) // 2, len(sealed) - 24)]
    # The test can fail: before the purge the ciphertext is in the files.
    assert any(found_in_files(vault.path, fragment) for fragment in fragments)

    with Vault(vault.path, clock=clock) as cron:  # a second connection, as the timer's process
        report = cron.purge(TODAY)
        assert [p.record_id for p in report.purged] == [planted.id] and report.scrubbed
        assert wal_is_empty(vault.path)
        files = [p.name for p in vault_files(vault.path)]
        assert "vault.sqlite" in files
        for needle in [*fragments, sealed, marker.encode(), marker.encode("utf-16-le")]:
            assert found_in_files(vault.path, needle) == [], files
    assert vault.get(keeper.id).name == "Keeper"
    for needle in [*fragments, marker.encode()]:
        assert found_in_files(vault.path, needle) == []


def test_the_edited_away_ciphertext_is_erased_too(vault: Vault) -> None:
    """An edit leaves the old sealed bytes in the WAL; the purge's scrub clears them."""
    contact = vault.add(draft(name="Before Edit"))
    (old,) = raw_rows(vault.path, "SELECT sealed FROM contacts WHERE id = ?", contact.id)[0]
    vault.update(contact.id, draft(name="After Edit"))
    assert found_in_files(vault.path, old[:32])
    vault.purge(TODAY)
    assert found_in_files(vault.path, old[:32]) == []


def test_another_instance_sees_purged_records_vanish_on_refresh(
    vault_path: Path, vault: Vault, mixed: dict[str, str], clock: FixedClock
) -> None:
    with Vault(vault_path, clock=clock) as other:
        other.purge(TODAY)
    assert vault.get(mixed["expired"]).id == mixed["expired"]  # stale until the TUI refreshes
    assert vault.refresh()
    with pytest.raises(ContactNotFound):
        vault.get(mixed["expired"])


def test_push_stays_pending_until_the_sync_code_records_a_push(
    vault: Vault, mixed: dict[str, str], clock: FixedClock
) -> None:
    assert not push_is_pending(vault._audit)
    assert vault.purge(TODAY).push_pending
    clock.set_date(date(2026, 6, 16))
    with vault._store.session() as s:
        vault._audit.add(s, "synced", None, "pull 3")  # a pull does not update the remote copy
    assert push_is_pending(vault._audit)
    with vault._store.session() as s:
        vault._audit.add(s, "synced", None, "push 4")
    assert not push_is_pending(vault._audit)


# --- previews and reviews -------------------------------------------------------------------


def test_preview_lists_records_due_within_30_days(vault: Vault) -> None:
    soon = vault.add(draft(name="Soon", rule="inquiry-6m", trigger=date(2026, 1, 10))).id  # ends 2026-07-10
    held = vault.add(draft(name="Held", rule="inquiry-6m", trigger=date(2026, 1, 12))).id
    vault.hold(held)
    vault.add(draft(name="Later", rule="inquiry-6m", trigger=date(2026, 2, 20)))  # ends 2026-08-20
    preview = vault.purge_preview(30, today=TODAY)
    assert [(p.record_id, p.purge_from, p.hold) for p in preview] == [
        (soon, date(2026, 7, 11), False),
        (held, date(2026, 7, 13), True),
    ]


def test_overdue_reviews_are_listed_and_never_deleted(vault: Vault) -> None:
    old = vault.add(
        draft(
            name="Old",
            basis=LegalBasis.CONSENT,
            rule="consent",
            trigger=date(2024, 1, 1),
            consent_given=date(2024, 1, 1),
            consent_method="form",
        )
    )
    vault.add(
        draft(
            name="New",
            basis=LegalBasis.CONSENT,
            rule="consent",
            trigger=date(2026, 1, 1),
            consent_given=date(2026, 1, 1),
            consent_method="form",
        )
    )
    reviews = vault.overdue_reviews(TODAY)
    assert [(r.record_id, r.review_at) for r in reviews] == [(old.id, date(2026, 1, 1))]
    assert vault.purge(TODAY).purged == ()
    assert vault.get(old.id).name == "Old"


def test_the_overdue_reviews_and_the_purge_preview_are_found_by_an_index(vault: Vault) -> None:
    """Issue 15: each `p` asks for both; a query that reads every record row (and its sealed
    payload) took ~40 ms at 100k contacts.  Every statement they run is looked up by an index."""
    from sqlalchemy import event

    vault.add(draft(name="Old", basis=LegalBasis.CONSENT, rule="consent", trigger=date(2024, 1, 1),
                    consent_given=date(2024, 1, 1), consent_method="form"))  # fmt: skip
    statements: list[tuple[str, object]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: object, *_args: object) -> None:
        if "FROM contacts" in statement:
            statements.append((statement, parameters))

    engine = vault._store.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert len(vault.overdue_reviews(TODAY)) == 1
        vault.purge_preview(30, today=TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) >= 2
    with sqlite3.connect(vault.path) as conn:
        for statement, parameters in statements:
            plan = " ".join(str(row) for row in conn.execute("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "USING INDEX ix_contacts_re" in plan, (statement, plan)  # review_at, retention_end
            assert "SCAN contacts" not in plan, (statement, plan)


# --- the lock file -----------------------------------------------------------------------------

HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
"""


def test_purge_is_busy_while_another_process_holds_the_lock_file(vault: Vault, mixed: dict[str, str]) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_path_for(vault.path))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(VaultBusy):
            vault.purge(TODAY, wait=0.2)
        assert vault.get(mixed["expired"])  # nothing happened
    finally:
        holder.communicate("\n", timeout=30)
    assert vault.purge(TODAY, wait=0.2).purged  # free again


def test_lock_file_refuses_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    lock = tmp_path / "vault.sqlite.lock"
    lock.symlink_to(victim)
    with pytest.raises(LockFileRefused), exclusive(lock, wait=0):
        pass
    assert victim.read_text() == "keep me"


def test_lock_file_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with exclusive(lock, wait=0), pytest.raises(VaultBusy), exclusive(lock, wait=0.1):
        pass
    with exclusive(lock, wait=0):
        pass


# --- the pinned verify key --------------------------------------------------------------------


def _rekey_and_forge(vault: Vault, record_id: str, end: date) -> None:
    """What someone with write access to the file could do: new key, re-signed date."""
    seed, verify_key = crypto.new_signing_key()
    (vault_id, meta_version) = raw_rows(
        vault.path,
        "SELECT vault_meta.vault_id, contacts.meta_version FROM vault_meta, contacts WHERE contacts.id = ?",
        record_id,
    )[0]
    signature = crypto.sign(seed, meta_message(vault_id, record_id, end, False, meta_version))
    raw_write(vault.path, "UPDATE vault_meta SET verify_key = ?", verify_key)
    raw_write(
        vault.path,
        "UPDATE contacts SET retention_end = ?, meta_sig = ? WHERE id = ?",
        end.isoformat(),
        signature,
        record_id,
    )


def test_a_pinned_verify_key_refuses_a_rekeyed_vault(
    vault_path: Path, vault: Vault, mixed: dict[str, str], clock: FixedClock
) -> None:
    pinned = vault.verify_key_fingerprint
    _rekey_and_forge(vault, mixed["future"], date(2020, 1, 1))
    with Vault(vault_path, clock=clock) as cron:
        with pytest.raises(VerifyKeyChanged):
            cron.purge(TODAY, expect_key=pinned)
        with pytest.raises(VerifyKeyChanged):
            cron.purge(TODAY, dry_run=True, expect_key=pinned)
        assert mixed["future"] in {row[0] for row in raw_rows(vault_path, "SELECT id FROM contacts")}
        # Without --expect-key, the key pinned in this device's state folder at create refuses it too.
        with pytest.raises(VaultTampered):
            cron.purge(TODAY, dry_run=True)
        with pytest.raises(VaultTampered):
            cron.purge(TODAY)
        assert mixed["future"] in {row[0] for row in raw_rows(vault_path, "SELECT id FROM contacts")}


def test_the_right_pinned_key_purges_normally(vault: Vault, mixed: dict[str, str]) -> None:
    report = vault.purge(TODAY, expect_key=vault.verify_key_fingerprint.upper())
    assert {p.record_id for p in report.purged} == {mixed["expired"], mixed["ends_yesterday"]}


def test_a_failure_inside_the_transaction_deletes_nothing(vault: Vault, mixed: dict[str, str]) -> None:
    """Delete, tombstones and audit rows commit together or not at all (real fault, no mock)."""
    raw_write(
        vault.path,
        "CREATE TRIGGER fail_tomb BEFORE INSERT ON tombstones BEGIN SELECT RAISE(ABORT, 'injected-fault'); END",
    )
    audit_before = len(vault.audit_log())
    with pytest.raises(Exception, match="injected-fault"):
        vault.purge(TODAY)
    assert mixed["expired"] in {row[0] for row in raw_rows(vault.path, "SELECT id FROM contacts")}
    assert len(vault.audit_log()) == audit_before
    raw_write(vault.path, "DROP TRIGGER fail_tomb")
    assert mixed["expired"] in {p.record_id for p in vault.purge(TODAY).purged}


def test_more_records_than_one_delete_batch_all_go(vault: Vault) -> None:
    expired = vault.add_many([draft(name=f"P{i}", emails=(), phones=(), **EXPIRED) for i in range(1203)])
    keep = vault.add(draft(name="Keep"))
    report = vault.purge(TODAY)
    assert {p.record_id for p in report.purged} == {c.id for c in expired}
    assert raw_rows(vault.path, "SELECT id FROM contacts") == [(keep.id,)]
    assert raw_rows(vault.path, "SELECT count(*) FROM tombstones WHERE reason = 'purged'") == [(1203,)]
    assert len(vault.audit_log(action="purged")) == 1203


def test_the_purge_pushes_when_sync_is_configured(
    vault_path: Path,
    vault: Vault,
    mixed: dict[str, str],
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "home" / ".local" / "state"))
    remote = tmp_path / "remote"
    remote.mkdir()
    vault.sync_setup(str(remote))
    with Vault(vault_path, clock=clock) as cron:  # locked: the push needs only the public key
        report = cron.purge(TODAY)
    assert report.purged and not report.push_pending and report.push_error == ""
    assert any(remote.iterdir())
    assert not push_is_pending(vault._audit)
    assert [a.detail for a in vault.audit_log(action="synced")] == ["push 1"]


def test_the_purge_says_what_the_server_may_still_keep(
    vault_path: Path, vault: Vault, mixed: dict[str, str], clock: FixedClock, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    remote.mkdir()
    vault.sync_setup(str(remote))
    vault.sync_push()  # the server now holds the records that will expire
    with Vault(vault_path, clock=clock) as cron:
        report = cron.purge(TODAY)
    assert report.purged and not report.push_pending
    assert any("trash" in note for note in report.push_notes)
