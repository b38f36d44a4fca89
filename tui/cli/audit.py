"""The accountability log (Art. 5(2)): `sealbook log`, which needs no passphrase."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui.cli import common


def register(subparsers: Any) -> None:
    """Add `log`."""
    p = common.command(subparsers, "log", cmd_log, "show the accountability log (ids and dates only)")
    common.add_json_option(p)
    p.add_argument("--action", help="only this action (e.g. purged, erased, restricted, exported)")
    p.add_argument("--since", type=common.iso_date, metavar="DATE", help="only entries from this date on")


def cmd_log(args: argparse.Namespace) -> int:
    """The log, and one line on stderr when a row fails its seal (exit 4: damaged or tampered)."""
    with common.open_vault(args, unlock=False) as vault:
        entries = vault.audit_log(action=args.action, since=args.since)
        check = vault.audit_check()
    code = common.EXIT_OK if check.ok or not check.checked else common.EXIT_DAMAGED
    if not check.ok:
        print(f"sealbook: {'note' if code == common.EXIT_OK else 'warning'}: {check.describe()}", file=sys.stderr)
    if args.json:
        common.print_json(entries)
        return code
    # Every field but the time is text from the file, which anyone who can write it may have edited.
    for e in entries:
        detail = f"  {common.plain(e.detail)}" if e.detail else ""
        record_id = common.plain(e.record_id) if e.record_id else "-"
        print(
            f"{e.at.isoformat(timespec='seconds')}  {common.plain(e.action):<17}{record_id:<38}"
            f"{common.plain(e.device)}{detail}"
        )
    if not entries:
        print("No log entries.", file=sys.stderr)
    return code
