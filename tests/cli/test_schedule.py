"""`sealbook schedule install | status | remove` against a temporary HOME."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF
from tui.cli import main
from vault import schedule
from vault.service import Vault

INSTALLED = Path(sys.executable).parent / "sealbook"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME; no user systemd manager is reachable from it."""
    home = tmp_path / "home"
    home.mkdir()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("SEALBOOK_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.delenv("SEALBOOK_VAULT", raising=False)
    # As when the installed command runs: it schedules itself.
    monkeypatch.setattr(sys, "argv", [str(INSTALLED), "schedule"])
    return home


@pytest.fixture
def vault_file(tmp_path: Path) -> Path:
    path = tmp_path / "my vault %h" / "vault.sqlite"  # a space and a systemd specifier
    Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True).close()
    return path


def units(home: Path) -> Path:
    return home / ".config" / "systemd" / "user"


def verify_units(home: Path, *files: Path) -> None:
    """`systemd-analyze --user verify`: fails on a bad key or a missing executable."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    result = subprocess.run(
        ["systemd-analyze", "--user", "--no-pager", "verify", *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr and "ignoring" not in result.stderr, result.stderr


def test_install_writes_a_valid_timer_and_service_calling_the_installed_sealbook(
    home: Path, vault_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["schedule", "install", "--vault", str(vault_file), "--at", "04:05", "--method", "systemd"])
    assert code == 0
    service, timer = units(home) / schedule.SERVICE, units(home) / schedule.TIMER
    service_text, timer_text = service.read_text(), timer.read_text()
    exec_start = next(line for line in service_text.splitlines() if line.startswith("ExecStart="))
    assert exec_start.startswith(f"ExecStart={INSTALLED} purge --log --vault ")
    assert str(vault_file.parent).replace("%", "%%") in exec_start
    with Vault(vault_file) as locked:
        assert exec_start.endswith(f" --expect-key {locked.verify_key_fingerprint}")
    assert "Persistent=true" in timer_text and "OnCalendar=*-*-* 04:05:00" in timer_text
    assert (units(home) / "timers.target.wants" / schedule.TIMER).resolve() == timer.resolve()
    assert str(service) in capsys.readouterr().out
    verify_units(home, timer, service)


def test_systemd_reads_back_quoted_and_escaped_paths(home: Path, vault_file: Path, tmp_path: Path) -> None:
    """An executable under 'bin dir %h $X' is found by systemd only if our quoting is right."""
    odd = tmp_path / "bin dir %h $X" / "sealbook"
    odd.parent.mkdir()
    odd.write_text("#!/bin/sh\nexit 0\n")
    odd.chmod(0o755)
    result = schedule.install(vault_file, method="systemd", executable=odd)
    assert result.command == (str(odd), "purge", "--log", "--vault", str(vault_file))
    verify_units(home, *result.files)


def test_cron_method_prints_a_crontab_line_and_writes_nothing(
    home: Path, vault_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schedule", "install", "--vault", str(vault_file), "--method", "cron"]) == 0
    out = capsys.readouterr().out
    line = next(line.strip() for line in out.splitlines() if line.strip().startswith("30 3 * * * "))
    assert f"{INSTALLED} purge --log --vault" in line
    assert "\\%h" in line  # cron would turn a bare % into a newline
    assert not units(home).exists()


def test_status_and_remove(home: Path, vault_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["installed"] is False
    main(["schedule", "install", "--vault", str(vault_file), "--at", "23:59", "--method", "systemd"])
    capsys.readouterr()
    assert main(["schedule", "status", "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["installed"] and state["method"] == "systemd" and state["enabled"] and state["at"] == "23:59"
    assert state["command"].startswith(str(INSTALLED))
    assert main(["schedule", "remove"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not any(units(home).rglob("sealbook-purge*"))
    main(["schedule", "status", "--json"])
    assert json.loads(capsys.readouterr().out)["installed"] is False


def test_status_shows_the_last_logged_run(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    schedule.write_log(["2026-06-15T03:30:00+00:00 purge today=2026-06-15 purged=2 refused=0 exit=0"], date.today())
    main(["schedule", "status"])
    assert "purged=2" in capsys.readouterr().out


def test_installing_again_replaces_the_schedule(home: Path, vault_file: Path) -> None:
    schedule.install(vault_file, at="01:00", method="systemd", executable=INSTALLED)
    schedule.install(vault_file, at="02:00", method="systemd", executable=INSTALLED)
    assert "OnCalendar=*-*-* 02:00:00" in (units(home) / schedule.TIMER).read_text()
    assert sorted(p.name for p in units(home).iterdir()) == [schedule.SERVICE, schedule.TIMER, "timers.target.wants"]


@pytest.mark.parametrize("at", ["24:00", "3:7", "noon", "12:60"])
def test_a_bad_time_is_refused(home: Path, vault_file: Path, at: str) -> None:
    assert main(["schedule", "install", "--vault", str(vault_file), "--at", at, "--method", "systemd"]) == 1
    assert not units(home).exists()


def test_install_refuses_a_missing_vault(home: Path, tmp_path: Path) -> None:
    assert main(["schedule", "install", "--vault", str(tmp_path / "none.sqlite"), "--method", "systemd"]) == 5


def test_the_executable_falls_back_to_path(home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/lib/python3/pytest"])
    monkeypatch.setenv("PATH", str(INSTALLED.parent))
    assert schedule.sealbook_executable() == INSTALLED
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(schedule.SealbookNotInstalled):
        schedule.sealbook_executable()
