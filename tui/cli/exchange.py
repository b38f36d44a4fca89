"""`sealbook export`, `sealbook import` and `sealbook request`: data-subject requests and imports."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.cli import common
from tui.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    add_json_option,
    add_lang_option,
    add_passphrase_option,
    command,
    is_yes,
    open_vault,
    plain,
    print_json,
    safe,
    yes_no_hint,
)
from tui.cli.requests import run_request_close, run_request_extend, run_request_help, run_request_list, run_request_open
from vault.errors import InvalidInput
from vault.i18n import N_, _, format_number, language, ngettext
from vault.model import (
    MAX_ENTRIES,
    MAX_ENTRY_BYTES,
    MAX_FILE_BYTES,
    Contact,
    LegalBasis,
    RequestType,
    format_phone,
)

if TYPE_CHECKING:
    from vault.importers import ImportEntry, ImportReport

PLAINTEXT_WARNING = N_(
    "warning: {path} holds personal data in plaintext (files 0600, folder 0700). Hand it over through a "
    "secure channel and delete it afterwards."
)

IMPORT_LIMITS = N_(
    "limits: file <= {file_mib} MiB, <= {entries} entries, "
    "one entry <= {entry_kib} KiB (photos skipped), name <= 1 KiB, notes <= 64 KiB, "
    "<= 50 e-mails and 50 phones per contact"
)


def import_limits() -> str:
    return _(IMPORT_LIMITS).format(
        file_mib=MAX_FILE_BYTES // (1024 * 1024),
        entries=MAX_ENTRIES if language() == "en" else format_number(MAX_ENTRIES),
        entry_kib=MAX_ENTRY_BYTES // 1024,
    )


def register(subparsers: Any) -> None:
    """Add export, import and request."""
    export = command(
        subparsers,
        "export",
        run_export,
        _("answer an access/portability request: export every record of one person (Art. 15, 20 GDPR)"),
        lang_option=False,
    )
    export.add_argument("query", nargs="?", default="", help=_("a name, an e-mail address or a phone number"))
    export.add_argument("--name", default="", help=_("match this name (all words, any order)"))
    export.add_argument("--email", default="", help=_("match this e-mail address (case-insensitive)"))
    export.add_argument("--phone", default="", help=_("match this phone number (compared in E.164)"))
    export.add_argument("--out", required=True, type=Path, metavar="DIR", help=_("new or empty folder to write"))
    export.add_argument(
        "--lang",
        choices=("de", "en"),
        default=None,
        help=_("language of the answer letter (default: the language of this run)"),
    )
    export.add_argument("--yes", action="store_true", help=_("export the matching records without asking"))
    export.add_argument(
        "--portability",
        action="store_true",
        help=_(
            "write the Art. 20 export instead: only data the person provided, on consent or a contract "
            "(portability.json, contacts.vcf, cover letter)"
        ),
    )
    add_passphrase_option(export)
    add_json_option(export)

    imp = command(
        subparsers,
        "import",
        run_import,
        _("import contacts from vCard or CSV ({limits})").format(limits=import_limits()),
    )
    imp.add_argument(
        "file",
        type=Path,
        metavar="PATH",
        help=_(
            "a .vcf (vCard 2.1/3.0/4.0) or .csv (Google, Outlook, generic), or a folder of .vcf files as khard "
            "and vdirsyncer keep them (its subfolders one level down too; hidden files are skipped)"
        ),
    )
    imp.add_argument(
        "--basis",
        required=True,
        choices=[b.value for b in LegalBasis],
        help=_("legal basis (Art. 6(1) GDPR) for every imported contact"),
    )
    imp.add_argument("--rule", required=True, help=_("retention rule for every imported contact (`sealbook rules`)"))
    imp.add_argument("--trigger", type=_date, help=_("the rule's start date, YYYY-MM-DD (e.g. the invoice date)"))
    imp.add_argument(
        "--consent-given",
        type=_date,
        metavar="DATE",
        help=_(
            "with --basis consent (required): the day these people gave consent, YYYY-MM-DD (Art. 7(1)); "
            "never taken from the file"
        ),
    )
    imp.add_argument(
        "--consent-method",
        default="",
        metavar="TEXT",
        help=_("with --basis consent (required): how they gave it, e.g. 'web form', 'e-mail', 'in person'"),
    )
    imp.add_argument(
        "--include-suppressed",
        action="store_true",
        help=_(
            "also import people on the suppression list (they withdrew consent, objected or were erased); "
            "only when you know they agreed again"
        ),
    )
    imp.add_argument("--source", help=_("where the data came from (Art. 14), e.g. 'phone address book'"))
    imp.add_argument("--purpose", default="", help=_("why the contacts are kept"))
    imp.add_argument("--dry-run", action="store_true", help=_("only show what would be added, merged or skipped"))
    imp.add_argument(
        "--skip-invalid", action="store_true", help=_("import the valid entries even when others have errors")
    )
    add_passphrase_option(imp)
    add_json_option(imp)

    req = command(subparsers, "request", run_request_help, _("track data-subject requests (Art. 12(3): one month)"))
    actions = req.add_subparsers(dest="request_action", metavar="ACTION")
    opened = actions.add_parser("open", help=_("record a request that came in"))
    opened.add_argument("type", choices=[t.value for t in RequestType])
    opened.add_argument("records", nargs="*", help=_("ids (or id prefixes) of the records concerned"))
    opened.add_argument("--received", type=_date, help=_("the day it came in, YYYY-MM-DD (default: today)"))
    opened.add_argument("--note", default="", help=_("a note (stored encrypted)"))
    opened.set_defaults(handler=run_request_open)
    listed = actions.add_parser("list", help=_("open requests with their deadlines; warns about overdue ones"))
    listed.add_argument("--all", action="store_true", help=_("include closed requests"))
    listed.add_argument("--notes", action="store_true", help=_("show the notes"))
    listed.set_defaults(handler=run_request_list)
    extended = actions.add_parser(
        "extend",
        help=_("extend the deadline by two months (Art. 12(3)); tell the person why within the first month"),
    )
    extended.add_argument("id", help=_("request id or a prefix of at least 4 characters"))
    extended.add_argument("--reason", required=True, help=_("why the answer takes longer (stored encrypted)"))
    extended.add_argument(
        "--informed",
        type=_date,
        required=True,
        metavar="DATE",
        help=_("when you told the person of the extension and its reasons (YYYY-MM-DD; within the first month)"),
    )
    extended.set_defaults(handler=run_request_extend)
    closed = actions.add_parser("close", help=_("mark a request answered"))
    closed.add_argument("id", help=_("request id or a prefix of at least 4 characters"))
    closed.add_argument("--date", type=_date, help=_("the day it was answered (default: today)"))
    closed.add_argument("--note", default="", help=_("a note, e.g. how it was answered (stored encrypted)"))
    closed.set_defaults(handler=run_request_close)
    for parser in (opened, listed, extended, closed):
        parser.add_argument("--vault", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        add_lang_option(parser)
        add_passphrase_option(parser)
        add_json_option(parser)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected a date as YYYY-MM-DD")) from None


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
        raise InvalidInput(_("query"), _("give a name, an e-mail address or a phone number"))
    return criteria


def _describe(contact: Contact) -> str:
    parts = [plain(contact.id[:8]), safe(contact.name)]
    parts += [safe(e) for e in contact.emails]
    parts += [format_phone(p) for p in contact.phones]
    if contact.is_restricted:
        parts.append(_("[restricted]"))
    return "  ".join(parts)


def _letter_language(args: argparse.Namespace, config: Any) -> str:
    """The answer letter's language: `export --lang`, else the run's `--lang`, else the
    config's letter language (its `letter_language`, else `language`), else the run's."""
    if args.lang:
        return str(args.lang)
    if common.CLI_LANGUAGE:
        return language()
    wanted = getattr(config, "letter_language", None)
    return wanted if isinstance(wanted, str) and wanted else language()


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise InvalidInput(_("confirmation"), _("no terminal to ask on; check the list and pass --yes"))
    return is_yes(input(f"{question} {yes_no_hint()} "))


def run_export(args: argparse.Namespace) -> int:
    criteria = _criteria(args)
    stream = sys.stderr if args.json else sys.stdout
    with open_vault(args) as vault:
        found = vault.find_person(**criteria)
        if found:
            n = len(found)
            print(ngettext("{count} matching record:", "{count} matching records:", n).format(count=n), file=stream)
            for contact in found:
                print(f"  {_describe(contact)}", file=stream)
            question = ngettext(
                "Export this {count} record to {path}?", "Export these {count} records to {path}?", n
            ).format(count=n, path=args.out)
        else:
            # Art. 15(1): the person is told that no data are held (negative answer).
            if args.portability:
                nothing = _("no record matches: the letter will say that the address book holds no data "
                            "to export under Art. 20")  # fmt: skip
            else:
                nothing = _("no record matches: the letter will say that the address book holds no data")
            print(nothing, file=stream)
            question = _("Write the negative answer to {path}?").format(path=args.out)
        if not args.yes and not _confirm(question):
            print(_("sealbook: nothing was exported"), file=sys.stderr)
            return EXIT_ERROR
        letter = _letter_language(args, vault.config)
        result = vault.export_person([c.id for c in found], args.out, letter, portability=args.portability)
        config = vault.config
    if not config.controller_name or not config.controller_address:
        print(
            _(
                "warning: controller name/address are not configured ([controller] in config.toml); "
                "the letter says so instead"
            ),
            file=sys.stderr,
        )
    if not args.portability and config.other_systems:
        print(
            _(
                "note: the letter covers the address book and lists your other systems "
                "([controller] other_systems); check them for this person too"
            ),
            file=sys.stderr,
        )
    print(_(PLAINTEXT_WARNING).format(path=result.out_dir), file=sys.stderr)
    if args.json:
        print_json({"out_dir": str(result.out_dir), "files": result.files, "record_ids": result.record_ids})
    else:
        n, files = len(result.record_ids), ", ".join(result.files)
        if args.portability:
            done = ngettext(
                "wrote the Art. 20 export of {count} record to {path}: {files}",
                "wrote the Art. 20 export of {count} records to {path}: {files}",
                n,
            )
        elif not result.record_ids:
            done = _("wrote the negative answer to {path}: {files}")
        else:
            done = ngettext(
                "exported {count} record to {path}: {files}", "exported {count} records to {path}: {files}", n
            )
        print(done.format(count=n, path=result.out_dir, files=files))
    return EXIT_OK


# --- import ----------------------------------------------------------------------------------


# An import entry's outcome (vault.importers.Outcome values) in words; the value itself in --json.
OUTCOME_WORDS = {
    "added": N_("added"),
    "merged": N_("merged"),
    "skipped": N_("skipped"),
    "error": N_("error"),
    "suppressed": N_("suppressed"),
}


class _EntryLines:
    """An entry of the import report as one line.  The words are translated once per report,
    not once per entry: a report of 100,000 entries is printed in well under a second (issue 15)."""

    def __init__(self) -> None:
        self.outcomes = {value: _(words) for value, words in OUTCOME_WORDS.items()}
        self.width = max(8, *(len(words) + 1 for value, words in self.outcomes.items() if value != "suppressed"))
        self.in_file = _("#{index} ({file}, line {line})")
        self.at_line = _("#{index} (line {line})")

    def __call__(self, entry: ImportEntry) -> str:
        value = entry.outcome.value
        outcome = self.outcomes.get(value) or _(value)
        if entry.file and not entry.message.startswith(entry.file):  # a folder: which file (errors say it first)
            where = self.in_file.format(index=entry.index, file=_shown(entry.file), line=entry.line)
        else:
            where = self.at_line.format(index=entry.index, line=entry.line)
        parts = [f"  {outcome:<{self.width}}", where]
        if entry.name:
            parts.append(_shown(entry.name))
        if entry.message:
            parts.append(f"- {_shown(entry.message)}")
        return " ".join(parts)


def _shown(text: str) -> str:
    """:func:`safe`, with its answer for the common case taken first: text that is printable
    as a whole (no line break, tab or hidden character) is shown as it is."""
    return text if text.isprintable() else safe(text)


def _print_report(report: ImportReport) -> None:
    from vault.importers import Outcome

    line = _EntryLines()
    mode = _("preview (dry run)") if report.dry_run else (_("imported") if report.committed else _("NOT imported"))
    print(f"{safe(report.file_name)} ({report.format}): {mode}")
    listed = report.suppressed
    # Written a block of lines at a time (one print per line costs seconds at 100,000 entries).
    entries = [entry for entry in report.entries if entry.outcome is not Outcome.SUPPRESSED]
    for start in range(0, len(entries), 1000):
        print("\n".join(line(entry) for entry in entries[start : start + 1000]))
    if report.ignored_columns:
        print(
            "  "
            + _("columns not imported: {columns}").format(columns=", ".join(safe(c) for c in report.ignored_columns))
        )
    if listed:
        print(
            _(
                "on the suppression list, left out ({count}): they withdrew consent, objected or were erased; "
                "add them only if they agreed again (--include-suppressed):"
            ).format(count=len(listed))
        )
        for entry in listed:
            print(line(entry))
    counts = _("{added} added, {merged} merged, {skipped} skipped").format(
        added=report.added, merged=report.merged, skipped=report.skipped
    )
    counts += ", " + ngettext("{count} error", "{count} errors", len(report.errors)).format(count=len(report.errors))
    if listed:
        counts += ", " + _("{count} on the suppression list").format(count=len(listed))
    print(counts)


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
            _(
                "sealbook: some entries have errors; nothing was imported. Fix the file, or pass --skip-invalid "
                "to import the rest."
            ),
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


# --- requests ----------------------------------------------------------------------------------
