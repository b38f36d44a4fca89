"""`sealbook purge`: exit codes, JSON, the busy path, the run log.

Most tests call ``main()`` in-process (fast); the busy test runs the installed
command in a subprocess so a traceback or a raw "database is locked" on its
stderr would be seen exactly as a cron mail would show it.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.conftest import draft
from tui.cli import main
from vault import schedule
from vault.lockfile import lock_path_for
from vault.service import Vault

TODAY = "2026-06-15"
EXPIRED = {"rule": "inquiry-6m", "trigger": date(2025, 1, 1)}  # ends 2025-07-01

HOLD_WRITE = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO audit (at, action, record_id, device, detail) "
             "VALUES ('2026-01-01 00:00:00', 'test-writer', NULL, 'other', '')")
print("locked", flush=True)
if len(sys.argv) > 2:
    time.sleep(float(sys.argv[2]))
else:
    sys.stdin.readline()
conn.execute("COMMIT")
conn.close()
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME and XDG folders for in-process runs of main().  The data folder
    stays the one the vault was created with (tests/conftest.py): it holds this
    device's pins, and a purge on a device without them refuses to run."""
    home = tmp_path / "home"
    for name, sub in (
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CONFIG_HOME", ".config"),
    ):
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SEALBOOK_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.delenv("SEALBOOK_VAULT", raising=False)
    return home


@pytest.fixture
def planted(vault: Vault, home: Path) -> dict[str, str]:
    return {
        "expired": vault.add(draft(**EXPIRED)).id,
        "future": vault.add(draft(name="Future Person")).id,
    }


def purge(vault: Vault, *args: str) -> int:
    return main(["purge", "--vault", str(vault.path), "--today", TODAY, *args])


def ids_in_file(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM contacts")}
    finally:
        conn.close()


@pytest.fixture
def writer(vault: Vault) -> Iterator[subprocess.Popen[str]]:
    """Another process holding a write transaction on the vault until told to stop."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE, str(vault.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield proc
    proc.communicate("\n", timeout=30)


def test_purge_json_reports_what_went(
    vault: Vault, planted: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert purge(vault, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["purged"] == [{"record_id": planted["expired"], "retention_end": "2025-07-01"}]
    assert out["refused"] == [] and out["erased"] and out["push_pending"] and out["exit_code"] == 0
    assert ids_in_file(vault.path) == {planted["future"]}


def test_dry_run_lists_and_keeps_everything(
    vault: Vault, planted: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert purge(vault, "--dry-run") == 0
    out = capsys.readouterr().out
    assert planted["expired"] in out and "would be deleted" in out
    assert ids_in_file(vault.path) == set(planted.values())


def test_a_tampered_record_exits_4_and_the_rest_are_purged(
    vault: Vault, planted: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    conn = sqlite3.connect(vault.path)
    conn.execute("UPDATE contacts SET retention_end = '2024-12-31' WHERE id = ?", (planted["future"],))
    conn.commit()
    conn.close()
    assert purge(vault) == 4
    captured = capsys.readouterr()
    assert "ALERT" in captured.err and planted["future"] in captured.err
    assert ids_in_file(vault.path) == {planted["future"]}


def test_a_future_today_is_refused(vault: Vault, planted: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    future = (date.today() + timedelta(days=1)).isoformat()
    assert main(["purge", "--vault", str(vault.path), "--today", future]) == 1
    assert "future" in capsys.readouterr().err
    assert ids_in_file(vault.path) == set(planted.values())


def test_a_missing_vault_exits_5(tmp_path: Path, home: Path) -> None:
    assert main(["purge", "--vault", str(tmp_path / "none.sqlite")]) == 5


def test_purge_while_another_process_holds_a_write_transaction_exits_busy(
    vault: Vault, planted: dict[str, str], run: Run, cli_env: dict[str, str], writer: subprocess.Popen[str]
) -> None:
    result = run("purge", "--vault", str(vault.path), "--today", TODAY, "--log", stdin=None)
    assert result.returncode == 6, result.stderr
    assert "try again later" in result.stderr
    assert "Traceback" not in result.stderr and "database is locked" not in result.stderr
    assert planted["expired"] in ids_in_file(vault.path)
    log = Path(cli_env["XDG_STATE_HOME"], "sealbook", "log", f"purge-{date.today().isoformat()}.log")
    assert "exit=6" in log.read_text()


def test_purge_waits_out_a_short_write_transaction(
    vault: Vault, planted: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE, str(vault.path), "0.3"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    try:
        assert purge(vault) == 0
    finally:
        proc.wait(timeout=30)
    assert ids_in_file(vault.path) == {planted["future"]}


def test_purge_exits_busy_while_the_lock_file_is_held(
    vault: Vault, planted: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,os,sys; fd=os.open(sys.argv[1], os.O_RDWR|os.O_CREAT, 0o600); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.readline()",
            str(lock_path_for(vault.path)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert purge(vault, "--wait", "0.2") == 6
    finally:
        holder.communicate("\n", timeout=30)
    assert "try again later" in capsys.readouterr().err
    assert planted["expired"] in ids_in_file(vault.path)


def test_the_run_log_holds_counts_and_ids_but_no_personal_data(
    vault: Vault, planted: dict[str, str], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = schedule.log_file(date.today()).parent
    logs.mkdir(parents=True)
    old = logs / f"purge-{(date.today() - timedelta(days=7)).isoformat()}.log"
    recent = logs / f"purge-{(date.today() - timedelta(days=6)).isoformat()}.log"
    unrelated = logs / "notes.txt"
    for path in (old, recent, unrelated):
        path.write_text("x\n")
    assert purge(vault, "--log") == 0
    log = schedule.log_file(date.today())
    text = log.read_text()
    assert f"today={TODAY} purged=1 refused=0 erased=yes" in text and "exit=0" in text
    assert log.stat().st_mode & 0o777 == 0o600
    for personal in ("Jürgen", "Müller", "juergen", "1234567", "Future Person"):
        assert personal not in text
    assert not old.exists() and recent.exists() and unrelated.exists()  # kept seven days


def test_a_wrong_pinned_key_exits_4_and_deletes_nothing(
    vault: Vault, planted: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert purge(vault, "--expect-key", "0" * 32) == 4
    assert "schedule install" in capsys.readouterr().err
    assert ids_in_file(vault.path) == set(planted.values())
    assert purge(vault, "--expect-key", vault.verify_key_fingerprint) == 0
