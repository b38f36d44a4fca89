"""The import job: read, plan, and commit a file's contacts through the record book."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from vault import policy
from vault.book import RecordBook
from vault.errors import InvalidInput
from vault.importers.plan import ImportReport, plan_import
from vault.importers.reading import read_entries, read_file
from vault.model import ContactDraft, LegalBasis
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
    validate: Callable[[ContactDraft], ContactDraft],
) -> ImportReport:
    """Import a vCard or CSV file with one legal basis and rule for the batch.

    Entries matching a stored contact (vCard UID, e-mail, phone) are merged or
    skipped, never duplicated.  With ``dry_run`` nothing is written.  Any entry
    error blocks the whole import unless ``skip_invalid``; what is written goes
    in one transaction.
    """
    chosen = rules.get(rule)  # UnknownRule before reading the file
    if not chosen.until_withdrawn and trigger is None:
        raise InvalidInput("trigger", f"the rule {chosen.key} needs a {chosen.trigger_label}")
    kind, parsed, ignored = read_entries(read_file(path), path.name)
    plan = plan_import(
        path.name,
        kind,
        parsed,
        book.unsorted(),
        basis=basis,
        rule=rule,
        trigger=trigger,
        source=f"import of the file {path.name} on {today.isoformat()}" if source is None else source,
        purpose=purpose,
        validate=validate,
        ignored_columns=ignored,
    )
    if dry_run or (plan.has_errors and not skip_invalid):
        return plan.report(committed=False, dry_run=dry_run)
    new = [policy.new_contact(clean, rules, now) for clean in plan.new]
    book.rewrite_many(
        [(current, replace(current, **policy.draft_fields(clean))) for current, clean in plan.merges.values()],
        "updated",
        "import",
        conflict="a contact was changed elsewhere during the import; nothing was imported",
        added=new,
        added_action="imported",
    )
    return plan.report(committed=True, dry_run=False, new_ids=[c.id for c in new])
