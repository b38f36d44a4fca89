"""The record book: `sealbook add`, `find`, `show`, `edit` and `rules`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from tui.cli import common
from vault.errors import InvalidInput, SuppressedPerson
from vault.model import Contact, ContactDraft, Duty, LegalBasis, format_phone
from vault.retention import days_left, purge_from

if TYPE_CHECKING:
    from vault.service import Vault

BASIS_CHOICES = [b.value for b in LegalBasis]


def register(subparsers: Any) -> None:
    """Add `add`, `find`, `show`, `edit` and `rules`."""
    p = common.command(subparsers, "add", cmd_add, "add a contact and print its id")
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--name", required=True, help="full name")
    _add_contact_fields(p, basis_required=True)
    p.add_argument(
        "--anyway",
        action="store_true",
        help="add the person even though they are on the suppression list (they withdrew consent, "
        "objected or had their data erased); only when you decided they may be added again",
    )

    p = common.command(subparsers, "find", cmd_find, "search names, e-mails, phones, organisations")
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("query", help="text or phone digits; case- and accent-insensitive")
    p.add_argument("--restricted", action="store_true", help="include restricted records")

    p = common.command(subparsers, "show", cmd_show, "show every field of one contact")
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help="contact id (or an unambiguous prefix of at least 4 characters)")

    p = common.command(subparsers, "edit", cmd_edit, "change fields of a contact (others stay)")
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help="contact id or prefix")
    p.add_argument("--name", help="full name")
    _add_contact_fields(p, basis_required=False)
    p.add_argument("--no-duties", action="store_true", help="remove every further (rule, date) pair given with --duty")
    p.add_argument("--consent-withdrawn", type=common.iso_date, metavar="DATE", help="date consent was withdrawn")

    p = common.command(subparsers, "rules", cmd_rules, "list the retention rules")
    common.add_json_option(p)


def _add_contact_fields(p: argparse.ArgumentParser, *, basis_required: bool) -> None:
    p.add_argument("--email", action="append", metavar="ADDR", help="e-mail (repeatable)")
    p.add_argument("--phone", action="append", metavar="NUMBER", help="phone (repeatable)")
    p.add_argument("--org", help="organisation")
    p.add_argument("--note", help="notes")
    p.add_argument("--source", help="where the data came from, if not from the person (Art. 14)")
    p.add_argument("--purpose", help="purpose of processing")
    p.add_argument("--basis", choices=BASIS_CHOICES, required=basis_required, help="legal basis, Art. 6(1)")
    p.add_argument("--rule", required=basis_required, help="retention rule (see `sealbook rules`)")
    p.add_argument("--trigger", type=common.iso_date, metavar="DATE", help="date the retention period starts from")
    p.add_argument(
        "--consent-given",
        type=common.iso_date,
        metavar="DATE",
        help="date consent was given; required with --basis consent (Art. 7(1) GDPR)",
    )
    p.add_argument(
        "--consent-method",
        metavar="TEXT",
        help="how consent was given (form, e-mail, in person, ...); required with --basis consent (Art. 7(1) GDPR)",
    )
    p.add_argument(
        "--duty",
        action="append",
        type=duty_arg,
        metavar="RULE:DATE",
        help="a further retention rule and its trigger date, e.g. invoices-8y:2025-03-10 (repeatable; "
        "the record is kept until the latest end)" + ("" if basis_required else "; replaces the list"),
    )


def duty_arg(text: str) -> Duty:
    """An argparse type: RULE:DATE, a further (rule, trigger) pair."""
    rule, sep, day = text.rpartition(":")
    rule = rule.strip()
    if not sep or not rule:
        raise argparse.ArgumentTypeError(f"not RULE:DATE (e.g. invoices-8y:2025-03-10): {text!r}")
    try:
        trigger = date.fromisoformat(day.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) after the colon: {text!r}") from None
    return Duty(rule, trigger)


def _draft_from_args(args: argparse.Namespace, base: ContactDraft | None) -> ContactDraft:
    values: dict[str, Any] = {}
    if args.name is not None:
        values["name"] = args.name
    if args.email is not None:
        values["emails"] = tuple(args.email)
    if args.phone is not None:
        values["phones"] = tuple(args.phone)
    for arg, field in (
        ("org", "org"),
        ("note", "notes"),
        ("source", "source"),
        ("purpose", "purpose"),
        ("rule", "rule"),
        ("trigger", "trigger"),
        ("consent_given", "consent_given"),
        ("consent_method", "consent_method"),
    ):
        if getattr(args, arg) is not None:
            values[field] = getattr(args, arg)
    if getattr(args, "consent_withdrawn", None) is not None:
        values["consent_withdrawn"] = args.consent_withdrawn
    if getattr(args, "no_duties", False):
        if args.duty:
            raise InvalidInput("duties", "give either --duty or --no-duties, not both")
        values["duties"] = ()
    elif args.duty is not None:
        values["duties"] = tuple(args.duty)
    if args.basis is not None:
        values["basis"] = LegalBasis(args.basis)
    if base is None:
        return ContactDraft(**values)
    return replace(base, **values)


def _consent_hint(error: InvalidInput, draft: ContactDraft) -> InvalidInput:
    """The core's refusal of an unprovable consent, with the options that fix it."""
    missing = [
        flag
        for flag, value in (
            ("--consent-given DATE", draft.consent_given),
            ("--consent-method TEXT", draft.consent_method),
        )
        if not value
    ]
    if error.field != "consent" or draft.basis is not LegalBasis.CONSENT or not missing:
        return error
    return InvalidInput(error.field, f"{error.message}; give {' and '.join(missing)}")


def cmd_add(args: argparse.Namespace) -> int:
    draft = _draft_from_args(args, None)
    with common.open_vault(args) as vault:
        try:
            contact = vault.add(draft, allow_suppressed=args.anyway)
        except InvalidInput as error:
            raise _consent_hint(error, draft) from None
        except SuppressedPerson as error:
            print(f"sealbook: {common.plain(error, None)}", file=sys.stderr)
            print("sealbook: add --anyway to add them again (only if you decided they may be)", file=sys.stderr)
            return common.EXIT_SUPPRESSED
    if args.json:
        common.print_json(common.contact_json(contact))
    else:
        print(contact.id)
    return common.EXIT_OK


def cmd_find(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        found = vault.search(args.query, include_restricted=args.restricted)
        damaged = vault.damaged_ids
    if args.json:
        common.print_json([common.contact_json(c) for c in found])
    else:
        for c in found:
            email = common.safe(c.emails[0]) if c.emails else ""
            phone = format_phone(c.phones[0]) if c.phones else ""
            mark = " [restricted]" if c.is_restricted else ""
            line = f"{common.plain(c.id[:8])}  {common.safe(c.name)}  {common.safe(c.org)}  {email}  {phone}{mark}"
            print(line.rstrip())
        if not found:
            print("No contact matches.", file=sys.stderr)
    _report_damaged(damaged)
    return common.EXIT_OK


def _report_damaged(damaged: tuple[str, ...]) -> None:
    # A damaged record's id is whatever the file says: print it escaped.
    if damaged:
        print(
            f"sealbook: {len(damaged)} record(s) are damaged and could not be opened: "
            + ", ".join(common.plain(record_id) for record_id in damaged),
            file=sys.stderr,
        )


def cmd_show(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        if args.json:
            common.print_json(common.contact_json(contact))
        else:
            print(describe(vault, contact))
    return common.EXIT_OK


def describe(vault: Vault, c: Contact) -> str:
    """Every field of a contact, for people."""
    today = vault.today()
    rule_label = vault.rules.get(c.rule).label if c.rule in vault.rules else c.rule
    left = days_left(c.retention_end, today)
    end = (
        f"{c.retention_end.isoformat()} ({left} days left; purge from {purge_from(c.retention_end)})"
        if c.retention_end
        else "open-ended (until withdrawn or purpose ends)"
    )
    lines = [
        ("Id", c.id),
        ("Name", common.safe(c.name)),
        ("Organisation", common.safe(c.org)),
        *[("E-mail", common.safe(e)) for e in c.emails],
        *[("Phone", format_phone(p)) for p in c.phones],
        ("Legal basis", c.basis.describe()),
        ("Purpose", common.safe(c.purpose)),
        ("Source", common.safe(c.source)),
        ("Retention rule", rule_label),
        ("Trigger date", c.trigger.isoformat() if c.trigger else ""),
        ("Retention end", end),
        ("Review", c.review_at.isoformat() if c.review_at else ""),
        *[("Further rule", _duty_line(vault, d)) for d in c.duties],
        ("State", c.state.value),
        ("Legal hold", _hold_line(c)),
        ("Consent given", _iso(c.consent_given)),
        ("Consent method", common.safe(c.consent_method)),
        ("Consent withdrawn", _iso(c.consent_withdrawn)),
        ("Reviewed", _iso(c.reviewed)),
        ("Erasure requested", _iso(c.erasure_requested)),
        ("Objected", _iso(c.objected)),
        ("Restriction requested", _iso(c.restriction_requested)),
        ("Created", c.created.isoformat(timespec="seconds")),
        ("Updated", c.updated.isoformat(timespec="seconds")),
    ]
    out = [f"{label + ':':<23}{value}" for label, value in lines if value]
    if c.notes:
        out.append("Notes:")
        out.extend("  " + line for line in common.safe(c.notes).splitlines())
    return "\n".join(out)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _hold_line(c: Contact) -> str:
    if not c.hold:
        return "no"
    return f"yes ({common.safe(c.hold_reason)})" if c.hold_reason else "yes"


def _duty_line(vault: Vault, duty: Duty) -> str:
    """A further (rule, trigger) pair: the rule, its date and the day it ends."""
    if duty.rule not in vault.rules:
        return f"{common.plain(duty.rule)} from {duty.trigger.isoformat()} (unknown rule)"
    end, _ = vault.compute_dates(duty.rule, duty.trigger)
    until = f", until {end.isoformat()}" if end else ""
    return f"{duty.rule} from {duty.trigger.isoformat()}{until}"


def cmd_edit(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        current = vault.resolve(args.id)
        draft = _draft_from_args(args, current.to_draft())
        try:
            updated = vault.update(current.id, draft)
        except InvalidInput as error:
            raise _consent_hint(error, draft) from None
        if args.json:
            common.print_json(common.contact_json(updated))
        else:
            print(f"Updated {updated.id}")
            if current.consent_withdrawn is None and updated.consent_withdrawn is not None:
                print(_withdrawal_line(updated))
    return common.EXIT_OK


def _withdrawal_line(c: Contact) -> str:
    """What a consent withdrawal (Art. 7(3)) left of the record."""
    if c.is_consent_proof:
        return f"Consent withdrawn: only a restricted proof of it is kept, until {_iso(c.retention_end)}."
    if c.hold and c.erasure_requested:
        return "Consent withdrawn: restricted and minimised until the legal hold is released."
    if c.erasure_requested:
        return f"Consent withdrawn: restricted and minimised until the retention duty ends ({_iso(c.retention_end)})."
    return "Consent withdrawn."


def cmd_rules(args: argparse.Namespace) -> int:
    rules = list(common.config(args).rulebook())
    if args.json:
        common.print_json(rules)
        return common.EXIT_OK
    for rule in rules:
        print(f"{rule.key:<16}{rule.label}")
        if rule.reference:
            print(f"{'':<16}{rule.reference}")
    return common.EXIT_OK
