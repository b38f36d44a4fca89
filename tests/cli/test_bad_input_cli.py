"""Issue 12.1, 12.2, 12.10: bad input at the command line gets one clear line and a
documented exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import SEALBOOK, WEAK, Run
from tests.conftest import PASSPHRASE

INVALID_UTF8 = os.fsdecode(b"\xff\xfe")  # what Python makes of undecodable bytes: lone surrogates


def raw(env: dict[str, str], args: list[bytes], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([SEALBOOK.encode(), *args], input=stdin, env=env, capture_output=True, timeout=120)


def no_traceback(result: subprocess.CompletedProcess[str] | subprocess.CompletedProcess[bytes]) -> None:
    err = result.stderr if isinstance(result.stderr, str) else result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "Error:" not in err.split("sealbook:")[0], err


def test_invalid_utf8_in_an_argument_is_a_usage_error(cli_vault: Path, cli_env: dict[str, str]) -> None:
    args = [b"add", b"--vault", os.fsencode(cli_vault), b"--passphrase-file", b"-", b"--name", b"\xff\xfe",
            b"--basis", b"contract", b"--rule", b"invoices-8y", b"--trigger", b"2025-01-01"]  # fmt: skip
    result = raw(cli_env, args, PASSPHRASE.encode() + b"\n")
    no_traceback(result)
    assert result.returncode == 2 and b"argument 7 is not valid UTF-8" in result.stderr


@pytest.mark.parametrize("command", [["find", "x"], ["show", "abcd"], ["passwd"]])
def test_invalid_utf8_passphrase_on_stdin_is_refused_by_name(
    cli_vault: Path, cli_env: dict[str, str], command: list[str]
) -> None:
    args = [os.fsencode(a) for a in [command[0], "--vault", str(cli_vault), "--passphrase-file", "-", *command[1:]]]
    result = raw(cli_env, args, b"\xff\xfe\n")
    no_traceback(result)
    assert result.returncode == 1 and b"passphrase: is not valid UTF-8 text" in result.stderr


def test_a_nul_in_a_new_passphrase_is_refused(tmp_path: Path, run: Run) -> None:
    result = run("init", "--vault", str(tmp_path / "n.sqlite"), "--passphrase-file", "-", *WEAK,
                 stdin="abc\0defghijk\nabc\0defghijk\n")  # fmt: skip
    no_traceback(result)
    assert result.returncode == 1 and "control characters" in result.stderr
    assert not (tmp_path / "n.sqlite").exists()


@pytest.mark.parametrize("where", ["folder", "parent-is-file", "dangling-symlink", "read-only-folder"])
def test_init_where_no_vault_can_be_made_says_why(tmp_path: Path, run: Run, where: str) -> None:
    if where == "folder":
        target = tmp_path / "d"
        target.mkdir()
        says = "is a folder"
    elif where == "parent-is-file":
        (tmp_path / "f").write_text("x")
        target = tmp_path / "f" / "v.sqlite"
        says = "is a file, not a folder"
    elif where == "dangling-symlink":
        target = tmp_path / "dl"
        target.symlink_to(tmp_path / "nowhere" / "x")
        says = "is a symbolic link"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o500)
        target = folder / "v.sqlite"
        says = "Permission denied"
    result = run("init", "--vault", str(target), "--passphrase-file", "-", *WEAK,
                 stdin=f"{PASSPHRASE}\n{PASSPHRASE}\n")  # fmt: skip
    no_traceback(result)
    assert result.returncode == 1 and "cannot be created" in result.stderr and says in result.stderr


def test_closing_a_missing_request_is_not_found(cli_vault: Path, run: Run) -> None:
    result = run("request", "close", "--vault", str(cli_vault), "--passphrase-file", "-", "deadbeef")
    no_traceback(result)
    assert result.returncode == 5


@pytest.mark.parametrize("wait", ["nan", "inf", "1e308", "-5", "ten"])
def test_purge_wait_takes_only_sensible_seconds(cli_vault: Path, run: Run, wait: str) -> None:
    result = run("purge", "--vault", str(cli_vault), "--wait", wait)
    no_traceback(result)
    assert result.returncode == 2 and "--wait" in result.stderr


@pytest.mark.parametrize("trigger", ["9999-12-31", "0001-01-01"])
def test_absurd_dates_are_refused_in_one_line(cli_vault: Path, run: Run, trigger: str) -> None:
    result = run("add", "--vault", str(cli_vault), "--passphrase-file", "-", "--name", "X", "--basis", "contract",
                 "--rule", "invoices-8y", "--trigger", trigger)  # fmt: skip
    no_traceback(result)
    assert result.returncode == 1 and "outside 1900-2199" in result.stderr


def test_an_unexpected_error_is_one_line_and_a_report_without_data(
    cli_vault: Path, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The last guard: a bug (here: a sabotaged module) prints one line, exit 70, no locals."""
    sabotage = tmp_path / "site"
    sabotage.mkdir()
    (sabotage / "sitecustomize.py").write_text(
        "import vault.policy\n"
        "def boom(*a, **k):\n"
        "    secret = 'Jürgen Geheim'\n"
        "    raise RuntimeError('contains ' + secret)\n"
        "vault.policy.validated = boom\n"
    )
    env = {**cli_env, "PYTHONPATH": str(sabotage)}
    result = subprocess.run(
        [SEALBOOK, "add", "--vault", str(cli_vault), "--passphrase-file", "-", "--name", "Jürgen Geheim",
         "--basis", "contract", "--rule", "invoices-8y", "--trigger", "2025-01-01"],
        input=PASSPHRASE + "\n", env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 70, result.stderr
    assert "Traceback" not in result.stderr and "Geheim" not in result.stderr
    assert "unexpected error (RuntimeError)" in result.stderr
    report = Path(result.stderr.split("Where it happened: ")[1].strip())
    text = report.read_text()
    assert "RuntimeError" in text and "Geheim" not in text and "secret" not in text
    assert oct(report.stat().st_mode & 0o777) == "0o600"
