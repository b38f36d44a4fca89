"""Data-protection duties on one record: `sealbook erase` (Art. 17), `object`
(Art. 21), `restrict` / `unrestrict` (Art. 18), the legal `hold` / `release` that
keep a record from the purge, and `review` of a consent record."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from tui.cli import common
from vault import policy
from vault.errors import ErasurePending, InvalidInput
from vault.model import Contact, EraseOutcome, EraseResult

# What an erasure turned into restriction may keep (vault.policy.KEEPABLE), in the
# order and words of the output; "none" keeps only the name, the dates and the rules.
KEEP_WORDS = {
    "org": "organisation",
    "email": "first e-mail",
    "phone": "first phone",
    "source": "source",
    "purpose": "purpose",
}
KEEP_NONE = "none"


def register(subparsers: Any) -> None:
    """Add `erase`, `object`, `restrict`, `unrestrict`, `hold`, `release` and `review`."""
    p = common.command(
        subparsers,
        "erase",
        cmd_erase,
        "erase a contact (Art. 17): deleted now, or restricted while a retention duty, "
        "a legal-claims period or a hold applies",
    )
    _erase_options(p)
    p.add_argument(
        "--requested", type=common.iso_date, metavar="DATE", help="the day the person asked (default: today)"
    )

    p = common.command(
        subparsers,
        "object",
        cmd_object,
        "record an objection (Art. 21) and erase the contact: deleted now, or restricted while a duty or hold applies",
    )
    _erase_options(p)
    p.add_argument(
        "--on", type=common.iso_date, metavar="DATE", help="the day the objection was received (default: today)"
    )

    p = _record_command(
        subparsers, "restrict", cmd_restrict, "restrict a contact (Art. 18): kept, hidden from the working list"
    )
    p.add_argument("--lift", action="store_true", help="lift the restriction instead (as `unrestrict`)")
    _requested_option(p, "(a) or (d)")
    _informed_option(p, " (with --lift)")

    p = _record_command(subparsers, "unrestrict", cmd_unrestrict, "lift a restriction (Art. 18)")
    _informed_option(p, "")

    p = _record_command(subparsers, "hold", cmd_hold, "put a legal hold on a contact: the purge leaves it alone")
    p.add_argument("--reason", metavar="TEXT", help='why the hold applies, e.g. "tax audit 2025"')
    _requested_option(p, "(b) or (c); the record is also restricted")

    p = _record_command(
        subparsers, "release", cmd_release, "release a legal hold; an erasure waiting only for it completes now"
    )
    _informed_option(p, "")

    _record_command(
        subparsers, "review", cmd_review, "mark a consent record as reviewed today: its next review date moves on"
    )


def _record_command(
    subparsers: Any, name: str, handler: Callable[[argparse.Namespace], int], text: str
) -> argparse.ArgumentParser:
    p = common.command(subparsers, name, handler, text)
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help="contact id or prefix")
    return p


def _erase_options(p: argparse.ArgumentParser) -> None:
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help="contact id or prefix")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true", help="only say what would happen")
    p.add_argument(
        "--not-needed-for-claims",
        action="store_true",
        help="you checked that this record is not needed for legal claims (Art. 17(3)(e) GDPR is case by "
        "case): only statutory duties (Art. 17(3)(b)) and holds keep it",
    )
    default = ",".join(sorted(policy.DEFAULT_KEEP))
    p.add_argument(
        "--keep",
        action="append",
        choices=[*sorted(policy.KEEPABLE), KEEP_NONE],
        metavar="FIELD",
        help=f"when the record must be kept (restricted): what to keep besides the name, dates and rules "
        f"(repeatable: {', '.join(sorted(policy.KEEPABLE))}; email/phone keep the first one only; "
        f"'{KEEP_NONE}' keeps nothing more; default: {default}); notes are always deleted",
    )


def _requested_option(p: argparse.ArgumentParser, letters: str) -> None:
    p.add_argument(
        "--requested",
        type=common.iso_date,
        metavar="DATE",
        help=f"the day the person asked for the restriction (Art. 18(1){letters})",
    )


def _informed_option(p: argparse.ArgumentParser, when: str) -> None:
    p.add_argument(
        "--informed",
        type=common.iso_date,
        metavar="DATE",
        help=f"the day the person was told the restriction ends{when}; required when they asked for it "
        "(Art. 18(3) GDPR)",
    )


def _keep(args: argparse.Namespace) -> frozenset[str]:
    chosen: list[str] | None = args.keep
    if chosen is None:
        return policy.DEFAULT_KEEP
    if KEEP_NONE in chosen:
        if len(set(chosen)) > 1:
            raise InvalidInput("keep", f"'{KEEP_NONE}' cannot be combined with other fields")
        return frozenset()
    return frozenset(chosen)


def kept_words(keep: frozenset[str]) -> list[str]:
    """What a restricted (erasure-pending) record keeps, in words."""
    return ["name", "dates and rules", *[words for field, words in KEEP_WORDS.items() if field in keep]]


# --- erase and object -------------------------------------------------------------------


def cmd_erase(args: argparse.Namespace) -> int:
    keep = _keep(args)
    claims_needed = not args.not_needed_for_claims
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        preview = vault.erase_preview(contact.id, claims_needed=claims_needed)
        if not _confirmed(args, preview, keep, "erase"):
            return common.EXIT_OK
        erase = partial(vault.erase, contact.id, keep=keep, claims_needed=claims_needed, requested=args.requested)
        result = _erased(erase, preview)
    _print_erase(result, keep, args.json, would=False)
    return common.EXIT_OK


def cmd_object(args: argparse.Namespace) -> int:
    keep = _keep(args)
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        day = args.on or vault.today()
        if day > vault.today():
            raise InvalidInput("--on", "the objection cannot be received in the future")
        claims_needed = not args.not_needed_for_claims
        preview = vault.erase_preview(contact.id, claims_needed=claims_needed)
        if not _confirmed(args, preview, keep, "record the objection and erase"):
            return common.EXIT_OK
        result = _erased(partial(vault.object, contact.id, on=day, keep=keep, claims_needed=claims_needed), preview)
    if not args.json:
        listed = "; their e-mails and phones are on the suppression list" if contact.emails or contact.phones else ""
        print(f"Objection (Art. 21) of {day.isoformat()} recorded{listed}.")
    _print_erase(result, keep, args.json, would=False, extra={"objected": day})
    return common.EXIT_OK


def _erased(erase: Callable[[], EraseResult], preview: EraseResult) -> EraseResult:
    """Run the erasure.  When only the scrub after its commit could not run (ErasurePending: the
    disk is full), the record is erased all the same, as the preview said (only a deletion
    scrubs, and the decision does not depend on the objection): say so, and that it is pending."""
    try:
        return erase()
    except ErasurePending as pending:
        print(f"sealbook: note: {common.plain(pending, None)}", file=sys.stderr)
        return preview


def _confirmed(args: argparse.Namespace, preview: EraseResult, keep: frozenset[str], what: str) -> bool:
    """Show what will happen; True when it should be done now (--yes or a "y" at the terminal)."""
    if args.dry_run:
        _print_erase(preview, keep, args.json, would=True)
        return False
    if args.yes:
        return True
    _print_erase(preview, keep, False, would=True)
    if not sys.stdin.isatty():
        raise InvalidInput("confirmation", f"not a terminal; add --yes to {what}")
    if input("Proceed? [y/N] ").strip().lower() not in {"y", "yes", "j", "ja"}:
        print("Nothing was changed.")
        return False
    return True


def _print_erase(
    result: EraseResult, keep: frozenset[str], as_json: bool, *, would: bool, extra: dict[str, Any] | None = None
) -> None:
    restricted = result.outcome is EraseOutcome.RESTRICTED
    if as_json:
        data: dict[str, Any] = common.to_jsonable(result)
        data["kept"] = sorted(keep) if restricted else []
        data.update(common.to_jsonable(extra or {}))
        common.print_json(data)
        return
    verb = {EraseOutcome.DELETED: "deleted now", EraseOutcome.RESTRICTED: "restricted, not deleted"}
    prefix = "Would be" if would else "Record"
    print(f"{prefix} {verb[result.outcome]}: {result.reason}.")
    if restricted:
        print(f"{'Would keep' if would else 'Kept'}: {', '.join(kept_words(keep))}; everything else deleted.")
    if result.purge_from:
        print(f"It will be purged from {result.purge_from.isoformat()}.")


# --- restriction, hold, review ----------------------------------------------------------------


def _print_contact(args: argparse.Namespace, contact: Contact, line: str) -> int:
    if args.json:
        common.print_json(common.contact_json(contact))
    else:
        print(line)
    return common.EXIT_OK


def _with_informed_hint(error: InvalidInput, informed: date | None) -> InvalidInput:
    if error.field == "informed" and informed is None:
        return InvalidInput(error.field, f"{error.message} with --informed DATE")
    return error


def cmd_restrict(args: argparse.Namespace) -> int:
    if args.lift:
        if args.requested is not None:
            raise InvalidInput("--requested", "only when restricting, not with --lift")
        return cmd_unrestrict(args)
    if args.informed is not None:
        raise InvalidInput("--informed", "only with --lift (or `sealbook unrestrict`)")
    with common.open_vault(args) as vault:
        changed = vault.restrict(vault.resolve(args.id).id, requested=args.requested)
    asked = f" (the person asked on {args.requested.isoformat()})" if args.requested else ""
    return _print_contact(args, changed, f"Restricted: {changed.id}{asked}")


def cmd_unrestrict(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        try:
            changed = vault.unrestrict(contact.id, informed=args.informed)
        except InvalidInput as error:
            raise _with_informed_hint(error, args.informed) from None
    return _print_contact(args, changed, f"Restriction lifted: {changed.id}")


def cmd_hold(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        changed = vault.hold(vault.resolve(args.id).id, reason=args.reason or "", requested=args.requested)
    line = f"Hold: {changed.id}"
    if changed.hold_reason:
        line += f" ({common.safe(changed.hold_reason)})"
    if args.requested:
        line += f"; restricted, the person asked on {args.requested.isoformat()}"
    return _print_contact(args, changed, line)


def cmd_release(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        try:
            changed = vault.release(contact.id, informed=args.informed)
        except InvalidInput as error:
            raise _with_informed_hint(error, args.informed) from None
        except ErasurePending as pending:  # the pending erasure completed; only its scrub did not run
            print(f"sealbook: note: {common.plain(pending, None)}", file=sys.stderr)
            changed = None
    if changed is None:
        if args.json:
            common.print_json({"id": contact.id, "deleted": True, "reason": "the pending erasure was completed"})
        else:
            print(f"Release: the pending erasure was completed; record {contact.id} deleted.")
        return common.EXIT_OK
    line = f"Release: {changed.id}"
    if changed.is_restricted:
        line += " (still restricted)"
    return _print_contact(args, changed, line)


def cmd_review(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        changed = vault.reviewed(vault.resolve(args.id).id)
    next_review = changed.review_at.isoformat() if changed.review_at else "none"
    return _print_contact(args, changed, f"Reviewed: {changed.id}; next review {next_review}")
