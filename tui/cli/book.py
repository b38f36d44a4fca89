"""The record book: `sealbook add`, `find`, `show`, `edit` and `rules`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from tui.cli import common
from vault.model import Contact, ContactDraft, LegalBasis, format_phone
from vault.retention import days_left, purge_from
from vault.service import Vault

BASIS_CHOICES = [b.value for b in LegalBasis]


def register(subparsers: Any) -> None:
    """Add `add`, `find`, `show`, `edit` and `rules`."""
    p = common.command(subparsers, "add", cmd_add, "add a contact and print its id")
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--name", required=True, help="full name")
    _add_contact_fields(p, basis_required=True)

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
    p.add_argument("--consent-given", type=common.iso_date, metavar="DATE", help="date consent was given")


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
    ):
        if getattr(args, arg) is not None:
            values[field] = getattr(args, arg)
    if getattr(args, "consent_withdrawn", None) is not None:
        values["consent_withdrawn"] = args.consent_withdrawn
    if args.basis is not None:
        values["basis"] = LegalBasis(args.basis)
    if base is None:
        return ContactDraft(**values)
    return replace(base, **values)


def cmd_add(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        contact = vault.add(_draft_from_args(args, None))
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
        ("State", c.state.value),
        ("Legal hold", "yes" if c.hold else "no"),
        ("Consent given", c.consent_given.isoformat() if c.consent_given else ""),
        ("Consent withdrawn", c.consent_withdrawn.isoformat() if c.consent_withdrawn else ""),
        ("Created", c.created.isoformat(timespec="seconds")),
        ("Updated", c.updated.isoformat(timespec="seconds")),
    ]
    out = [f"{label + ':':<19}{value}" for label, value in lines if value]
    if c.notes:
        out.append("Notes:")
        out.extend("  " + line for line in common.safe(c.notes).splitlines())
    return "\n".join(out)


def cmd_edit(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        current = vault.resolve(args.id)
        updated = vault.update(current.id, _draft_from_args(args, current.to_draft()))
        if args.json:
            common.print_json(common.contact_json(updated))
        else:
            print(f"Updated {updated.id}")
    return common.EXIT_OK


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
