"""Data-protection duties on one record: `sealbook erase` (Art. 17), `restrict`
(Art. 18), and the legal `hold` / `release` that keep a record from the purge."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui.cli import common
from vault.errors import InvalidInput
from vault.model import EraseOutcome


def register(subparsers: Any) -> None:
    """Add `erase`, `restrict`, `hold` and `release`."""
    p = common.command(
        subparsers,
        "erase",
        cmd_erase,
        "erase a contact (Art. 17): deleted now, or restricted while a retention duty or hold applies",
    )
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help="contact id or prefix")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true", help="only say what would happen")

    for name, handler, text in (
        ("restrict", cmd_restrict, "restrict a contact (Art. 18): kept, hidden from the working list"),
        ("hold", cmd_hold, "put a legal hold on a contact: the purge leaves it alone"),
        ("release", cmd_release, "release a legal hold"),
    ):
        p = common.command(subparsers, name, handler, text)
        common.add_passphrase_option(p)
        common.add_json_option(p)
        p.add_argument("id", help="contact id or prefix")
        if name == "restrict":
            p.add_argument("--lift", action="store_true", help="lift the restriction instead")


def cmd_erase(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        preview = vault.erase_preview(contact.id)
        if args.dry_run:
            _print_erase(preview, args.json, would=True)
            return common.EXIT_OK
        if not args.yes:
            _print_erase(preview, False, would=True)
            if not sys.stdin.isatty():
                raise InvalidInput("confirmation", "not a terminal; add --yes to erase")
            if input("Proceed? [y/N] ").strip().lower() not in {"y", "yes", "j", "ja"}:
                print("Nothing was changed.")
                return common.EXIT_OK
        result = vault.erase(contact.id)
    _print_erase(result, args.json, would=False)
    return common.EXIT_OK


def _print_erase(result: Any, as_json: bool, *, would: bool) -> None:
    if as_json:
        common.print_json(result)
        return
    verb = {EraseOutcome.DELETED: "deleted now", EraseOutcome.RESTRICTED: "restricted, not deleted"}
    prefix = "Would be" if would else "Record"
    print(f"{prefix} {verb[result.outcome]}: {result.reason}.")
    if result.purge_from:
        print(f"It will be purged from {result.purge_from.isoformat()}.")


def _simple(args: argparse.Namespace, action: str) -> int:
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        changed = getattr(vault, action)(contact.id)
    if args.json:
        common.print_json(common.contact_json(changed))
    else:
        print(f"{action.capitalize()}: {changed.id}")
    return common.EXIT_OK


def cmd_restrict(args: argparse.Namespace) -> int:
    return _simple(args, "unrestrict" if args.lift else "restrict")


def cmd_hold(args: argparse.Namespace) -> int:
    return _simple(args, "hold")


def cmd_release(args: argparse.Namespace) -> int:
    return _simple(args, "release")
