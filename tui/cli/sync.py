"""`sealbook sync`: setup, push, pull, status, clone (issue 6).

Everything goes through the Vault facade.  Progress goes to stderr: a live
percentage on a terminal, one line per finished stage otherwise.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from tui.cli import common
from vault.sync.errors import RemoteNewer

STAGE_WORDS = {
    "snapshot": "snapshot",
    "encrypt": "compressing and encrypting",
    "upload": "uploading",
    "download": "downloading",
    "decrypt": "decrypting",
    "merge": "merging",
}


class CliProgress:
    """progress(stage, done, total) -> stderr; quiet when asked."""

    def __init__(self, out: TextIO | None = None, *, quiet: bool = False) -> None:
        self.out = out or sys.stderr
        self.quiet = quiet
        self.live = self.out.isatty()
        self._last: tuple[str, int] | None = None
        self._finished: set[str] = set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        words = STAGE_WORDS.get(stage, stage)
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if self.live:
            if self._last != (stage, percent):
                self._last = (stage, percent)
                self.out.write(f"\r{words}: {percent:3d}% ({_size(done)})\033[K")
                if percent == 100:
                    self.out.write("\n")
                self.out.flush()
        elif percent == 100 and stage not in self._finished:
            self._finished.add(stage)
            self.out.write(f"{words}: done ({_size(done)})\n")
            self.out.flush()

    def reset(self) -> None:
        self._finished.clear()
        self._last = None


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def register(subparsers: Any) -> None:
    """Add `sealbook sync ...`."""
    sync = subparsers.add_parser(
        "sync",
        help="encrypted copy on a folder, WebDAV (Nextcloud) or SFTP",
        description="Push and pull one encrypted blob of the vault.",
    )
    sub = sync.add_subparsers(dest="sync_command", metavar="SYNC_COMMAND", required=True)

    p = common.command(
        sub,
        "setup",
        cmd_setup,
        "set the sync target (folder, https:// WebDAV, nextcloud://host/folder, sftp://host[:port]/folder)",
    )
    p.add_argument("url")
    _target_options(p)

    p = common.command(sub, "push", cmd_push, "upload an encrypted snapshot (pulls and merges first if needed)")
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = common.command(sub, "pull", cmd_pull, "download the remote copy and merge it (needs the passphrase)")
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = common.command(sub, "status", cmd_status, "last push/pull, counters, pending changes")
    common.add_json_option(p)
    p.add_argument("--check", action="store_true", help="also ask the remote whether it changed")

    p = common.command(sub, "clone", cmd_clone, "create this machine's vault from the remote copy")
    p.add_argument("url")
    _target_options(p)
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", default="", help="user name (WebDAV/SFTP)")
    p.add_argument(
        "--password-file", metavar="FILE", help="read the password / app password from FILE ('-' = standard input)"
    )
    p.add_argument("--ask-password", action="store_true", help="ask for the password on the terminal")
    p.add_argument(
        "--known-hosts",
        default="",
        metavar="FILE",
        help="SFTP: known_hosts file with the server's key (default ~/.ssh/known_hosts)",
    )
    p.add_argument("--identity", default="", metavar="FILE", help="SFTP: private key file")


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file:
        return common.read_secret(args.password_file, "Password: ")
    if args.ask_password:
        return common.read_secret(None, "Server password: ")
    return None


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        common.print_json(report)
        return
    if report.action == "up-to-date":
        print(f"Up to date with {common.plain(report.target, None)} (version {report.counter}); nothing new to send.")
        _print_notes(report)
        return
    verb = {"pushed": "Pushed", "pulled": "Pulled", "cloned": "Cloned"}[report.action]
    print(
        f"{verb} version {report.counter} ({_size(report.blob_bytes)}) {'to' if verb == 'Pushed' else 'from'} "
        f"{common.plain(report.target, None)}."
    )
    if report.added or report.updated or report.deleted:
        print(f"Merged: {report.added} added, {report.updated} updated, {report.deleted} deleted.")
    if report.conflicts:
        print(
            f"Both devices changed {len(report.conflicts)} record(s); the newer version was kept: "
            + ", ".join(common.plain(record_id) for record_id in report.conflicts),
            file=sys.stderr,
        )
    if report.rejected:
        print(
            # These came from the server and did not authenticate: print them escaped.
            f"Rejected {len(report.rejected)} remote item(s) that did not authenticate: "
            + ", ".join(common.plain(item) for item in report.rejected),
            file=sys.stderr,
        )
    _print_notes(report)


def _print_notes(report: Any) -> None:
    for note in getattr(report, "notes", ()):
        print(f"sealbook: {common.plain(note, None)}", file=sys.stderr)


def cmd_setup(args: argparse.Namespace) -> int:
    password = _password(args)
    with common.open_vault(args, unlock=False) as vault:
        target = vault.sync_setup(
            args.url, user=args.user, password=password, known_hosts=args.known_hosts, identity=args.identity
        )
    print(f"Sync target set: {common.plain(target, None)}")
    return common.EXIT_OK


def cmd_push(args: argparse.Namespace) -> int:
    progress = CliProgress(quiet=args.quiet)
    unlock = bool(args.passphrase_file)
    with common.open_vault(args, unlock=unlock) as vault:
        try:
            report = vault.sync_push(progress=progress)
        except RemoteNewer:
            if unlock or not sys.stdin.isatty():
                raise
            print("The remote has changes from another device; unlock to merge them first.", file=sys.stderr)
            vault.unlock(common.read_secret(None, "Passphrase: "))
            progress.reset()
            report = vault.sync_push(progress=progress)
    _print_report(report, args.json)
    return common.EXIT_OK


def cmd_pull(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        report = vault.sync_pull(progress=CliProgress(quiet=args.quiet))
    _print_report(report, args.json)
    return common.EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    with common.open_vault(args, unlock=False) as vault:
        status = vault.sync_status(check_remote=args.check)
    if args.json:
        common.print_json(status)
        return common.EXIT_OK
    if not status.configured:
        print("Sync is not set up; run `sealbook sync setup`.")
    else:
        print(f"Target:       {common.plain(status.target, None)}")  # stored in the file
    print(f"Version:      {status.counter}" + (f" ({_size(status.blob_bytes)})" if status.blob_bytes else ""))
    print(f"Last push:    {status.last_push or 'never'}")
    print(f"Last pull:    {status.last_pull or 'never'}")
    print(f"Pending:      {status.pending} local change(s) not pushed")
    if status.remote_changed is not None:
        print("Remote:       " + ("has changes to pull" if status.remote_changed else "unchanged since last sync"))
    return common.EXIT_OK


def cmd_clone(args: argparse.Namespace) -> int:
    password = _password(args)
    passphrase = common.read_secret(args.passphrase_file, "Vault passphrase: ")
    from vault.service import Vault

    vault, report = Vault.clone_from(
        args.url,
        common.vault_path(args),
        passphrase,
        user=args.user,
        password=password,
        known_hosts=args.known_hosts,
        identity=args.identity,
        config=common.config(args),
        progress=CliProgress(quiet=args.quiet),
    )
    vault.close()
    _print_report(report, args.json)
    return common.EXIT_OK
