"""`sealbook sync`: setup, push, pull, status, clone (issue 6).

Everything goes through the Vault facade.  Progress goes to stderr: a live
percentage on a terminal, one line per finished stage otherwise.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any, TextIO

from tui.cli import common
from vault.i18n import N_, _, format_datetime, language, ngettext
from vault.sync.errors import RemoteNewer

STAGE_WORDS = {
    "snapshot": N_("snapshot"),
    "encrypt": N_("compressing and encrypting"),
    "upload": N_("uploading"),
    "download": N_("downloading"),
    "decrypt": N_("decrypting"),
    "merge": N_("merging"),
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
        words = _(STAGE_WORDS[stage]) if stage in STAGE_WORDS else stage
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
            self.out.write(_("{stage}: done ({size})").format(stage=words, size=_size(done)) + "\n")
            self.out.flush()

    def reset(self) -> None:
        self._finished.clear()
        self._last = None


def _when(value: object) -> str:
    """A last push/pull time for people ("never" when there was none)."""
    if not value:
        return _("never")
    if language() == "en":
        return str(value)  # as before: the ISO time (UTC) the sync state holds
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return common.plain(value, None)
    return format_datetime(moment.astimezone() if moment.tzinfo else moment)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            text = f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
            return text.replace(".", ",") if language() == "de" else text
        n /= 1024  # type: ignore[assignment]
    return str(n)


def register(subparsers: Any) -> None:
    """Add `sealbook sync ...`."""
    sync = subparsers.add_parser(
        "sync",
        help=_("encrypted copy on a folder, WebDAV (Nextcloud) or SFTP"),
        description=_("Push and pull one encrypted blob of the vault."),
    )
    common.add_lang_option(sync)
    sub = sync.add_subparsers(dest="sync_command", metavar="SYNC_COMMAND", required=True)

    p = common.command(
        sub,
        "setup",
        cmd_setup,
        _("set the sync target (folder, https:// WebDAV, nextcloud://host/folder, sftp://host[:port]/folder)"),
    )
    p.add_argument("url")
    _target_options(p)

    p = common.command(sub, "push", cmd_push, _("upload an encrypted snapshot (pulls and merges first if needed)"))
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--quiet", action="store_true", help=_("no progress output"))

    p = common.command(sub, "pull", cmd_pull, _("download the remote copy and merge it (needs the passphrase)"))
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--quiet", action="store_true", help=_("no progress output"))

    p = common.command(sub, "status", cmd_status, _("last push/pull, counters, pending changes"))
    common.add_json_option(p)
    p.add_argument("--check", action="store_true", help=_("also ask the remote whether it changed"))

    p = common.command(sub, "clone", cmd_clone, _("create this machine's vault from the remote copy"))
    p.add_argument("url")
    _target_options(p)
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--quiet", action="store_true", help=_("no progress output"))


def _target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", default="", help=_("user name (WebDAV/SFTP)"))
    p.add_argument(
        "--password-file", metavar="FILE", help=_("read the password / app password from FILE ('-' = standard input)")
    )
    p.add_argument("--ask-password", action="store_true", help=_("ask for the password on the terminal"))
    p.add_argument(
        "--known-hosts",
        default="",
        metavar="FILE",
        help=_("SFTP: known_hosts file with the server's key (default ~/.ssh/known_hosts)"),
    )
    p.add_argument("--identity", default="", metavar="FILE", help=_("SFTP: private key file"))


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file:
        return common.read_secret(args.password_file, _("Password: "))
    if args.ask_password:
        return common.read_secret(None, _("Server password: "))
    return None


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        common.print_json(report)
        return
    if report.action == "up-to-date":
        print(
            _("Up to date with {target} (version {version}); nothing new to send.").format(
                target=common.plain(report.target, None), version=report.counter
            )
        )
        _print_notes(report)
        return
    done = {
        "pushed": _("Pushed version {version} ({size}) to {target}."),
        "pulled": _("Pulled version {version} ({size}) from {target}."),
        "cloned": _("Cloned version {version} ({size}) from {target}."),
    }[report.action]
    print(done.format(version=report.counter, size=_size(report.blob_bytes), target=common.plain(report.target, None)))
    if report.added or report.updated or report.deleted:
        print(
            _("Merged: {added} added, {updated} updated, {deleted} deleted.").format(
                added=report.added, updated=report.updated, deleted=report.deleted
            )
        )
    if report.conflicts:
        print(
            ngettext(
                "Both devices changed {count} record; the newer version was kept: {ids}",
                "Both devices changed {count} records; the newer version was kept: {ids}",
                len(report.conflicts),
            ).format(
                count=len(report.conflicts), ids=", ".join(common.plain(record_id) for record_id in report.conflicts)
            ),
            file=sys.stderr,
        )
    if report.rejected:
        print(
            # These came from the server and did not authenticate: print them escaped.
            ngettext(
                "Rejected {count} remote item that did not authenticate: {items}",
                "Rejected {count} remote items that did not authenticate: {items}",
                len(report.rejected),
            ).format(count=len(report.rejected), items=", ".join(common.plain(item) for item in report.rejected)),
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
    print(_("Sync target set: {target}").format(target=common.plain(target, None)))
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
            print(_("The remote has changes from another device; unlock to merge them first."), file=sys.stderr)
            vault.unlock(common.read_secret(None, _("Passphrase: ")))
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
        print(_("Sync is not set up; run `sealbook sync setup`."))
    rows: list[tuple[str, str]] = []
    if status.configured:
        rows.append((_("Target:"), common.plain(status.target, None)))  # stored in the file
    rows.append((_("Version:"), f"{status.counter}" + (f" ({_size(status.blob_bytes)})" if status.blob_bytes else "")))
    rows.append((_("Last push:"), _when(status.last_push)))
    rows.append((_("Last pull:"), _when(status.last_pull)))
    rows.append(
        (
            _("Pending:"),
            ngettext("{count} local change not pushed", "{count} local changes not pushed", status.pending).format(
                count=status.pending
            ),
        )
    )
    if status.remote_changed is not None:
        rows.append(
            (_("Remote:"), _("has changes to pull") if status.remote_changed else _("unchanged since last sync"))
        )
    width = max(14, *(len(label) + 1 for label, _value in rows))
    for label, value in rows:
        print(f"{label:<{width}}{value}")
    return common.EXIT_OK


def cmd_clone(args: argparse.Namespace) -> int:
    password = _password(args)
    passphrase = common.read_secret(args.passphrase_file, _("Vault passphrase: "))
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
