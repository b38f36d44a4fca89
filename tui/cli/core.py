"""Core subcommands: init, add, find, show, edit, erase, restrict, hold, release,
passwd, rules, log."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from typing import Any

from tui.cli import common
from vault.errors import InvalidInput
from vault.model import Contact, ContactDraft, EraseOutcome, LegalBasis, format_phone
from vault.retention import days_left, purge_from
from vault.service import Vault

BASIS_CHOICES = [b.value for b in LegalBasis]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def register(subparsers: Any) -> None:
    """Add the core subcommands."""
    p = common.command(subparsers, "init", cmd_init, "create a new vault")
    common.add_passphrase_option(p)
    _add_kdf_options(p)

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
    p.add_argument("--consent-withdrawn", type=_date, metavar="DATE", help="date consent was withdrawn")

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

    p = common.command(subparsers, "passwd", cmd_passwd, "change the passphrase (rewraps the key only)")
    common.add_passphrase_option(p)
    p.add_argument(
        "--new-passphrase-file",
        metavar="FILE",
        help="read the new passphrase from FILE ('-' = the next line of standard input)",
    )
    _add_kdf_options(p)

    p = common.command(subparsers, "rules", cmd_rules, "list the retention rules")
    common.add_json_option(p)

    p = common.command(subparsers, "log", cmd_log, "show the accountability log (ids and dates only)")
    common.add_json_option(p)
    p.add_argument("--action", help="only this action (e.g. purged, erased, restricted, exported)")
    p.add_argument("--since", type=_date, metavar="DATE", help="only entries from this date on")


def _add_kdf_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kdf-memory-mib", type=_positive, metavar="MIB", help="Argon2id memory (floor 64)")
    p.add_argument("--kdf-iterations", type=_positive, metavar="N", help="Argon2id passes (floor 3)")
    p.add_argument("--kdf-parallelism", type=_positive, metavar="N", help="Argon2id lanes (floor 4)")
    p.add_argument(
        "--allow-weak-kdf",
        action="store_true",
        help="accept settings below the floor (for tests and benchmarks only)",
    )


def _add_contact_fields(p: argparse.ArgumentParser, *, basis_required: bool) -> None:
    p.add_argument("--email", action="append", metavar="ADDR", help="e-mail (repeatable)")
    p.add_argument("--phone", action="append", metavar="NUMBER", help="phone (repeatable)")
    p.add_argument("--org", help="organisation")
    p.add_argument("--note", help="notes")
    p.add_argument("--source", help="where the data came from, if not from the person (Art. 14)")
    p.add_argument("--purpose", help="purpose of processing")
    p.add_argument("--basis", choices=BASIS_CHOICES, required=basis_required, help="legal basis, Art. 6(1)")
    p.add_argument("--rule", required=basis_required, help="retention rule (see `sealbook rules`)")
    p.add_argument("--trigger", type=_date, metavar="DATE", help="date the retention period starts from")
    p.add_argument("--consent-given", type=_date, metavar="DATE", help="date consent was given")


def _kdf_from_args(args: argparse.Namespace, base: Any) -> Any:
    from vault.service import KdfParams

    if args.kdf_memory_mib is None and args.kdf_iterations is None and args.kdf_parallelism is None:
        return None
    return KdfParams(
        t=args.kdf_iterations or base.t,
        m_kib=(args.kdf_memory_mib * 1024) if args.kdf_memory_mib else base.m_kib,
        p=args.kdf_parallelism or base.p,
    )


def _warn_weak(kdf: Any) -> None:
    from vault.service import kdf_is_below_floor

    if kdf is not None and kdf_is_below_floor(kdf):
        print(
            f"sealbook: WARNING: key derivation {kdf.describe()} is below the safe floor "
            "(t=3, 64 MiB, p=4); use this only for tests.",
            file=sys.stderr,
        )


# --- handlers -----------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from vault.service import KDF_DEFAULT

    kdf = _kdf_from_args(args, KDF_DEFAULT)
    path = common.vault_path(args)
    passphrase = common.read_secret(args.passphrase_file, "New passphrase: ", confirm=True)
    if kdf is None:
        print("Measuring this machine to set the key-derivation cost (about 1 s)...", file=sys.stderr)
    vault = Vault.create(path, passphrase, kdf=kdf, allow_weak_kdf=args.allow_weak_kdf, config=common.config(args))
    try:
        _warn_weak(vault.kdf)
        print(f"Created vault {path}")
        print(f"Key derivation: Argon2id {vault.kdf.describe()}")
        print("The passphrase cannot be recovered: without it, the contacts are lost.")
    finally:
        vault.close()
    return common.EXIT_OK


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
        common.print_json(_contact_json(contact))
    else:
        print(contact.id)
    return common.EXIT_OK


def cmd_find(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        found = vault.search(args.query, include_restricted=args.restricted)
        damaged = vault.damaged_ids
    if args.json:
        common.print_json([_contact_json(c) for c in found])
    else:
        for c in found:
            email = c.emails[0] if c.emails else ""
            phone = format_phone(c.phones[0]) if c.phones else ""
            mark = " [restricted]" if c.is_restricted else ""
            print(f"{c.id[:8]}  {common.safe(c.name)}  {common.safe(c.org)}  {email}  {phone}{mark}".rstrip())
        if not found:
            print("No contact matches.", file=sys.stderr)
    _report_damaged(damaged)
    return common.EXIT_OK


def _report_damaged(damaged: tuple[str, ...]) -> None:
    if damaged:
        print(
            f"sealbook: {len(damaged)} record(s) are damaged and could not be opened: {', '.join(damaged)}",
            file=sys.stderr,
        )


def cmd_show(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        contact = vault.resolve(args.id)
        if args.json:
            common.print_json(_contact_json(contact))
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
        *[("E-mail", e) for e in c.emails],
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


def _contact_json(c: Contact) -> dict[str, Any]:
    data: dict[str, Any] = common.to_jsonable(c)
    data["basis_article"] = c.basis.article
    return data


def cmd_edit(args: argparse.Namespace) -> int:
    with common.open_vault(args) as vault:
        current = vault.resolve(args.id)
        updated = vault.update(current.id, _draft_from_args(args, current.to_draft()))
        if args.json:
            common.print_json(_contact_json(updated))
        else:
            print(f"Updated {updated.id}")
    return common.EXIT_OK


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
        common.print_json(_contact_json(changed))
    else:
        print(f"{action.capitalize()}: {changed.id}")
    return common.EXIT_OK


def cmd_restrict(args: argparse.Namespace) -> int:
    return _simple(args, "unrestrict" if args.lift else "restrict")


def cmd_hold(args: argparse.Namespace) -> int:
    return _simple(args, "hold")


def cmd_release(args: argparse.Namespace) -> int:
    return _simple(args, "release")


def cmd_passwd(args: argparse.Namespace) -> int:
    with common.open_vault(args, unlock=False) as vault:
        kdf = _kdf_from_args(args, vault.kdf)
        old = common.read_secret(args.passphrase_file, "Current passphrase: ")
        new = common.read_secret(args.new_passphrase_file, "New passphrase: ", confirm=True)
        vault.change_passphrase(old, new, kdf=kdf, allow_weak_kdf=args.allow_weak_kdf)
        _warn_weak(kdf)
        print("Passphrase changed.")
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


def cmd_log(args: argparse.Namespace) -> int:
    with common.open_vault(args, unlock=False) as vault:
        entries = vault.audit_log(action=args.action, since=args.since)
    if args.json:
        common.print_json(entries)
        return common.EXIT_OK
    for e in entries:
        detail = f"  {e.detail}" if e.detail else ""
        print(f"{e.at.isoformat(timespec='seconds')}  {e.action:<14}{e.record_id or '-':<38}{e.device}{detail}")
    if not entries:
        print("No log entries.", file=sys.stderr)
    return common.EXIT_OK
