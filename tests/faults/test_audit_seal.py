"""The accountability log's seals (issue 12.7, vault/audit.py): a changed, deleted or planted
row is reported by `sealbook log` (exit 4, one line naming the rows), never shown as authentic;
what sealbook itself does (the passphrase-less purge, the log retention, a key rotation, the
first unlock of a vault from before the seals) is not."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.conftest import WEAK_KDF, FixedClock, draft
from tests.faults.conftest import PASSPHRASE, Outcome, Sealbook, problems
from vault.audit import AuditKeyFile
from vault.service import Vault

NEW_PASSPHRASE = PASSPHRASE + " new"
EXIT_DAMAGED = 4  # README, "Exit codes": damaged or tampered with


def make(path: Path, clock: FixedClock | None = None) -> tuple[str, ...]:
    """A vault with three contacts (one expired) and their `created` rows; their ids."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"clock": clock} if clock else {}
    with Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, **kwargs) as v:  # type: ignore[arg-type]
        ids = tuple(v.add(draft(name=f"Logged Person{j}", emails=(f"log{j}@example.org",))).id for j in range(2))
        expired = v.add(draft(name="Expired Person", emails=("exp@example.org",), rule="inquiry-6m",
                              trigger=date(2025, 1, 1)))  # fmt: skip
    return (*ids, expired.id)


def edit(path: Path, sql: str, *params: object) -> None:
    """Change the file behind sealbook's back."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(sql, params)
        conn.commit()


def seq_of(path: Path, record_id: str) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT seq FROM audit WHERE record_id = ?", (record_id,)).fetchone()[0])


def log(sb: Sealbook, path: Path) -> Outcome:
    outcome = sb.run("log", "--vault", str(path), "--json", stdin=None)
    assert not problems(outcome, frozenset({0, EXIT_DAMAGED})), outcome.describe()
    return outcome


def test_an_untouched_log_checks_out(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    make(vault)
    outcome = log(sealbook, vault)
    assert outcome.code == 0 and not outcome.err, outcome.describe()


def test_a_changed_row_is_reported_by_its_number(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    first, *_ = make(vault)
    edit(vault, "UPDATE audit SET detail = 'nothing to see' WHERE record_id = ?", first)
    outcome = log(sealbook, vault)
    assert outcome.code == EXIT_DAMAGED and f"changed: row {seq_of(vault, first)})" in outcome.err, outcome.describe()


def test_a_deleted_row_is_reported_by_its_number(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    first, *_ = make(vault)
    gone = seq_of(vault, first)
    edit(vault, "DELETE FROM audit WHERE seq = ?", gone)
    outcome = log(sealbook, vault)
    assert outcome.code == EXIT_DAMAGED and f"deleted: row {gone})" in outcome.err, outcome.describe()


def test_a_planted_row_is_reported_as_not_sealed(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    make(vault)
    edit(vault, "INSERT INTO audit (at, action, record_id, device, detail) VALUES (?, 'purged', 'x', 'd', '')",
         "2026-01-01 00:00:00.000000")  # fmt: skip
    outcome = log(sealbook, vault)
    assert outcome.code == EXIT_DAMAGED and "not sealed: row" in outcome.err, outcome.describe()


def test_a_seal_copied_onto_another_row_does_not_hold(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    first, second, _ = make(vault)
    edit(vault, "UPDATE audit SET mac = (SELECT mac FROM audit WHERE record_id = ?) WHERE record_id = ?", first, second)
    outcome = log(sealbook, vault)
    assert outcome.code == EXIT_DAMAGED and f"changed: row {seq_of(vault, second)})" in outcome.err, outcome.describe()


def test_the_passphrase_less_purge_seals_its_rows(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    *_, expired = make(vault)
    purged = sealbook.run("purge", "--vault", str(vault), stdin=None)
    assert purged.code == 0, purged.describe()
    with closing(sqlite3.connect(vault)) as conn:
        rows = conn.execute("SELECT action, mac IS NOT NULL FROM audit WHERE record_id = ?", (expired,)).fetchall()
    assert ("purged", 1) in rows
    outcome = log(sealbook, vault)
    assert outcome.code == 0 and not outcome.err, outcome.describe()


def test_rows_the_log_retention_dropped_are_not_deleted_rows(sealbook: Sealbook, tmp_path: Path) -> None:
    """Rows of 2026 are past keeping in 2030 (3 years after the end of the year): the purge drops
    them, and the rows after them name rows that are gone, legitimately."""
    clock = FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))
    vault = tmp_path / "vault.sqlite"
    make(vault, clock)
    clock.set_date(date(2030, 2, 1))
    with Vault(vault, clock=clock) as v:
        v.unlock(PASSPHRASE)
        v.add(draft(name="Later Person", emails=("later@example.org",)))
        report = v.purge()
        assert report.log_rows_dropped > 0
        assert v.audit_check().ok, v.audit_check()
        edit(vault, "DELETE FROM audit WHERE action = 'created' AND seq = (SELECT max(seq) FROM audit "
                    "WHERE action = 'created')")  # fmt: skip
        found = v.audit_check()
    assert not found.ok and found.deleted, found  # a row of this year is no retention's doing


def test_stripped_seals_are_reported_not_sealed_again(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    make(vault)
    edit(vault, "UPDATE audit SET mac = NULL")
    with Vault(vault) as v:
        v.unlock(PASSPHRASE)  # this device kept the key before: it vouches for nothing new
    outcome = log(sealbook, vault)
    assert outcome.code == EXIT_DAMAGED and "not sealed: rows" in outcome.err, outcome.describe()


def test_a_vault_from_before_the_seals_is_sealed_at_its_first_unlock(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    make(vault)
    edit(vault, "UPDATE audit SET mac = NULL")  # as the 0007 migration leaves the rows of an older vault
    with Vault(vault) as v:
        key_file = AuditKeyFile(v.vault_id, v.device_id).path
    key_file.unlink()  # and a device that never kept a key for it
    note = log(sealbook, vault)
    assert note.code == 0 and "cannot be checked on this device" in note.err, note.describe()
    with Vault(vault) as v:
        v.unlock(PASSPHRASE)
    outcome = log(sealbook, vault)
    assert outcome.code == 0 and not outcome.err, outcome.describe()


def test_a_key_rotation_keeps_the_seals_and_hides_no_change(sealbook: Sealbook, tmp_path: Path) -> None:
    vault = tmp_path / "vault.sqlite"
    first, *_ = make(vault)
    changed = seq_of(vault, first)
    edit(vault, "UPDATE audit SET detail = 'x' WHERE seq = ?", changed)
    rotated = sealbook.run("passwd", "--vault", str(vault), "--passphrase-file", "-", "--new-passphrase-file", "-",
                           "--rotate", stdin=f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n")  # fmt: skip
    assert rotated.code == 0, rotated.describe()
    outcome = log(sealbook, vault)
    assert outcome.code == EXIT_DAMAGED, outcome.describe()
    assert outcome.err.strip().endswith(f"(changed: row {changed})"), outcome.describe()


@pytest.mark.parametrize("column", ["at", "action", "record_id", "device", "detail"])
def test_every_column_is_sealed(sealbook: Sealbook, tmp_path: Path, column: str) -> None:
    vault = tmp_path / "vault.sqlite"
    first, *_ = make(vault)
    value = "2026-01-01 00:00:00.000000" if column == "at" else "zz"
    edit(vault, f"UPDATE audit SET {column} = ? WHERE record_id = ?", value, first)
    outcome = log(sealbook, vault)
    assert outcome.code == EXIT_DAMAGED and "changed: row" in outcome.err, outcome.describe()
