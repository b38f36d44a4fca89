"""The record book: `sealbook add`, `find`, `show`, `edit` and `rules`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tui.cli import common
from vault import retention
from vault.errors import InvalidInput, SuppressedPerson
from vault.i18n import _, format_date, format_datetime, language, ngettext
from vault.model import Contact, ContactDraft, Duty, LegalBasis, format_phone
from vault.retention import days_left, purge_from

if TYPE_CHECKING:
    from vault.config import Config
    from vault.service import Vault

BASIS_CHOICES = [b.value for b in LegalBasis]


def register(subparsers: Any) -> None:
    """Add `add`, `find`, `show`, `edit` and `rules`."""
    p = common.command(subparsers, "add", cmd_add, _("add a contact and print its id"))
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("--name", required=True, help=_("full name"))
    _add_contact_fields(p, basis_required=True)
    p.add_argument(
        "--anyway",
        action="store_true",
        help=_(
            "add the person even though they are on the suppression list (they withdrew consent, "
            "objected or had their data erased); only when you decided they may be added again"
        ),
    )

    p = common.command(subparsers, "find", cmd_find, _("search names, e-mails, phones, organisations"))
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("query", help=_("text or phone digits; case- and accent-insensitive"))
    p.add_argument("--restricted", action="store_true", help=_("include restricted records"))

    p = common.command(subparsers, "show", cmd_show, _("show every field of one contact"))
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help=_("contact id (or an unambiguous prefix of at least 4 characters)"))

    p = common.command(subparsers, "edit", cmd_edit, _("change fields of a contact (others stay)"))
    common.add_passphrase_option(p)
    common.add_json_option(p)
    p.add_argument("id", help=_("contact id or prefix"))
    p.add_argument("--name", help=_("full name"))
    _add_contact_fields(p, basis_required=False)
    p.add_argument(
        "--no-duties", action="store_true", help=_("remove every further (rule, date) pair given with --duty")
    )
    p.add_argument(
        "--anyway",
        action="store_true",
        help=_(
            "save an e-mail or phone that belongs to a person on the suppression list (they withdrew "
            "consent, objected or had their data erased); only when you decided they may be added again"
        ),
    )
    p.add_argument("--consent-withdrawn", type=common.iso_date, metavar="DATE", help=_("date consent was withdrawn"))

    p = common.command(subparsers, "rules", cmd_rules, _("list the retention rules"))
    common.add_json_option(p)


def _add_contact_fields(p: argparse.ArgumentParser, *, basis_required: bool) -> None:
    p.add_argument("--email", action="append", metavar="ADDR", help=_("e-mail (repeatable)"))
    p.add_argument("--phone", action="append", metavar="NUMBER", help=_("phone (repeatable)"))
    p.add_argument("--org", help=_("organisation"))
    p.add_argument("--note", help=_("notes"))
    p.add_argument("--source", help=_("where the data came from, if not from the person (Art. 14)"))
    p.add_argument("--purpose", help=_("purpose of processing"))
    p.add_argument("--basis", choices=BASIS_CHOICES, required=basis_required, help=_("legal basis, Art. 6(1)"))
    p.add_argument("--rule", required=basis_required, help=_("retention rule (see `sealbook rules`)"))
    p.add_argument("--trigger", type=common.iso_date, metavar="DATE", help=_("date the retention period starts from"))
    p.add_argument(
        "--consent-given",
        type=common.iso_date,
        metavar="DATE",
        help=_("date consent was given; required with --basis consent (Art. 7(1) GDPR)"),
    )
    p.add_argument(
        "--consent-method",
        metavar="TEXT",
        help=_("how consent was given (form, e-mail, in person, ...); required with --basis consent (Art. 7(1) GDPR)"),
    )
    p.add_argument(
        "--duty",
        action="append",
        type=duty_arg,
        metavar="RULE:DATE",
        help=(
            _(
                "a further retention rule and its trigger date, e.g. invoices-8y:2025-03-10 (repeatable; "
                "the record is kept until the latest end)"
            )
            if basis_required
            else _(
                "a further retention rule and its trigger date, e.g. invoices-8y:2025-03-10 (repeatable; "
                "the record is kept until the latest end); replaces the list"
            )
        ),
    )


def duty_arg(text: str) -> Duty:
    """An argparse type: RULE:DATE, a further (rule, trigger) pair."""
    rule, sep, day = text.rpartition(":")
    rule = rule.strip()
    if not sep or not rule:
        raise argparse.ArgumentTypeError(_("not RULE:DATE (e.g. invoices-8y:2025-03-10): {text!r}").format(text=text))
    try:
        trigger = date.fromisoformat(day.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a date (YYYY-MM-DD) after the colon: {text!r}").format(text=text)
        ) from None
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
            raise InvalidInput(_("duties"), _("give either --duty or --no-duties, not both"))
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
    hint = _("{message}; give {options}").format(message=error.message, options=_(" and ").join(missing))
    return InvalidInput(error.field, hint)


def cmd_add(args: argparse.Namespace) -> int:
    draft = _draft_from_args(args, None)
    with common.open_vault(args) as vault:
        try:
            contact = vault.add(draft, allow_suppressed=args.anyway)
        except InvalidInput as error:
            raise _consent_hint(error, draft) from None
        except SuppressedPerson as error:
            print(f"sealbook: {common.plain(error, None)}", file=sys.stderr)
            print(_("sealbook: add --anyway to add them again (only if you decided they may be)"), file=sys.stderr)
            return common.EXIT_SUPPRESSED
    if args.json:
        common.print_json(common.contact_json(contact))
    else:
        print(contact.id)
    return common.EXIT_OK


def cmd_find(args: argparse.Namespace) -> int:
    # The one-shot read path first (issue 15): no ORM, no Alembic, no record book in memory.  It
    # answers only for a vault as the last write left it, else the facade does (repairs, reports).
    from vault.lookup import Lookup

    settings = common.config(args)
    secret: str | None = None
    lookup = Lookup.open(common.vault_path(args))
    if lookup is not None:
        with lookup:
            secret = common.read_secret(getattr(args, "passphrase_file", None), _("Passphrase: "))
            answer = lookup.find(
                secret, args.query, include_restricted=args.restricted, keep_years=settings.log_retention_years
            )
        if answer is not None:
            _kdf_note(answer.kdf_below_floor, answer.kdf.describe())
            return _print_found(args, answer.contacts, answer.damaged_ids)
    with _unlocked(args, settings, secret) as vault:
        found = vault.search(args.query, include_restricted=args.restricted)
        damaged = vault.damaged_ids
    return _print_found(args, found, damaged)


def _unlocked(args: argparse.Namespace, settings: Config, secret: str | None) -> Vault:
    """common.open_vault, with the passphrase already read (once: it may come from stdin)."""
    if secret is None:
        return common.open_vault(args)
    from vault.service import Vault

    vault = Vault(common.vault_path(args), config=settings)
    try:
        vault.unlock(secret)
    except BaseException:
        vault.close()
        raise
    _kdf_note(vault.kdf_below_floor, vault.kdf.describe())
    return vault


def _kdf_note(below_floor: bool, kdf: str) -> None:
    """common.open_vault's note on a key derivation below the safe floor."""
    if below_floor:
        print(
            _(
                "sealbook: note: this vault's key derivation ({kdf}) is below the safe floor; "
                "raise it with `sealbook passwd --kdf-memory-mib 64 --kdf-iterations 3 --kdf-parallelism 4` "
                "or more."
            ).format(kdf=kdf),
            file=sys.stderr,
        )


def _print_found(args: argparse.Namespace, found: list[Contact], damaged: tuple[str, ...]) -> int:
    if args.json:
        common.print_json([common.contact_json(c) for c in found])
    else:
        for c in found:
            email = common.safe(c.emails[0]) if c.emails else ""
            phone = format_phone(c.phones[0]) if c.phones else ""
            mark = " " + _("[restricted]") if c.is_restricted else ""
            line = f"{common.plain(c.id[:8])}  {common.safe(c.name)}  {common.safe(c.org)}  {email}  {phone}{mark}"
            print(line.rstrip())
        if not found:
            print(_("No contact matches."), file=sys.stderr)
    _report_damaged(damaged)
    return common.EXIT_OK


def _report_damaged(damaged: tuple[str, ...]) -> None:
    # A damaged record's id is whatever the file says: print it escaped.
    if damaged:
        print(
            ngettext(
                "sealbook: {count} record is damaged and could not be opened: {ids}",
                "sealbook: {count} records are damaged and could not be opened: {ids}",
                len(damaged),
            ).format(count=len(damaged), ids=", ".join(common.plain(record_id) for record_id in damaged)),
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
    rule_label = retention.label(vault.rules.get(c.rule)) if c.rule in vault.rules else c.rule
    left = days_left(c.retention_end, today)
    end = (
        ngettext(
            "{date} ({days} day left; purge from {purge})",
            "{date} ({days} days left; purge from {purge})",
            left or 0,
        ).format(date=_iso(c.retention_end), days=left, purge=_iso(purge_from(c.retention_end)))
        if c.retention_end
        else _("open-ended (until withdrawn or purpose ends)")
    )
    lines = [
        (_("Id"), c.id),
        (_("Name"), common.safe(c.name)),
        (_("Organisation"), common.safe(c.org)),
        *[(_("E-mail"), common.safe(e)) for e in c.emails],
        *[(_("Phone"), format_phone(p)) for p in c.phones],
        (_("Legal basis"), c.basis.describe(language())),
        (_("Purpose"), common.safe(c.purpose)),
        (_("Source"), common.safe(c.source)),
        (_("Retention rule"), rule_label),
        (_("Trigger date"), _iso(c.trigger)),
        (_("Retention end"), end),
        (_("Review"), _iso(c.review_at)),
        *[(_("Further rule"), _duty_line(vault, d)) for d in c.duties],
        (_("State"), c.state.label),
        (_("Legal hold"), _hold_line(c)),
        (_("Consent given"), _iso(c.consent_given)),
        (_("Consent method"), common.safe(c.consent_method)),
        (_("Consent withdrawn"), _iso(c.consent_withdrawn)),
        (_("Reviewed"), _iso(c.reviewed)),
        (_("Erasure requested"), _iso(c.erasure_requested)),
        (_("Objected"), _iso(c.objected)),
        (_("Restriction requested"), _iso(c.restriction_requested)),
        (_("Created"), _stamp(c.created)),
        (_("Updated"), _stamp(c.updated)),
    ]
    width = max(23, *(len(label) + 2 for label, value in lines if value))
    out = [f"{label + ':':<{width}}{value}" for label, value in lines if value]
    if c.notes:
        out.append(_("Notes:"))
        out.extend("  " + line for line in common.safe(c.notes).splitlines())
    return "\n".join(out)


def _iso(day: date | None) -> str:
    """A date for people: 30.11.2026 in German, 2026-11-30 in English (JSON stays ISO)."""
    return format_date(day) if day else ""


def _stamp(moment: datetime) -> str:
    """A moment for people: ISO in English (as before), local 30.11.2026 14:05:09 in German."""
    if language() == "en":
        return moment.isoformat(timespec="seconds")
    local = moment.astimezone() if moment.tzinfo else moment
    return f"{format_datetime(local)}:{local.second:02d}"


def _hold_line(c: Contact) -> str:
    if not c.hold:
        return _("no")
    return _("yes ({reason})").format(reason=common.safe(c.hold_reason)) if c.hold_reason else _("yes")


def _duty_line(vault: Vault, duty: Duty) -> str:
    """A further (rule, trigger) pair: the rule, its date and the day it ends."""
    if duty.rule not in vault.rules:
        return _("{rule} from {date} (unknown rule)").format(rule=common.plain(duty.rule), date=_iso(duty.trigger))
    end, _review = vault.compute_dates(duty.rule, duty.trigger)
    if end:
        return _("{rule} from {date}, until {end}").format(rule=duty.rule, date=_iso(duty.trigger), end=_iso(end))
    return _("{rule} from {date}").format(rule=duty.rule, date=_iso(duty.trigger))


def cmd_edit(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        current = vault.resolve(args.id)
        draft = _draft_from_args(args, current.to_draft())
        try:
            updated = vault.update(current.id, draft, allow_suppressed=args.anyway)
        except InvalidInput as error:
            raise _consent_hint(error, draft) from None
        except SuppressedPerson as error:
            print(f"sealbook: {common.plain(error, None)}", file=sys.stderr)
            hint = _("sealbook: edit --anyway to save it (only if you decided they may be added again)")
            print(hint, file=sys.stderr)
            return common.EXIT_SUPPRESSED
        if args.json:
            common.print_json(common.contact_json(updated))
        else:
            print(_("Updated {id}").format(id=updated.id))
            if current.consent_withdrawn is None and updated.consent_withdrawn is not None:
                print(_withdrawal_line(updated))
    return common.EXIT_OK


def _withdrawal_line(c: Contact) -> str:
    """What a consent withdrawal (Art. 7(3)) left of the record."""
    if c.is_consent_proof:
        return _("Consent withdrawn: only a restricted proof of it is kept, until {date}.").format(
            date=_iso(c.retention_end)
        )
    if c.hold and c.erasure_requested:
        return _("Consent withdrawn: restricted and minimised until the legal hold is released.")
    if c.erasure_requested:
        return _("Consent withdrawn: restricted and minimised until the retention duty ends ({date}).").format(
            date=_iso(c.retention_end)
        )
    return _("Consent withdrawn.")


def cmd_rules(args: argparse.Namespace) -> int:
    rules = list(common.config(args).rulebook())
    if args.json:
        common.print_json(rules)
        return common.EXIT_OK
    for rule in rules:
        print(f"{rule.key:<16}{retention.label(rule)}")
        if rule.reference:
            print(f"{'':<16}{retention.reference(rule)}")
    return common.EXIT_OK
