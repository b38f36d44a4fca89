"""The fault suite (issue 12): the installed `sealbook` command in real subprocesses,
on real SQLite files, hit by real signals, damage and full disks.

What every case checks (:func:`problems`): the exit code is documented (0-7 in the
README; 70, "unexpected error", is a bug), nothing prints a Python traceback, and
the message is there.  The suites are seeded; ``SEALBOOK_FAULT_SEED`` picks
another seed for an exploratory run, and a failure message always names the seed
and the exact command, so it can be run again by hand.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import select
import shlex
import signal
import sqlite3
import struct
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import pytest

from tests.cli.conftest import SEALBOOK
from tests.conftest import PASSPHRASE

__all__ = ["PASSPHRASE", "SEALBOOK"]

DOCUMENTED_EXITS = frozenset(range(8))  # README, "Exit codes"
EXIT_INTERNAL = 70  # "unexpected error (a bug)": always a failure here


def base_seed(default: int) -> int:
    """The seed of a suite: ``SEALBOOK_FAULT_SEED`` when set (exploration), else ``default``."""
    text = os.environ.get("SEALBOOK_FAULT_SEED", "")
    return int(text) if text.strip() else default


# --- running the command -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One finished (or killed) `sealbook` run."""

    args: tuple[str | bytes, ...]
    code: int
    out: str
    err: str
    stdin: str | bytes | None = None
    killed: bool = False

    def command(self) -> str:
        words = [a if isinstance(a, str) else repr(a) for a in self.args]
        line = "sealbook " + " ".join(shlex.quote(w) for w in words)
        if isinstance(self.stdin, bytes) or (self.stdin and self.stdin != PASSPHRASE + "\n"):
            line = f"printf %s {shlex.quote(repr(self.stdin))} | {line}"
        return line

    def describe(self) -> str:
        state = "killed" if self.killed else f"exit {self.code}"
        return f"{self.command()}\n  -> {state}\n  stdout: {self.out[-600:]!r}\n  stderr: {self.err[-1200:]!r}"


def problems(outcome: Outcome, allowed: frozenset[int] = DOCUMENTED_EXITS) -> list[str]:
    """What is wrong with a run in every fault class: a traceback, an undocumented or
    internal exit code, a refusal without a message."""
    found = []
    text = outcome.out + outcome.err
    if "Traceback (most recent call last)" in text:
        found.append("printed a Python traceback")
    if not outcome.killed:
        if outcome.code == EXIT_INTERNAL or "unexpected error" in outcome.err:
            found.append("exit 70: unexpected error (a bug caught by the last guard)")
        elif outcome.code not in allowed:
            found.append(f"exit {outcome.code}, expected one of {sorted(allowed)}")
        if outcome.code != 0 and not outcome.err.strip():
            found.append("refused without a message on stderr")
    return found


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


class Sealbook:
    """The installed command with private HOME, XDG folders and config: nothing of the
    machine's own sealbook is touched, and the device's pins live under ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOOK_")}
        self.env.update(self.xdg())
        self.env["HOME"] = str(home)
        self.env["SEALBOOK_CONFIG"] = str(home / "config.toml")  # absent: the defaults
        self.env["SEALBOOK_NO_KEYRING"] = "1"
        self.env.pop("PYTHONWARNINGS", None)

    def xdg(self) -> dict[str, str]:
        return {
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_STATE_HOME": str(self.home / "state"),
            "XDG_CACHE_HOME": str(self.home / "cache"),
        }

    def run(self, *args: str | bytes, stdin: str | bytes | None = PASSPHRASE + "\n", timeout: float = 120) -> Outcome:
        data = stdin.encode("utf-8", "surrogateescape") if isinstance(stdin, str) else stdin
        result = subprocess.run(
            [SEALBOOK, *args], input=data, env=self.env, capture_output=True, timeout=timeout, check=False
        )
        return Outcome(tuple(args), result.returncode, _decode(result.stdout), _decode(result.stderr), stdin)

    def ok(self, *args: str, stdin: str | bytes | None = PASSPHRASE + "\n") -> Outcome:
        """A run that must succeed (setup steps)."""
        outcome = self.run(*args, stdin=stdin)
        assert outcome.code == 0 and not problems(outcome), outcome.describe()
        return outcome

    def start(self, *args: str, stdin: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [SEALBOOK, *args],
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            start_new_session=True,
        )


@pytest.fixture
def sealbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sealbook:
    """The command, and this test process pointed at the same pins (for in-process checks)."""
    sb = Sealbook(tmp_path / "home")
    for name, value in sb.xdg().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SEALBOOK_NO_KEYRING", "1")
    return sb


def retarget_sync(home: Path, old: Path, new: Path) -> None:
    """Point the copied sync settings of a copied home at a copied local folder (the
    settings are JSON in the config folder, one file per vault and device)."""
    for path in (home / "config" / "sealbook" / "sync").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("url") == str(old):
            data["url"] = str(new)
            path.write_text(json.dumps(data), encoding="utf-8")


# --- contacts in files -------------------------------------------------------------------


def write_vcards(path: Path, people: Sequence[tuple[str, str]]) -> Path:
    """A vCard 3.0 file of (name, e-mail) pairs."""
    cards = [
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nN:{name.split()[-1]};{name.split()[0]};;;\r\n"
        f"EMAIL;TYPE=INTERNET:{email}\r\nEND:VCARD\r\n"
        for name, email in people
    ]
    path.write_text("".join(cards), encoding="utf-8")
    return path


def passphrase_file(path: Path, passphrase: str = PASSPHRASE) -> Path:
    path.write_text(passphrase + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


# --- the file itself ---------------------------------------------------------------------


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` through plain SQLite (after sealbook opened the file)."""
    with closing(sqlite3.connect(path, timeout=10)) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows)


def table_ids(path: Path, table: str, column: str = "id") -> set[str]:
    with closing(sqlite3.connect(path, timeout=10)) as conn:
        return {str(row[0]) for row in conn.execute(f"SELECT {column} FROM {table}")}


# --- what an unlocked vault holds (in this process, through the facade) -------------------


@dataclass
class View:
    """What an unlock shows: contacts by id (as plain dicts), damaged ids, the log."""

    contacts: dict[str, dict[str, Any]]
    damaged: tuple[str, ...]
    log: list[tuple[str, str | None]] = field(default_factory=list)


def jsonable(value: object) -> Any:
    """What `--json` prints for a value: enums by value, dates as ISO text, tuples as lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def as_listed(contact: Any) -> dict[str, Any]:
    """A contact as `find --json` lists it: every field but the signed version vector
    (sync bookkeeping in bytes; tui/cli/common.contact_json leaves it out too)."""
    data: dict[str, Any] = jsonable(dataclasses.asdict(contact))
    data.pop("history", None)
    return data


def open_view(path: Path, passphrase: str = PASSPHRASE) -> View:
    """Unlock ``path`` in this process (the same pins as the command) and read everything.

    Raises what the facade raises: WrongPassphrase, VaultDamaged, ... ; anything else is a bug.
    """
    from vault.service import Vault

    with Vault(path) as vault:
        vault.unlock(passphrase)
        contacts = {c.id: as_listed(c) for c in vault.contacts(include_restricted=True)}
        damaged = vault.damaged_ids
        log = [(e.action, e.record_id) for e in vault.audit_log()]
    return View(contacts, tuple(damaged), log)


# --- kills ---------------------------------------------------------------------------------


@dataclass
class Shot:
    """A run that was killed ``delay`` seconds after its trigger (see :func:`shoot`),
    or that finished first (``outcome.killed`` False)."""

    outcome: Outcome
    delay: float
    ran: float  # seconds from the trigger to the end or the kill
    triggered: bool


# inotify(7): the first open or change of a file in a watched folder is the trigger.
IN_MODIFY = 0x002
IN_OPEN = 0x020
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
WRITES = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE
OPENS = IN_OPEN | WRITES


def counts(name: str, mask: int) -> bool:
    """Whether an event is a real step of the command: SQLite's shared-memory index and
    the lock files change on every open, and an empty ``-wal`` is made by every reader."""
    if name.endswith(("-shm", ".lock")):
        return False
    return not (name.endswith("-wal") and not mask & IN_MODIFY)


class Watch:
    """Events on a few folders through inotify (Linux): ``wait`` returns when one
    matching ``mask`` arrived, or False when ``alive`` says the process ended first."""

    def __init__(self, folders: Sequence[Path], mask: int) -> None:
        import ctypes

        self._libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.mask = mask
        for folder in folders:
            if folder.is_dir():
                self._libc.inotify_add_watch(self.fd, os.fsencode(folder), mask)

    def wait(self, alive: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.005)
            if ready:
                data = os.read(self.fd, 65536)
                offset = 0
                while offset + 16 <= len(data):
                    _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                    name = data[offset + 16 : offset + 16 + length].rstrip(b"\0").decode("utf-8", "replace")
                    offset += 16 + length
                    if mask & self.mask and counts(name, mask):
                        return True
            elif not alive():
                return False
        return False

    def close(self) -> None:
        os.close(self.fd)


def inotify_available() -> bool:
    try:
        Watch([], OPENS).close()
    except (OSError, AttributeError):
        return False
    return True


def shoot(
    sb: Sealbook,
    args: Sequence[str],
    *,
    watch: Sequence[Path],
    delay: float,
    on: int = WRITES,
    stdin: Path | None = None,
    timeout: float = 60,
) -> Shot:
    """Start ``sealbook ARGS``; at the first event ``on`` (default: the first write)
    in one of the ``watch`` folders (the vault's, the device's state), wait ``delay``
    seconds and SIGKILL it unless it finished by then.  Startup and imports before
    the trigger are not worth a kill: nothing is written there."""
    handle = open(stdin, "rb") if stdin else None  # noqa: SIM115 - closed below
    watcher = Watch(watch, on)
    try:
        proc = sb.start(*args, stdin=handle)
        triggered = watcher.wait(lambda: proc.poll() is None, timeout)
        start = time.monotonic()
        killed = False
        try:
            out, err = proc.communicate(timeout=delay if triggered else timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            out, err = proc.communicate(timeout=timeout)
        ran = time.monotonic() - start
    finally:
        watcher.close()
        if handle:
            handle.close()
    outcome = Outcome(tuple(args), proc.returncode, _decode(out), _decode(err), None, killed=killed)
    return Shot(outcome, delay, ran, triggered)


def kill_note(seed: int, step: int, shot: Shot) -> str:
    """How to find a kill again: the seed, the step and the delay."""
    return (
        f"seed={seed} step={step} delay={shot.delay * 1000:.1f} ms after the trigger "
        f"({'killed' if shot.outcome.killed else 'finished'})\n{shot.outcome.describe()}"
    )
