"""Issue 11, points 14 and 15 at the command line: `request extend --informed` and a
purge that drops audit rows past `log_retention_years` (counts in `--json`)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from tui.cli import common, main
from vault.requests import deadline_for, extended_deadline
from vault.service import Vault


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse refuses a missing required option this way
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(common, "harden", lambda: None)  # keep the test process dumpable
    monkeypatch.setenv("SEALBOOK_CONFIG", str(tmp_path / "no-config.toml"))
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    path = tmp_path / "cli.sqlite"
    Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True).close()
    return ["--vault", str(path), "--passphrase-file", str(tmp_path / "pass")]


def test_request_extend_needs_the_day_the_person_was_told_and_shows_it(
    options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    received = date.today() - timedelta(days=10)
    code, out, _ = run(capsys, "request", "open", "access", "--received", received.isoformat(), "--json", *options)
    opened = json.loads(out)
    code, _, err = run(capsys, "request", "extend", opened["id"], "--reason", "archive", *options)
    assert code == 2 and "--informed" in err
    told = (received + timedelta(days=1)).isoformat()
    code, out, _ = run(capsys, "request", "extend", opened["id"], "--reason", "archive", "--informed", told, *options)
    assert code == 0 and f"told on {told}" in out
    code, out, _ = run(capsys, "request", "list", "--json", *options)
    (listed,) = json.loads(out)
    assert listed["informed"] == told
    assert listed["deadline"] == extended_deadline(deadline_for(received)).isoformat()
    code, out, _ = run(capsys, "request", "list", *options)
    assert f"person told {told}" in out


def test_request_extend_told_after_the_first_month_is_refused(
    options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    received = date.today() - timedelta(days=50)
    code, out, _ = run(capsys, "request", "open", "access", "--received", received.isoformat(), "--json", *options)
    late = (deadline_for(received) + timedelta(days=1)).isoformat()
    code, _, err = run(
        capsys, "request", "extend", json.loads(out)["id"], "--reason", "archive", "--informed", late, *options
    )
    assert code == 1 and "within one month" in err


def test_purge_drops_audit_rows_past_the_keeping_period_and_counts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEALBOOK_CONFIG", str(tmp_path / "no-config.toml"))
    clock = FixedClock(datetime(2020, 1, 1))
    clock.set_date(date(2020, 3, 10))
    path = tmp_path / "old.sqlite"
    with Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock) as vault:
        vault.add(draft(trigger=date(2020, 3, 1)))
        written = len(vault.audit_log())
    code, out, _ = run(capsys, "purge", "--vault", str(path), "--today", "2023-12-31", "--json")
    assert code == 0 and json.loads(out)["log_rows_dropped"] == 0  # 2020 rows are kept through 2023
    code, out, _ = run(capsys, "purge", "--vault", str(path), "--today", "2024-01-01", "--json")
    report = json.loads(out)
    assert code == 0
    assert (report["log_rows_dropped"], report["requests_dropped"], report["tombstones_due"]) == (written, 0, 0)
    code, out, _ = run(capsys, "purge", "--vault", str(path), "--today", "2024-01-01")
    assert "audit log row" not in out  # nothing left to drop: no line about it
