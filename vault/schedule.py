"""Scheduling the unattended purge: a systemd user timer, or a crontab line, and its logs.

Everything is computed from the environment at call time (``HOME``,
``XDG_CONFIG_HOME``, ``XDG_RUNTIME_DIR``, platformdirs), so tests point it at a
temporary HOME.  The scheduled command is the installed ``sealbook`` by
absolute path, with the vault path fixed at install time: the timer's
environment need not match the shell's.

Logs of scheduled runs (``sealbook purge --log``) go to the platformdirs log
folder, one file a day, kept seven days.  They hold counts, dates and record
ids (pseudonymous UUIDs), never a name, address or passphrase.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from vault.config import log_dir
from vault.errors import InvalidInput, VaultError, VaultNotFound
from vault.i18n import N_, _

UNIT = "sealbook-purge"
SERVICE = f"{UNIT}.service"
TIMER = f"{UNIT}.timer"
DEFAULT_AT = "03:30"
LOG_KEEP_DAYS = 7
_LOG_NAME = re.compile(r"^purge-(\d{4}-\d{2}-\d{2})\.log$")
_SYSTEMCTL_TIMEOUT = 20


class ScheduleError(VaultError):
    """The purge schedule could not be changed; the message says what to do instead."""

    sentence = N_("The purge schedule could not be changed; the message says what to do instead.")


class SealbookNotInstalled(VaultError):
    """The `sealbook` command was not found on PATH; install sealbook (e.g. `pipx install sealbook`) first."""

    sentence = N_(
        "The `sealbook` command was not found on PATH; install sealbook (e.g. `pipx install sealbook`) first."
    )


@dataclass(frozen=True)
class InstallResult:
    """What `schedule install` did.  ``method`` is "systemd" or "cron"."""

    method: str
    command: tuple[str, ...]
    at: str
    files: tuple[Path, ...] = ()
    enabled: bool = False
    started: bool = False
    crontab_line: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleStatus:
    """Whether a schedule is installed, how, and what the last logged run said."""

    installed: bool
    method: str | None
    files: tuple[Path, ...] = ()
    enabled: bool = False
    exec_start: str = ""
    at: str = ""
    next_run: str = ""
    last_log: Path | None = None
    last_run: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


# --- where things are -------------------------------------------------------------------


def unit_dir() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user`` (default ``~/.config/systemd/user``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def _wants_link() -> Path:
    return unit_dir() / "timers.target.wants" / TIMER


def systemd_booted() -> bool:
    """True when the machine runs systemd as init (sd_booted(3)'s test)."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def user_manager_running() -> bool:
    """True when this user's systemd instance is reachable (its private socket exists)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        return False
    return Path(runtime, "systemd", "private").exists() and systemd_booted()


def sealbook_executable() -> Path:
    """The installed `sealbook` command, by absolute path.

    The program running now when it is `sealbook` itself (so a pipx or venv
    install schedules itself), else the first `sealbook` on PATH.
    """
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "sealbook" and argv0.is_file() and os.access(argv0, os.X_OK):
        return argv0.absolute()
    found = shutil.which("sealbook")
    if found:
        return Path(found).absolute()
    raise SealbookNotInstalled()


def parse_at(text: str) -> tuple[int, int]:
    """'HH:MM' (24-hour clock) -> (hour, minute)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput("--at", _("must be a time of day as HH:MM, e.g. 03:30"))
    return int(match[1]), int(match[2])


def purge_command(
    executable: Path, vault_path: Path, config_path: Path | None = None, verify_key: str | None = None
) -> tuple[str, ...]:
    """The command a scheduled run executes (absolute paths only).

    ``verify_key`` pins the vault's verify-key fingerprint in the unit, outside
    the vault file: a vault re-keyed and re-signed by someone else is refused.
    """
    command = [str(executable), "purge", "--log", "--vault", str(vault_path.absolute())]
    if verify_key is not None:
        command += ["--expect-key", verify_key]
    if config_path is not None:
        command += ["--config", str(config_path.absolute())]
    return tuple(command)


# --- unit files and crontab -------------------------------------------------------------------


def _systemd_quote(arg: str, *, executable: bool = False) -> str:
    """One ExecStart= word: specifiers (%) escaped, and $-variables in the arguments
    (systemd expands them there, not in the executable path), quoted when needed."""
    arg = arg.replace("%", "%%")
    if not executable:
        arg = arg.replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def service_text(command: Sequence[str]) -> str:
    """The oneshot service that runs one purge."""
    exec_start = " ".join(_systemd_quote(word, executable=i == 0) for i, word in enumerate(command))
    return (
        "# Written by `sealbook schedule install`; remove with `sealbook schedule remove`.\n"
        "[Unit]\n"
        "Description=sealbook: purge contacts whose retention period has ended\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={exec_start}\n"
        "UMask=0077\n"
        "NoNewPrivileges=yes\n"
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
        "# Exit 6 means busy (the app or a sync held the vault): try again later.\n"
        "# Other failures (4 = tampered record, see the log) wait for the owner.\n"
        "Restart=on-failure\n"
        "RestartSec=15min\n"
        "RestartPreventExitStatus=1 2 3 4 5\n"
    )


def timer_text(hour: int, minute: int) -> str:
    """The daily timer; Persistent=true runs a missed purge at the next boot or login."""
    return (
        "# Written by `sealbook schedule install`; remove with `sealbook schedule remove`.\n"
        "[Unit]\n"
        "Description=sealbook: daily retention purge\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {hour:02d}:{minute:02d}:00\n"
        "Persistent=true\n"
        "AccuracySec=1min\n"
        f"Unit={SERVICE}\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def crontab_line(command: Sequence[str], hour: int, minute: int) -> str:
    """A crontab entry for machines without systemd ('%' is special to cron)."""
    words = " ".join(shlex.quote(word) for word in command).replace("%", "\\%")
    return f"{minute} {hour} * * * {words}"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp + fsync + rename), never through a symlink."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemctl", "--user", *args],
        capture_output=True,
        text=True,
        timeout=_SYSTEMCTL_TIMEOUT,
        check=False,
    )


def install(
    vault_path: Path,
    *,
    at: str = DEFAULT_AT,
    method: str = "auto",
    executable: Path | None = None,
    config_path: Path | None = None,
    verify_key: str | None = None,
) -> InstallResult:
    """Schedule a daily purge of ``vault_path`` at ``at`` (local time).

    ``method``: "systemd" writes a user service + timer and enables it;
    "cron" only returns the crontab line to add; "auto" picks systemd when the
    machine runs it.  Installing again replaces the previous schedule.
    """
    if method not in ("auto", "systemd", "cron"):
        raise InvalidInput("--method", _("must be auto, systemd or cron"))
    hour, minute = parse_at(at)
    if not vault_path.is_file():
        raise VaultNotFound(str(vault_path))
    command = purge_command(executable or sealbook_executable(), vault_path, config_path, verify_key)
    line = crontab_line(command, hour, minute)
    when = f"{hour:02d}:{minute:02d}"
    if method == "cron" or (method == "auto" and not systemd_booted()):
        return InstallResult(
            method="cron",
            command=command,
            at=when,
            crontab_line=line,
            notes=(
                _(
                    "cron does not catch up a run missed while the machine was off; "
                    "the next day's run purges whatever is due by then."
                ),
            ),
        )
    service, timer = unit_dir() / SERVICE, unit_dir() / TIMER
    _write_private(service, service_text(command))
    _write_private(timer, timer_text(hour, minute))
    notes: list[str] = []
    started = False
    if user_manager_running():
        reload = _systemctl("daemon-reload")
        enable = _systemctl("enable", "--now", TIMER)
        if reload.returncode != 0 or enable.returncode != 0:
            raise ScheduleError(
                _("systemctl --user enable {timer} failed: {error}").format(
                    timer=TIMER, error=enable.stderr.strip()[:200]
                )
            )
        started = True
    else:
        # What `systemctl --user enable` does offline: the user manager starts the
        # timer with the next login session.
        link = _wants_link()
        link.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(timer)
        notes.append(
            _("enabled; it starts with your next login (or `systemctl --user start {timer}`).").format(timer=TIMER)
        )
    notes.append(_("user timers run only while you are logged in unless you run `loginctl enable-linger`."))
    return InstallResult(
        method="systemd",
        command=command,
        at=when,
        files=(service, timer),
        enabled=True,
        started=started,
        crontab_line=line,
        notes=tuple(notes),
    )


def remove() -> list[Path]:
    """Disable and delete the systemd units; returns the files removed (cron: see the note)."""
    removed: list[Path] = []
    if user_manager_running() and (unit_dir() / TIMER).exists():
        _systemctl("disable", "--now", TIMER)
    for path in (_wants_link(), unit_dir() / TIMER, unit_dir() / SERVICE):
        if path.is_symlink() or path.exists():
            path.unlink()
            removed.append(path)
    if removed and user_manager_running():
        _systemctl("daemon-reload")
    return removed


def _unit_value(text: str, key: str) -> str:
    for line in text.splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    return ""


def _crontab_entry() -> str:
    if shutil.which("crontab") is None:
        return ""
    try:
        listing = subprocess.run(["crontab", "-l"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    for line in listing.stdout.splitlines():
        if "sealbook" in line and " purge" in line and not line.lstrip().startswith("#"):
            return line
    return ""


def status() -> ScheduleStatus:
    """The installed schedule (systemd units or a crontab entry) and the last logged run."""
    service, timer = unit_dir() / SERVICE, unit_dir() / TIMER
    last_log = latest_log()
    last_run = _last_line(last_log) if last_log else ""
    if service.is_file() and timer.is_file():
        service_body = service.read_text(encoding="utf-8")
        timer_body = timer.read_text(encoding="utf-8")
        next_run = ""
        if user_manager_running():
            shown = _systemctl("show", TIMER, "-p", "NextElapseUSecRealtime", "--value")
            next_run = shown.stdout.strip() if shown.returncode == 0 else ""
        return ScheduleStatus(
            installed=True,
            method="systemd",
            files=(service, timer),
            enabled=_wants_link().is_symlink() or _wants_link().exists(),
            exec_start=_unit_value(service_body, "ExecStart"),
            at=_unit_value(timer_body, "OnCalendar").removeprefix("*-*-* ")[:5],
            next_run=next_run,
            last_log=last_log,
            last_run=last_run,
        )
    entry = _crontab_entry()
    if entry:
        fields = entry.split()
        at = f"{int(fields[1]):02d}:{int(fields[0]):02d}" if fields[:2] and all(f.isdigit() for f in fields[:2]) else ""
        return ScheduleStatus(
            installed=True,
            method="cron",
            enabled=True,
            exec_start=" ".join(fields[5:]),
            at=at,
            last_log=last_log,
            last_run=last_run,
        )
    return ScheduleStatus(installed=False, method=None, last_log=last_log, last_run=last_run)


# --- logs ----------------------------------------------------------------------------------


def log_file(day: date) -> Path:
    return log_dir() / f"purge-{day.isoformat()}.log"


def write_log(lines: Iterable[str], day: date) -> Path:
    """Append ``lines`` to the day's log (0600, never through a symlink), then prune old logs."""
    path = log_file(day)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line.replace("\n", " ") + "\n")
    prune_logs(day)
    return path


def prune_logs(today: date, keep_days: int = LOG_KEEP_DAYS) -> list[Path]:
    """Delete purge logs older than ``keep_days`` days (today's counts as one)."""
    folder = log_dir()
    oldest_kept = today - timedelta(days=keep_days - 1)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _LOG_NAME.match(entry.name)
        if not match:
            continue
        try:
            day = date.fromisoformat(match[1])
        except ValueError:
            continue
        if day < oldest_kept and not entry.is_symlink():
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def latest_log() -> Path | None:
    folder = log_dir()
    if not folder.is_dir():
        return None
    logs = sorted(entry for entry in folder.iterdir() if _LOG_NAME.match(entry.name))
    return logs[-1] if logs else None


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""
