"""`sealbook export`, `sealbook import` and `sealbook request`: data-subject requests and imports."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    add_json_option,
    add_passphrase_option,
    command,
    open_vault,
    plain,
    print_json,
    safe,
)
from vault.errors import InvalidInput
from vault.model import (
    MAX_ENTRIES,
    MAX_ENTRY_BYTES,
    MAX_FILE_BYTES,
    Contact,
    LegalBasis,
    RequestStatus,
    RequestType,
    format_phone,
)

if TYPE_CHECKING:
    from vault.importers import ImportEntry, ImportReport
    from vault.requests import DataRequest

PLAINTEXT_WARNING = (
    "warning: {path} holds personal data in plaintext (files 0600, folder 0700). Hand it over through a "
    "secure channel and delete it afterwards."
)

IMPORT_LIMITS = (
    f"limits: file <= {MAX_FILE_BYTES // (1024 * 1024)} MiB, <= {MAX_ENTRIES} entries, "
    f"one entry <= {MAX_ENTRY_BYTES // 1024} KiB (photos skipped), name <= 1 KiB, notes <= 64 KiB, "
    "<= 50 e-mails and 50 phones per contact"
)


def register(subparsers: Any) -> None:
    """Add export, import and request."""
    export = command(
        subparsers,
        "export",
        run_export,
        "answer an access/portability request: export every record of one person (Art. 15, 20 GDPR)",
    )
    export.add_argument("query", nargs="?", default="", help="a name, an e-mail address or a phone number")
    export.add_argument("--name", default="", help="match this name (all words, any order)")
    export.add_argument("--email", default="", help="match this e-mail address (case-insensitive)")
    export.add_argument("--phone", default="", help="match this phone number (compared in E.164)")
    export.add_argument("--out", required=True, type=Path, metavar="DIR", help="new or empty folder to write")
    export.add_argument("--lang", choices=("de", "en"), default="en", help="language of the answer letter")
    export.add_argument("--yes", action="store_true", help="export the matching records without asking")
    export.add_argument(
        "--portability",
        action="store_true",
        help="write the Art. 20 export instead: only data the person provided, on consent or a contract "
        "(portability.json, contacts.vcf, cover letter)",
    )
    add_passphrase_option(export)
    add_json_option(export)

    imp = command(subparsers, "import", run_import, f"import contacts from vCard or CSV ({IMPORT_LIMITS})")
    imp.add_argument("file", type=Path, help="a .vcf (vCard 2.1/3.0/4.0) or .csv (Google, Outlook, generic)")
    imp.add_argument(
        "--basis",
        required=True,
        choices=[b.value for b in LegalBasis],
        help="legal basis (Art. 6(1) GDPR) for every imported contact",
    )
    imp.add_argument("--rule", required=True, help="retention rule for every imported contact (`sealbook rules`)")
    imp.add_argument("--trigger", type=_date, help="the rule's start date, YYYY-MM-DD (e.g. the invoice date)")
    imp.add_argument(
        "--consent-given",
        type=_date,
        metavar="DATE",
        help="with --basis consent (required): the day these people gave consent, YYYY-MM-DD (Art. 7(1)); "
        "never taken from the file",
    )
    imp.add_argument(
        "--consent-method",
        default="",
        metavar="TEXT",
        help="with --basis consent (required): how they gave it, e.g. 'web form', 'e-mail', 'in person'",
    )
    imp.add_argument(
        "--include-suppressed",
        action="store_true",
        help="also import people on the suppression list (they withdrew consent, objected or were erased); "
        "only when you know they agreed again",
    )
    imp.add_argument("--source", help="where the data came from (Art. 14), e.g. 'phone address book'")
    imp.add_argument("--purpose", default="", help="why the contacts are kept")
    imp.add_argument("--dry-run", action="store_true", help="only show what would be added, merged or skipped")
    imp.add_argument(
        "--skip-invalid", action="store_true", help="import the valid entries even when others have errors"
    )
    add_passphrase_option(imp)
    add_json_option(imp)

    req = command(subparsers, "request", run_request_help, "track data-subject requests (Art. 12(3): one month)")
    actions = req.add_subparsers(dest="request_action", metavar="ACTION")
    opened = actions.add_parser("open", help="record a request that came in")
    opened.add_argument("type", choices=[t.value for t in RequestType])
    opened.add_argument("records", nargs="*", help="ids (or id prefixes) of the records concerned")
    opened.add_argument("--received", type=_date, help="the day it came in, YYYY-MM-DD (default: today)")
    opened.add_argument("--note", default="", help="a note (stored encrypted)")
    opened.set_defaults(handler=run_request_open)
    listed = actions.add_parser("list", help="open requests with their deadlines; warns about overdue ones")
    listed.add_argument("--all", action="store_true", help="include closed requests")
    listed.add_argument("--notes", action="store_true", help="show the notes")
    listed.set_defaults(handler=run_request_list)
    extended = actions.add_parser(
        "extend", help="extend the deadline by two months (Art. 12(3)); tell the person why within the first month"
    )
    extended.add_argument("id", help="request id or a prefix of at least 4 characters")
    extended.add_argument("--reason", required=True, help="why the answer takes longer (stored encrypted)")
    extended.add_argument(
        "--informed",
        type=_date,
        required=True,
        metavar="DATE",
        help="when you told the person of the extension and its reasons (YYYY-MM-DD; within the first month)",
    )
    extended.set_defaults(handler=run_request_extend)
    closed = actions.add_parser("close", help="mark a request answered")
    closed.add_argument("id", help="request id or a prefix of at least 4 characters")
    closed.add_argument("--date", type=_date, help="the day it was answered (default: today)")
    closed.add_argument("--note", default="", help="a note, e.g. how it was answered (stored encrypted)")
    closed.set_defaults(handler=run_request_close)
    for parser in (opened, listed, extended, closed):
        parser.add_argument("--vault", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        add_passphrase_option(parser)
        add_json_option(parser)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date as YYYY-MM-DD") from None


# --- export -------------------------------------------------------------------------------


def _criteria(args: argparse.Namespace) -> dict[str, str]:
    criteria = {"name": args.name, "email": args.email, "phone": args.phone}
    query = args.query.strip()
    if query:
        if "@" in query:
            criteria["email"] = criteria["email"] or query
        elif query.strip("+0123456789 ()-/.") == "" and sum(ch.isdigit() for ch in query) >= 3:
            criteria["phone"] = criteria["phone"] or query
        else:
            criteria["name"] = criteria["name"] or query
    if not any(v.strip() for v in criteria.values()):
        raise InvalidInput("query", "give a name, an e-mail address or a phone number")
    return criteria


def _describe(contact: Contact) -> str:
    parts = [plain(contact.id[:8]), safe(contact.name)]
    parts += [safe(e) for e in contact.emails]
    parts += [format_phone(p) for p in contact.phones]
    if contact.is_restricted:
        parts.append("[restricted]")
    return "  ".join(parts)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise InvalidInput("confirmation", "no terminal to ask on; check the list and pass --yes")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes", "j", "ja")


def run_export(args: argparse.Namespace) -> int:
    criteria = _criteria(args)
    stream = sys.stderr if args.json else sys.stdout
    with open_vault(args) as vault:
        found = vault.find_person(**criteria)
        if found:
            print(f"{len(found)} matching record(s):", file=stream)
            for contact in found:
                print(f"  {_describe(contact)}", file=stream)
            question = f"Export these {len(found)} record(s) to {args.out}?"
        else:
            # Art. 15(1): the person is told that no data are held (negative answer).
            print("no record matches: the letter will say that the address book holds no data"
                  + (" to export under Art. 20" if args.portability else ""), file=stream)  # fmt: skip
            question = f"Write the negative answer to {args.out}?"
        if not args.yes and not _confirm(question):
            print("sealbook: nothing was exported", file=sys.stderr)
            return EXIT_ERROR
        result = vault.export_person([c.id for c in found], args.out, args.lang, portability=args.portability)
        config = vault.config
    if not config.controller_name or not config.controller_address:
        print(
            "warning: controller name/address are not configured ([controller] in config.toml); "
            "the letter says so instead",
            file=sys.stderr,
        )
    if not args.portability and config.other_systems:
        print(
            "note: the letter covers the address book and lists your other systems ([controller] other_systems); "
            "check them for this person too",
            file=sys.stderr,
        )
    print(PLAINTEXT_WARNING.format(path=result.out_dir), file=sys.stderr)
    if args.json:
        print_json({"out_dir": str(result.out_dir), "files": result.files, "record_ids": result.record_ids})
    elif args.portability:
        print(f"wrote the Art. 20 export of {len(result.record_ids)} record(s) to {result.out_dir}: "
              f"{', '.join(result.files)}")  # fmt: skip
    elif not result.record_ids:
        print(f"wrote the negative answer to {result.out_dir}: {', '.join(result.files)}")
    else:
        print(f"exported {len(result.record_ids)} record(s) to {result.out_dir}: {', '.join(result.files)}")
    return EXIT_OK


# --- import ----------------------------------------------------------------------------------


def _entry_line(entry: ImportEntry) -> str:
    parts = [f"  {entry.outcome.value:<8}", f"#{entry.index} (line {entry.line})"]
    if entry.name:
        parts.append(safe(entry.name))
    if entry.message:
        parts.append(f"- {safe(entry.message)}")
    return " ".join(parts)


def _print_report(report: ImportReport) -> None:
    from vault.importers import Outcome

    mode = "preview (dry run)" if report.dry_run else ("imported" if report.committed else "NOT imported")
    print(f"{safe(report.file_name)} ({report.format}): {mode}")
    listed = report.suppressed
    for entry in report.entries:
        if entry.outcome is not Outcome.SUPPRESSED:
            print(_entry_line(entry))
    if report.ignored_columns:
        print(f"  columns not imported: {', '.join(safe(c) for c in report.ignored_columns)}")
    if listed:
        print(
            f"on the suppression list, left out ({len(listed)}): they withdrew consent, objected or were erased; "
            "add them only if they agreed again (--include-suppressed):"
        )
        for entry in listed:
            print(_entry_line(entry))
    counts = f"{report.added} added, {report.merged} merged, {report.skipped} skipped, {len(report.errors)} error(s)"
    print(counts + (f", {len(listed)} on the suppression list" if listed else ""))


def run_import(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        report = vault.import_file(
            args.file,
            LegalBasis(args.basis),
            args.rule,
            args.trigger,
            args.dry_run,
            skip_invalid=args.skip_invalid,
            source=args.source,
            purpose=args.purpose,
            consent_given=args.consent_given,
            consent_method=args.consent_method,
            include_suppressed=args.include_suppressed,
        )
    if args.json:
        print_json(
            {
                "file": report.file_name,
                "format": report.format,
                "dry_run": report.dry_run,
                "committed": report.committed,
                "added": report.added,
                "merged": report.merged,
                "skipped": report.skipped,
                "errors": len(report.errors),
                "suppressed": len(report.suppressed),
                "entries": report.entries,
                "ignored_columns": report.ignored_columns,
            }
        )
    else:
        _print_report(report)
    if report.has_errors and not report.dry_run and not report.committed:
        print(
            "sealbook: some entries have errors; nothing was imported. Fix the file, or pass --skip-invalid "
            "to import the rest.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


# --- requests ----------------------------------------------------------------------------------


def run_request_help(args: argparse.Namespace) -> int:
    print("usage: sealbook request {open,list,extend,close} ...; see `sealbook request --help`", file=sys.stderr)
    return 2


def _request_line(request: DataRequest, today: date, *, notes: bool) -> str:
    status = request.status(today)
    if status is RequestStatus.CLOSED:
        when = f"closed {request.closed.isoformat() if request.closed else ''}"
    elif status is RequestStatus.OVERDUE:
        when = f"OVERDUE by {-request.days_left(today)} day(s)"
    else:
        when = f"{request.days_left(today)} day(s) left"
    line = (
        f"{plain(request.id[:8])}  {request.type.value:<13} received {request.received.isoformat()}  "
        f"deadline {request.deadline.isoformat()}  {when}  records: {len(request.record_ids)}"
    )
    if request.informed:
        line += f"  extended, person told {request.informed.isoformat()}"
    if notes and request.notes:
        line += "\n    " + safe(request.notes).replace("\n", "\n    ")
    return line


def _request_json(request: DataRequest, today: date) -> dict[str, Any]:
    return {
        "id": request.id,
        "type": request.type.value,
        "received": request.received.isoformat(),
        "deadline": request.deadline.isoformat(),
        "closed": request.closed.isoformat() if request.closed else None,
        "status": request.status(today).value,
        "extended": request.is_extended,
        "informed": request.informed.isoformat() if request.informed else None,
        "days_left": request.days_left(today),
        "record_ids": list(request.record_ids),
        "notes": request.notes,
    }


def run_request_open(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        ids = [vault.resolve(prefix).id for prefix in args.records]
        request = vault.open_request(args.type, ids, received=args.received, notes=args.note)
        today = vault.today()
    if args.json:
        print_json(_request_json(request, today))
    else:
        print(f"opened request {plain(request.id)} ({request.type.article}); answer by {request.deadline.isoformat()}")
    return EXIT_OK


def run_request_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        found = vault.list_requests(include_closed=args.all)
        today = vault.today()
    overdue = [r for r in found if r.is_overdue(today)]
    if args.json:
        print_json([_request_json(r, today) for r in found])
    elif not found:
        print("no open requests" if not args.all else "no requests")
    else:
        for request in found:
            print(_request_line(request, today, notes=args.notes))
    if overdue:
        print(
            f"warning: {len(overdue)} request(s) overdue: the one-month deadline of Art. 12(3) GDPR has passed",
            file=sys.stderr,
        )
    return EXIT_OK


def run_request_extend(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        request = vault.extend_request(args.id, reason=args.reason, informed=args.informed)
        today = vault.today()
    if args.json:
        print_json(_request_json(request, today))
    else:
        print(
            f"extended request {plain(request.id)}; answer by {request.deadline.isoformat()} (the original "
            f"deadline plus two months). Recorded: the person was told on {args.informed.isoformat()} "
            "(Art. 12(3) GDPR)."
        )
    return EXIT_OK


def run_request_close(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        request = vault.close_request(args.id, closed=args.date, notes=args.note)
        today = vault.today()
    if args.json:
        print_json(_request_json(request, today))
    else:
        late = " (after the deadline)" if request.closed and request.closed > request.deadline else ""
        print(f"closed request {plain(request.id)} on {request.closed.isoformat() if request.closed else ''}{late}")
    return EXIT_OK
