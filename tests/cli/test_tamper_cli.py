"""Issue 10 through the `sealbook` command: what the owner and a cron mail see.

Cases 1-4 (exit codes and messages) and case 11 (terminal escapes from the vault
file reach the terminal and the purge log; the sync part of case 11 is in
tests/sync/test_sync_attacks.py).  The attacker edits the vault file with the
sqlite3 module, without the passphrase.

After the fix: tampering exits 4 with a message that says "tamper" (never 3,
"the passphrase is wrong"), deletes nothing, and never ends in a traceback; no
raw control character from the file reaches stdout, stderr or the log.

``main()`` runs in-process (as in test_purge_cli.py) with private XDG folders
set before the vault is created, so the key the fix pins at create lands there.
Every test is ``xfail(strict=True)`` until the fix for its case lands.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from tests.conftest import PASSPHRASE, draft
from tui.cli import main
from vault import crypto, schedule
from vault.records import meta_message
from vault.service import Vault

TODAY = "2026-06-15"
EXPIRED = {"rule": "inquiry-6m", "trigger": date(2025, 1, 1)}  # retention ended 2025-07-01
EXIT_DAMAGED = 4

# An id an attacker writes into the file: erase the line, set the terminal title.
ESCAPE_ID = "\x1b[2K\x1b]0;pwned\x07-evil-record"
CONTROL = ("\x1b", "\x07", "\x9b")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private HOME and XDG folders, set before the ``vault`` fixture creates the vault."""
    home = tmp_path / "home"
    for name, sub in (
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SEALBOOK_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("SEALBOOK_NO_KEYRING", "1")
    monkeypatch.delenv("SEALBOOK_VAULT", raising=False)
    return home


@pytest.fixture
def pass_file(tmp_path: Path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_text(PASSPHRASE + "\n")
    path.chmod(0o600)
    return path


def connect(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path))


def ids_in_file(path: Path) -> set[str]:
    with connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM contacts")}


def purge(path: Path, *args: str) -> int:
    return main(["purge", "--vault", str(path), "--today", TODAY, *args])


def find(path: Path, pass_file: Path, query: str = "Person") -> int:
    return main(["find", query, "--vault", str(path), "--passphrase-file", str(pass_file)])


def assert_tampered(code: int, err: str) -> None:
    assert code == EXIT_DAMAGED, f"exit {code}, expected 4 (tampered); stderr: {err!r}"
    assert "tamper" in err.lower(), err
    assert "passphrase is wrong" not in err


def assert_no_control_characters(*texts: str) -> None:
    for text in texts:
        for char in CONTROL:
            assert char not in text, f"raw {char!r} reaches the terminal or log: {text!r}"


# --- case 1: replay of an old signed row -------------------------------------------------------


@pytest.fixture
def replayed(vault: Vault, vault_path: Path, tmp_path: Path) -> dict[str, str]:
    """R: version 1 (expired, no hold) copied from an old copy of the file over version 2 (hold)."""
    held = vault.add(draft(name="Held Person", **EXPIRED))
    vault.add(draft(name="Other Person"))
    fingerprint = vault.verify_key_fingerprint
    old_copy = tmp_path / "old-copy.sqlite"
    with connect(vault_path) as src, connect(old_copy) as dst:
        src.backup(dst)
    vault.hold(held.id)
    vault.close()
    with connect(old_copy) as old, connect(vault_path) as live:
        cursor = old.execute("SELECT * FROM contacts WHERE id = ?", (held.id,))
        columns = [d[0] for d in cursor.description]
        live.execute(
            f"INSERT OR REPLACE INTO contacts ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            cursor.fetchone(),
        )
        live.commit()
    return {"held": held.id, "fingerprint": fingerprint}


@pytest.mark.parametrize("pinned", [False, True], ids=["plain", "expect-key"])
def test_replayed_old_row_purge_exits_4_tampered_and_keeps_the_row(
    replayed: dict[str, str], vault_path: Path, capsys: pytest.CaptureFixture[str], pinned: bool
) -> None:
    code = purge(vault_path, *(["--expect-key", replayed["fingerprint"]] if pinned else []))
    assert replayed["held"] in ids_in_file(vault_path), "the held record was purged"
    assert_tampered(code, capsys.readouterr().err)


def test_replayed_old_row_show_exits_4_tampered(
    replayed: dict[str, str], vault_path: Path, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["show", replayed["held"], "--vault", str(vault_path), "--passphrase-file", str(pass_file)])
    out, err = capsys.readouterr()
    assert "Legal hold" not in out
    assert_tampered(code, err)


# --- case 2: a manual purge trusts the verify key in the file -----------------------------------


@pytest.fixture
def rekeyed(vault: Vault, vault_path: Path) -> set[str]:
    """verify_key replaced, every row re-signed as expired and unheld with the new key,
    the (unkeyed) header checksum recomputed."""
    ids = {
        vault.add(draft(name="Future Person")).id,
        vault.hold(vault.add(draft(name="Held Person", **EXPIRED)).id).id,
    }
    vault.close()
    key = SigningKey.generate()
    expired = date(2020, 1, 1)
    with connect(vault_path) as conn:
        (vault_id,) = conn.execute("SELECT vault_id FROM vault_meta WHERE id = 1").fetchone()
        conn.execute("UPDATE vault_meta SET verify_key = ? WHERE id = 1", (bytes(key.verify_key),))
        for record_id, version in conn.execute("SELECT id, meta_version FROM contacts").fetchall():
            conn.execute(
                "UPDATE contacts SET retention_end = ?, hold = 0, meta_sig = ? WHERE id = ?",
                (expired.isoformat(), key.sign(meta_message(vault_id, record_id, expired, False, version)).signature,
                 record_id),
            )  # fmt: skip
        header = conn.execute(
            "SELECT format_version, vault_id, kdf_t, kdf_m_kib, kdf_p, kdf_salt, wrapped_root_key, "
            "sync_public_key, wrapped_sync_secret_key, verify_key, wrapped_signing_key FROM vault_meta WHERE id = 1"
        ).fetchone()
        conn.execute("UPDATE vault_meta SET header_checksum = ? WHERE id = 1", (crypto.checksum(crypto.pae(*header)),))
        conn.commit()
    return ids


def test_swapped_verify_key_plain_purge_exits_4_tampered_and_deletes_nothing(
    rekeyed: set[str], vault_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = purge(vault_path)  # no --expect-key: the key pinned at create counts
    assert ids_in_file(vault_path) == rekeyed
    assert_tampered(code, capsys.readouterr().err)


def test_swapped_verify_key_find_exits_4_tampered_not_3_wrong_passphrase(
    rekeyed: set[str], vault_path: Path, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = find(vault_path, pass_file)
    assert_tampered(code, capsys.readouterr().err)


# --- case 3: objects planted in the file ----------------------------------------------------------

PLANTED = {
    "trigger": "CREATE TRIGGER t AFTER DELETE ON contacts BEGIN DELETE FROM contacts; END;",
    "view": "CREATE VIEW v AS SELECT id, retention_end, hold FROM contacts",
    "index": "CREATE INDEX ix_planted ON contacts (hold, meta_version)",
}


@pytest.fixture
def planted_ids(vault: Vault) -> set[str]:
    ids = {vault.add(draft(name="Expired Person", **EXPIRED)).id, vault.add(draft(name="Future Person")).id}
    vault.close()
    return ids


def plant(path: Path, kind: str) -> None:
    with connect(path) as conn:
        conn.execute(PLANTED[kind])
        conn.commit()


@pytest.mark.parametrize("kind", list(PLANTED))
def test_planted_schema_object_purge_exits_4_tampered_and_every_contact_stays(
    planted_ids: set[str], vault_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    plant(vault_path, kind)
    code = purge(vault_path)
    assert ids_in_file(vault_path) == planted_ids
    assert_tampered(code, capsys.readouterr().err)


@pytest.mark.parametrize("kind", list(PLANTED))
def test_planted_schema_object_find_exits_4_tampered(
    planted_ids: set[str], vault_path: Path, pass_file: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    plant(vault_path, kind)
    code = find(vault_path, pass_file)
    assert_tampered(code, capsys.readouterr().err)


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


def test_malformed_date_find_lists_the_damaged_id_and_shows_the_others(
    malformed: dict[str, str], vault_path: Path, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = find(vault_path, pass_file)  # an exception escaping main() is the traceback a user sees
    out, err = capsys.readouterr()
    assert code in (0, EXIT_DAMAGED)
    assert "Healthy Person" in out and "Expired Person" in out
    assert malformed["bad"] in err
    assert "Traceback" not in out + err


def test_malformed_date_purge_does_not_traceback_and_purges_the_other_due_records(
    malformed: dict[str, str], vault_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = purge(vault_path)
    out, err = capsys.readouterr()
    assert code in (0, EXIT_DAMAGED), err
    assert ids_in_file(vault_path) == {malformed["healthy"], malformed["bad"]}
    assert malformed["expired"] in out
    assert "Traceback" not in out + err


# --- case 11: terminal escapes from the file --------------------------------------------------------


def plant_escape_row(path: Path) -> None:
    """A contacts row whose id carries terminal escapes: expired, unheld, with a bad signature."""
    with connect(path) as conn:
        conn.execute(
            "INSERT INTO contacts (id, retention_end, review_at, hold, meta_version, meta_sig, sealed) "
            "VALUES (?, '2024-01-01', NULL, 0, 1, ?, ?)",
            (ESCAPE_ID, os.urandom(64), os.urandom(120)),
        )
        conn.commit()


def test_log_does_not_print_escape_sequences_from_audit_rows(
    vault: Vault, vault_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault.add(draft(name="Some Person"))
    vault.close()
    with connect(vault_path) as conn:
        conn.execute(
            "INSERT INTO audit (at, action, record_id, device, detail) VALUES (?, ?, ?, ?, ?)",
            ("2026-06-15 12:00:00.000000", "erased", ESCAPE_ID, "dev\x1b[2K", "\x1b]0;title\x07"),
        )
        conn.commit()
    code = main(["log", "--vault", str(vault_path)])
    out, err = capsys.readouterr()
    assert code == 4 and "not sealed: row" in err  # a planted row is reported (issue 12.7)
    assert "erased" in out  # the entry is shown, rendered safely
    assert_no_control_characters(out, err)


def test_purge_alert_and_log_do_not_print_escape_sequences_from_record_ids(
    vault: Vault, vault_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault.add(draft(name="Some Person"))
    vault.close()
    plant_escape_row(vault_path)
    code = purge(vault_path, "--log")
    out, err = capsys.readouterr()
    assert code == EXIT_DAMAGED
    log = schedule.log_file(date.today()).read_text(encoding="utf-8")
    assert "exit=4" in log
    assert_no_control_characters(out, err, log)


def test_find_damaged_list_does_not_print_escape_sequences_from_record_ids(
    vault: Vault, vault_path: Path, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault.add(draft(name="Some Person"))
    vault.close()
    plant_escape_row(vault_path)
    code = find(vault_path, pass_file)
    out, err = capsys.readouterr()
    assert code in (0, EXIT_DAMAGED)
    assert "damaged" in err.lower() or "tamper" in err.lower()
    assert_no_control_characters(out, err)


# --- case 13 at the command line ---------------------------------------------------------------------


def test_passwd_rotate_gives_a_new_root_key(
    vault: Vault, vault_path: Path, tmp_path: Path, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = vault.add(draft(name="Before Rotation")).id
    vault.close()
    old_copy = tmp_path / "old-copy.sqlite"  # a backup taken before the change
    with connect(vault_path) as src, connect(old_copy) as dst:
        src.backup(dst)
    new_file = tmp_path / "new-pass.txt"
    new_file.write_text("another horse battery staple\n")
    try:
        code = main(
            ["passwd", "--rotate", "--vault", str(vault_path), "--passphrase-file", str(pass_file),
             "--new-passphrase-file", str(new_file)]
        )  # fmt: skip
    except SystemExit as exit_:  # argparse: unknown option
        code = exit_.code  # type: ignore[assignment]
    assert code == 0, capsys.readouterr().err
    with Vault(vault_path) as rotated:
        rotated.unlock("another horse battery staple")
        assert rotated.get(before).name == "Before Rotation"
    # The old backup and the old passphrase give the old root key; it is not the new one.
    same_key = root_key(PASSPHRASE, old_copy) == root_key("another horse battery staple", vault_path)
    assert not same_key, "passwd --rotate kept the root key"


def root_key(passphrase: str, path: Path) -> bytes:
    """The root key behind a vault file's key header (DESIGN.md, Keys): the KEK from the
    passphrase opens the wrapped root key, whose additional data binds the header."""
    with connect(path) as conn:
        cursor = conn.execute("SELECT * FROM vault_meta WHERE id = 1")
        h = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    kek = crypto.derive_kek(passphrase, h["kdf_salt"], crypto.KdfParams(h["kdf_t"], h["kdf_m_kib"], h["kdf_p"]))
    bound = ("format_version", "vault_id", "kdf_t", "kdf_m_kib", "kdf_p", "kdf_salt", "sync_public_key", "verify_key")
    ad = crypto.pae(b"sealbook-rk-v1", *(h[k] for k in bound))
    return bytes(crypto.open_sealed(kek, h["wrapped_root_key"], ad))
