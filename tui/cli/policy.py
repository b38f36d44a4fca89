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
from vault.i18n import N_, _, format_date
from vault.model import Contact, EraseOutcome, EraseResult

# What an erasure turned into restriction may keep (vault.policy.KEEPABLE), in the
# order and words of the output; "none" keeps only the name, the dates and the rules.
KEEP_WORDS = {
    "org": N_("organisation"),
    "email": N_("first e-mail"),
    "phone": N_("first phone"),
    "source": N_("source"),
    "purpose": N_("purpose"),
}
KEEP_NONE = "none"


def register(subparsers: Any) -> None:
    """Add `erase`, `object`, `restrict`, `unrestrict`, `hold`, `release` and `review`."""
    p = common.command(
        subparsers,
        "erase",
        cmd_erase,
        _(
            "erase a contact (Art. 17): deleted now, or restricted while a retention duty, "
            "a legal-claims period or a hold applies"
        ),
    )
    _erase_options(p)
    p.add_argument(
        "--requested", type=common.iso_date, metavar="DATE", help=_("the day the person asked (default: today)")
    )

    p = common.command(
        subparsers,
        "object",
        cmd_object,
        _(
            "record an objection (Art. 21) and erase the contact: deleted now, or restricted while a duty or "
            "hold applies"
        ),
    )
    _erase_options(p)
    p.add_argument(
        "--on", type=common.iso_date, metavar="DATE", help=_("the day the objection was received (default: today)")
    )

    p = _record_command(
        subparsers, "restrict", cmd_restrict, _("restrict a contact (Art. 18): kept, hidden from the working list")
    )
    p.add_argument("--lift", action="store_true", help=_("lift the restriction instead (as `unrestrict`)"))
    _requested_option(p, _("the day the person asked for the restriction (Art. 18(1)(a) or (d))"))
    _informed_option(
        p,
        _(
            "the day the person was told the restriction ends (with --lift); required when they asked for it "
            "(Art. 18(3) GDPR)"
        ),
    )

    p = _record_command(subparsers, "unrestrict", cmd_unrestrict, _("lift a restriction (Art. 18)"))
    _informed_option(p, INFORMED_HELP)

    p = _record_command(subparsers, "hold", cmd_hold, _("put a legal hold on a contact: the purge leaves it alone"))
    p.add_argument("--reason", metavar="TEXT", help=_('why the hold applies, e.g. "tax audit 2025"'))
    _requested_option(
        p,
        _("the day the person asked for the restriction (Art. 18(1)(b) or (c); the record is also restricted)"),
    )

    p = _record_command(
        subparsers, "release", cmd_release, _("release a legal hold; an erasure waiting only for it completes now")
    )
    _informed_option(p, INFORMED_HELP)

    _record_command(
        subparsers, "review", cmd_review, _("mark a consent record as reviewed today: its next review date moves on")
    )


def _record_command(
    subparsers: Any, name: str, handler: Callable[[argparse.Namespace], int], text: str
) -> argparse.ArgumentParser:
    p = common.command(subparsers, name, handler, text)
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help=_("contact id or prefix"))
    return p


def _erase_options(p: argparse.ArgumentParser) -> None:
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help=_("contact id or prefix"))
    p.add_argument("--yes", action="store_true", help=_("do not ask for confirmation"))
    p.add_argument("--dry-run", action="store_true", help=_("only say what would happen"))
    p.add_argument(
        "--not-needed-for-claims",
        action="store_true",
        help=_(
            "you checked that this record is not needed for legal claims (Art. 17(3)(e) GDPR is case by "
            "case): only statutory duties (Art. 17(3)(b)) and holds keep it"
        ),
    )
    default = ",".join(sorted(policy.DEFAULT_KEEP))
    p.add_argument(
        "--keep",
        action="append",
        choices=[*sorted(policy.KEEPABLE), KEEP_NONE],
        metavar="FIELD",
        help=_(
            "when the record must be kept (restricted): what to keep besides the name, dates and rules "
            "(repeatable: {fields}; email/phone keep the first one only; "
            "'{none}' keeps nothing more; default: {default}); notes are always deleted"
        ).format(fields=", ".join(sorted(policy.KEEPABLE)), none=KEEP_NONE, default=default),
    )


def _requested_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--requested", type=common.iso_date, metavar="DATE", help=help_text)


INFORMED_HELP = N_(
    "the day the person was told the restriction ends; required when they asked for it (Art. 18(3) GDPR)"
)


def _informed_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--informed", type=common.iso_date, metavar="DATE", help=_(help_text))


def _keep(args: argparse.Namespace) -> frozenset[str]:
    chosen: list[str] | None = args.keep
    if chosen is None:
        return policy.DEFAULT_KEEP
    if KEEP_NONE in chosen:
        if len(set(chosen)) > 1:
            raise InvalidInput("keep", _("'{none}' cannot be combined with other fields").format(none=KEEP_NONE))
        return frozenset()
    return frozenset(chosen)


def kept_words(keep: frozenset[str]) -> list[str]:
    """What a restricted (erasure-pending) record keeps, in words."""
    return [_("name"), _("dates and rules"), *[_(words) for field, words in KEEP_WORDS.items() if field in keep]]


# --- erase and object -------------------------------------------------------------------


def cmd_erase(args: argparse.Namespace) -> int:
    keep = _keep(args)
    claims_needed = not args.not_needed_for_claims
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        preview = vault.erase_preview(contact.id, claims_needed=claims_needed)
        if not _confirmed(args, preview, keep, _("not a terminal; add --yes to erase")):
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
            raise InvalidInput("--on", _("the objection cannot be received in the future"))
        claims_needed = not args.not_needed_for_claims
        preview = vault.erase_preview(contact.id, claims_needed=claims_needed)
        if not _confirmed(args, preview, keep, _("not a terminal; add --yes to record the objection and erase")):
            return common.EXIT_OK
        result = _erased(partial(vault.object, contact.id, on=day, keep=keep, claims_needed=claims_needed), preview)
    if not args.json:
        if contact.emails or contact.phones:
            line = _("Objection (Art. 21) of {date} recorded; their e-mails and phones are on the suppression list.")
        else:
            line = _("Objection (Art. 21) of {date} recorded.")
        print(line.format(date=format_date(day)))
    _print_erase(result, keep, args.json, would=False, extra={"objected": day})
    return common.EXIT_OK


def _erased(erase: Callable[[], EraseResult], preview: EraseResult) -> EraseResult:
    """Run the erasure.  When only the scrub after its commit could not run (ErasurePending: the
    disk is full), the record is erased all the same, as the preview said (only a deletion
    scrubs, and the decision does not depend on the objection): say so, and that it is pending."""
    try:
        return erase()
    except ErasurePending as pending:
        print(_("sealbook: note: {message}").format(message=common.plain(pending, None)), file=sys.stderr)
        return preview


def _confirmed(args: argparse.Namespace, preview: EraseResult, keep: frozenset[str], no_terminal: str) -> bool:
    """Show what will happen; True when it should be done now (--yes or a "y" at the terminal;
    "j"/"ja" as well).  ``no_terminal`` is the refusal when there is no terminal to ask on."""
    if args.dry_run:
        _print_erase(preview, keep, args.json, would=True)
        return False
    if args.yes:
        return True
    _print_erase(preview, keep, False, would=True)
    if not sys.stdin.isatty():
        raise InvalidInput(_("confirmation"), no_terminal)
    if not common.is_yes(input(_("Proceed?") + " " + common.yes_no_hint() + " ")):
        print(_("Nothing was changed."))
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
    if would:
        head = _("Would be restricted, not deleted: {reason}.") if restricted else _("Would be deleted now: {reason}.")
    else:
        head = _("Record restricted, not deleted: {reason}.") if restricted else _("Record deleted now: {reason}.")
    print(head.format(reason=result.reason))
    if restricted:
        kept = (
            _("Would keep: {fields}; everything else deleted.")
            if would
            else _("Kept: {fields}; everything else deleted.")
        )
        print(kept.format(fields=", ".join(kept_words(keep))))
    if result.purge_from:
        print(_("It will be purged from {date}.").format(date=format_date(result.purge_from)))


# --- restriction, hold, review ----------------------------------------------------------------


def _print_contact(args: argparse.Namespace, contact: Contact, line: str) -> int:
    if args.json:
        common.print_json(common.contact_json(contact))
    else:
        print(line)
    return common.EXIT_OK


def _with_informed_hint(error: InvalidInput, informed: date | None) -> InvalidInput:
    if error.field == "informed" and informed is None:
        return InvalidInput(error.field, _("{message} with --informed DATE").format(message=error.message))
    return error


def cmd_restrict(args: argparse.Namespace) -> int:
    if args.lift:
        if args.requested is not None:
            raise InvalidInput("--requested", _("only when restricting, not with --lift"))
        return cmd_unrestrict(args)
    if args.informed is not None:
        raise InvalidInput("--informed", _("only with --lift (or `sealbook unrestrict`)"))
    with common.open_vault(args) as vault:
        changed = vault.restrict(vault.resolve(args.id).id, requested=args.requested)
    if args.requested:
        line = _("Restricted: {id} (the person asked on {date})").format(
            id=changed.id, date=format_date(args.requested)
        )
    else:
        line = _("Restricted: {id}").format(id=changed.id)
    return _print_contact(args, changed, line)


def cmd_unrestrict(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        try:
            changed = vault.unrestrict(contact.id, informed=args.informed)
        except InvalidInput as error:
            raise _with_informed_hint(error, args.informed) from None
    return _print_contact(args, changed, _("Restriction lifted: {id}").format(id=changed.id))


def cmd_hold(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        changed = vault.hold(vault.resolve(args.id).id, reason=args.reason or "", requested=args.requested)
    line = _("Hold: {id}").format(id=changed.id)
    if changed.hold_reason:
        line += f" ({common.safe(changed.hold_reason)})"
    if args.requested:
        line += _("; restricted, the person asked on {date}").format(date=format_date(args.requested))
    return _print_contact(args, changed, line)


def cmd_release(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        try:
            changed = vault.release(contact.id, informed=args.informed)
        except InvalidInput as error:
            raise _with_informed_hint(error, args.informed) from None
        except ErasurePending as pending:  # the pending erasure completed; only its scrub did not run
            print(_("sealbook: note: {message}").format(message=common.plain(pending, None)), file=sys.stderr)
            changed = None
    if changed is None:
        if args.json:
            common.print_json({"id": contact.id, "deleted": True, "reason": "the pending erasure was completed"})
        else:
            print(_("Release: the pending erasure was completed; record {id} deleted.").format(id=contact.id))
        return common.EXIT_OK
    line = _("Release: {id}").format(id=changed.id)
    if changed.is_restricted:
        line += " " + _("(still restricted)")
    return _print_contact(args, changed, line)


def cmd_review(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        changed = vault.reviewed(vault.resolve(args.id).id)
    next_review = format_date(changed.review_at) if changed.review_at else _("none")
    return _print_contact(
        args, changed, _("Reviewed: {id}; next review {date}").format(id=changed.id, date=next_review)
    )
