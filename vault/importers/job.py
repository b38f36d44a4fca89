"""The import job: read, plan, and commit a file's (or a folder's) contacts through the record book."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from vault import policy
from vault.book import RecordBook
from vault.i18n import _
from vault.importers.batch import SuppressionCheck, check_batch
from vault.importers.entries import ParsedEntry, Validate
from vault.importers.folder import FolderReading, read_folder
from vault.importers.plan import ImportReport, plan_import
from vault.importers.reading import read_file, stream_entries
from vault.model import LegalBasis
from vault.phonefacts import phones_parsed_once
from vault.retention import RuleBook


def import_file(
    path: Path,
    *,
    book: RecordBook,
    rules: RuleBook,
    basis: LegalBasis,
    rule: str,
    trigger: date | None,
    dry_run: bool,
    skip_invalid: bool,
    source: str | None,
    purpose: str,
    today: date,
    now: datetime,
    validate: Validate,
    suppressed: SuppressionCheck,
    consent_given: date | None = None,
    consent_method: str = "",
    include_suppressed: bool = False,
    region: str | None = None,
) -> ImportReport:
    """Import a vCard or CSV file, or a folder of .vcf files, with one legal basis and rule for the batch.

    A folder (a vdir as khard and vdirsyncer keep one) is read as one batch: its
    ``*.vcf`` files and those of its subfolders one level down, in sorted order
    (:mod:`~vault.importers.folder` says which files and links count); each entry of
    the report names its file, and a file that cannot be read is an error entry.

    With the basis consent the batch needs the day consent was given and how
    (``consent_given``, ``consent_method``): every new contact gets exactly these,
    nothing is filled in.  Entries matching a stored contact (vCard UID, e-mail,
    phone) are merged or skipped, never duplicated; a merge adds the batch's rule
    as a further duty and keeps the contact's legal basis.  People on the
    suppression list (``suppressed``) are left out unless ``include_suppressed``.
    With ``dry_run`` nothing is written.  Any entry error blocks the whole import
    unless ``skip_invalid``; what is written goes in one transaction.  A phone number
    that is possible but not valid for its country is kept with a warning in its
    entry's report; ``region`` is the default country of numbers typed without one
    (the vault's config region; None: only numbers with a country code are kept so).
    """
    chosen = rules.get(rule)  # UnknownRule before reading the file
    check_batch(basis, chosen, trigger, consent_given, consent_method, today)  # InvalidInput before reading
    # Entries stream from the parser through the planner, which keeps only what the
    # commit and the report need (issue 15: bounded memory on large files).
    path = Path(path)
    folder: FolderReading | None = read_folder(path) if path.is_dir() else None  # FolderRefused before planning
    parsed: Iterable[ParsedEntry]
    if folder is None:
        kind, parsed, ignored = stream_entries(read_file(path), path.name)
        default_source = _("import of the file {name} on {day}")
    else:
        kind, parsed, ignored = "vcard", folder.entries(), ()
        default_source = _("import of the folder {name} on {day}")
    name = shown_name(path)
    with phones_parsed_once():  # each phone number is parsed once, not once per check (issue 15)
        plan = plan_import(
            name,
            kind,
            parsed,
            book.unsorted(),
            basis=basis,
            rule=rule,
            trigger=trigger,
            source=default_source.format(name=name, day=today.isoformat()) if source is None else source,
            purpose=purpose,
            validate=validate,
            rules=rules,
            ignored_columns=ignored,
            consent_given=consent_given,
            consent_method=consent_method,
            suppressed=suppressed,
            include_suppressed=include_suppressed,
            region=region,
            folder=folder is not None,
        )
    if folder is not None:
        plan.sources = folder.starts
    if dry_run or (plan.has_errors and not skip_invalid):
        return plan.report(committed=False, dry_run=dry_run)
    # The drafts live on in the contacts (each freed as soon as its contact is made); the
    # report needs only their entry numbers.
    drafts, plan.new = plan.new, []
    drafts.reverse()
    new = []
    while drafts:
        new.append(policy.new_contact(drafts.pop(), rules, now))
    book.rewrite_many(
        [(current, policy.edited(current, clean, rules)) for current, clean in plan.merges.values()],
        "updated",
        "import",
        conflict=_("a contact was changed elsewhere during the import; nothing was imported"),
        added=new,
        added_action="imported",
    )
    return plan.report(committed=True, dry_run=False, new_ids=[c.id for c in new])


def shown_name(path: Path) -> str:
    """The file's or folder's name as text that can always be printed (bytes that are not
    UTF-8 become U+FFFD)."""
    return os.fsencode(path.name or path.absolute().name or str(path)).decode("utf-8", "replace")
