"""The accountability log (Art. 5(2)): `sealbook log`, which needs no passphrase."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from tui.cli import common
from vault.i18n import _, format_datetime, language


def register(subparsers: Any) -> None:
    """Add `log`."""
    p = common.command(subparsers, "log", cmd_log, _("show the accountability log (ids and dates only)"))
    common.add_json_option(p)
    p.add_argument("--action", help=_("only this action (e.g. purged, erased, restricted, exported)"))
    p.add_argument("--since", type=common.iso_date, metavar="DATE", help=_("only entries from this date on"))


def cmd_log(args: argparse.Namespace) -> int:
    """The log, and one line on stderr when a row fails its seal (exit 4: damaged or tampered)."""
    with common.open_vault(args, unlock=False) as vault:
        entries = vault.audit_log(action=args.action, since=args.since)
        check = vault.audit_check()
    code = common.EXIT_OK if check.ok or not check.checked else common.EXIT_DAMAGED
    if not check.ok:
        text = _("sealbook: note: {message}") if code == common.EXIT_OK else _("sealbook: warning: {message}")
        print(text.format(message=check.describe()), file=sys.stderr)
    if args.json:
        common.print_json(entries)
        return code
    # Every field but the time is text from the file, which anyone who can write it may have edited.
    for e in entries:
        detail = f"  {common.plain(e.detail)}" if e.detail else ""
        record_id = common.plain(e.record_id) if e.record_id else "-"
        print(f"{_moment(e.at)}  {common.plain(e.action):<17}{record_id:<38}{common.plain(e.device)}{detail}")
    if not entries:
        print(_("No log entries."), file=sys.stderr)
    return code


def _moment(at: datetime) -> str:
    """When a row was written: ISO 8601 in English (as the --json output), local
    30.11.2026 14:05:09 in German.  Action names and ids stay as the log holds them."""
    if language() == "en":
        return at.isoformat(timespec="seconds")
    local = at.astimezone() if at.tzinfo else at
    return f"{format_datetime(local)}:{local.second:02d}"
