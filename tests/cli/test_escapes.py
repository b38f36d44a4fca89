"""Terminal escapes from the vault file never reach the terminal or a log (issue 10, case 11).

Someone who can write the vault file (a synced folder, a backup) plants record
ids and audit fields made of escape sequences: ESC[2K erases the line, OSC 0
sets the window title, 0x9b is an 8-bit CSI.  Every command prints such text
as visible escapes instead; ``--json`` keeps the data but escapes it too.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli.conftest import Run
from tui.cli import common, sync
from tui.cli.common import _json_for_terminal
from vault.errors import VaultDamaged
from vault.safetext import is_hidden, printable

ESCAPE_ID = "\x1b[2K\x1b]0;pwned\x07-evil-record"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")  # ESC, BEL, 8-bit CSI, right-to-left override


def assert_no_raw_control(*texts: str) -> None:
    for text in texts:
        for char in RAW:
            assert char not in text, f"raw {char!r} reaches the terminal: {text!r}"


def connect(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path))


def plant_audit_row(path: Path) -> None:
    with connect(path) as conn:
        conn.execute(
            "INSERT INTO audit (at, action, record_id, device, detail) VALUES (?, ?, ?, ?, ?)",
            ("2026-06-15 12:00:00.000000", "erased", ESCAPE_ID, "dev\x1b[2K\x9b", "\x1b]0;pwned\x07 \u202elive"),
        )
        conn.commit()


def plant_contact_row(path: Path) -> None:
    """A contacts row with an escape id: expired, unheld, with a signature and a seal that fail."""
    with connect(path) as conn:
        conn.execute(
            "INSERT INTO contacts (id, retention_end, review_at, hold, meta_version, meta_sig, sealed) "
            "VALUES (?, '2024-01-01', NULL, 0, 1, ?, ?)",
            (ESCAPE_ID, os.urandom(64), os.urandom(120)),
        )
        conn.commit()


def add_contact(run: Run, vault: Path) -> str:
    result = run(
        "add", "--vault", str(vault), "--passphrase-file", "-", "--name", "Some Person",
        "--basis", "contract", "--rule", "invoices-8y", "--trigger", "2025-03-10", check=True,
    )  # fmt: skip
    return result.stdout.strip()


def test_log_prints_escape_sequences_in_audit_rows_as_visible_text(cli_vault: Path, run: Run) -> None:
    plant_audit_row(cli_vault)
    result = run("log", "--vault", str(cli_vault), stdin=None)
    assert result.returncode == 4, result.stderr  # the planted row is not sealed (issue 12.7): reported
    assert "not sealed: row" in result.stderr
    assert_no_raw_control(result.stdout, result.stderr)
    planted = next(line for line in result.stdout.splitlines() if "evil-record" in line)
    assert "erased" in planted
    assert "\\x1b[2K\\x1b]0;pwned\\x07-evil-record" in planted  # shown, not obeyed
    assert "dev\\x1b[2K\\x9b" in planted
    assert "\\x1b]0;pwned\\x07 \\u202elive" in planted


def test_log_json_escapes_control_characters_and_keeps_the_data(cli_vault: Path, run: Run) -> None:
    plant_audit_row(cli_vault)
    result = run("log", "--json", "--vault", str(cli_vault), stdin=None)
    assert result.returncode == 4, result.stderr  # the planted row is not sealed (issue 12.7): reported
    assert "not sealed: row" in result.stderr
    assert_no_raw_control(result.stdout, result.stderr)
    planted = [entry for entry in json.loads(result.stdout) if entry["record_id"] == ESCAPE_ID]
    assert [entry["device"] for entry in planted] == ["dev\x1b[2K\x9b"]
    assert [entry["detail"] for entry in planted] == ["\x1b]0;pwned\x07 \u202elive"]


def test_find_names_a_damaged_record_with_an_escape_id_as_visible_text(cli_vault: Path, run: Run) -> None:
    add_contact(run, cli_vault)
    with connect(cli_vault) as conn:
        conn.execute("UPDATE contacts SET id = ?", (ESCAPE_ID,))
        conn.commit()
    result = run("find", "Person", "--vault", str(cli_vault), "--passphrase-file", "-")
    assert result.returncode in (0, 4), result.stderr  # listed as damaged, or refused as tampered
    assert "evil-record" in result.stderr  # the id is named...
    assert_no_raw_control(result.stdout, result.stderr)  # ...as text


def test_purge_alert_and_log_print_escape_ids_as_visible_text(cli_vault: Path, run: Run, tmp_path: Path) -> None:
    add_contact(run, cli_vault)
    plant_contact_row(cli_vault)
    result = run("purge", "--log", "--vault", str(cli_vault), stdin=None)
    assert result.returncode == 4, result.stderr  # the forged row is refused, not deleted
    assert "evil-record" in result.stdout + result.stderr
    [log] = (tmp_path / "home").rglob("purge-*.log")
    text = log.read_text(encoding="utf-8")
    assert "evil-record" in text
    assert_no_raw_control(result.stdout, result.stderr, text)


def test_sync_report_prints_rejected_and_conflicting_ids_as_visible_text(capsys: pytest.CaptureFixture[str]) -> None:
    # What a pull reports after a forged blob: the ids come from the server.
    report = SimpleNamespace(
        action="pulled", counter=7, blob_bytes=2048, target="/srv/sealbook", added=0, updated=1, deleted=0,
        conflicts=[ESCAPE_ID], rejected=[ESCAPE_ID, "\x9b31m"],
    )  # fmt: skip
    sync._print_report(report, as_json=False)
    out, err = capsys.readouterr()
    assert "Rejected 2 remote items" in err
    assert "evil-record" in err
    assert_no_raw_control(out, err)


def test_an_error_naming_a_record_id_is_printed_as_visible_text(capsys: pytest.CaptureFixture[str]) -> None:
    def show_damaged(args: argparse.Namespace) -> int:
        raise VaultDamaged(f"record {ESCAPE_ID}")

    code = common.run_guarded(show_damaged, argparse.Namespace())
    err = capsys.readouterr().err
    assert code == common.EXIT_DAMAGED
    assert "evil-record" in err
    assert_no_raw_control(err)


# --- the rule itself (vault/safetext.py) ---------------------------------------------------


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\u200b", "\u202e", "\u2028", "\u2029", "\ufeff", "\U000e0001"],
)
def test_printable_replaces_every_control_and_format_character_with_an_escape(char: str) -> None:
    shown = printable(f"a{char}b")
    assert char not in shown
    assert shown.isprintable()
    assert shown.startswith("a\\") and shown.endswith("b")


def test_printable_keeps_letters_spaces_and_accents() -> None:
    assert printable("Jürgen Müller, Chloé Weiß 张伟") == "Jürgen Müller, Chloé Weiß 张伟"


def test_printable_cuts_long_text_after_escaping() -> None:
    shown = printable("\x1b" * 100, limit=20)
    assert len(shown) == 20
    assert shown.endswith("…")
    assert printable("x" * 300, limit=None) == "x" * 300


def test_printable_is_idempotent() -> None:
    once = printable(ESCAPE_ID)
    assert printable(once) == once


def _reference_json_for_terminal(text: str) -> str:
    """tui.cli.common._json_for_terminal as first written: every character looked at."""
    out: list[str] = []
    for char in text:
        if char not in "\n " and is_hidden(char):
            units = char.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2))
        else:
            out.append(char)
    return "".join(out)


HIDDEN_AND_NOT = "\x7f\x9b\u202e\u200b\u2028\u2029\u00a0\u3000\ue000\U000e0001\ufffe é\n\tß€"


@given(st.lists(st.one_of(st.text(max_size=8), st.sampled_from(HIDDEN_AND_NOT)), max_size=12))
@settings(max_examples=300, deadline=None)
def test_json_for_terminal_escapes_exactly_the_hidden_characters(parts: list[str]) -> None:
    """Lines str.isprintable accepts are passed whole; the result is the same as looking at
    every character, and the JSON still decodes to the same data."""
    value = {"k": "".join(parts), "l": parts}
    text = json.dumps(value, ensure_ascii=False, indent=2)
    shown = _json_for_terminal(text)
    assert shown == _reference_json_for_terminal(text)
    assert json.loads(shown) == value
    assert all(ch in "\n " or not is_hidden(ch) for ch in shown)
