"""Deciding what an import does: validate every entry, match it, add, merge or skip.

:func:`plan_import` is pure: it writes nothing.  The Vault commits the
:class:`ImportPlan` it returns in one transaction and reports with
:meth:`ImportPlan.report`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from vault.errors import InvalidInput
from vault.importers.entries import ParsedEntry
from vault.model import MAX_NOTES, Contact, ContactDraft, LegalBasis


class Outcome(enum.Enum):
    ADDED = "added"
    MERGED = "merged"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True)
class ImportEntry:
    """What happens (or happened) to one entry.  ``name`` is empty for errors:
    the text of a broken entry is never echoed."""

    index: int
    line: int
    outcome: Outcome
    name: str = ""
    record_id: str | None = None
    message: str = ""


@dataclass(frozen=True)
class ImportReport:
    """The preview (dry run) or the result of an import."""

    file_name: str
    format: str
    entries: tuple[ImportEntry, ...]
    committed: bool
    dry_run: bool
    ignored_columns: tuple[str, ...] = ()

    def count(self, outcome: Outcome) -> int:
        return sum(1 for e in self.entries if e.outcome is outcome)

    @property
    def added(self) -> int:
        return self.count(Outcome.ADDED)

    @property
    def merged(self) -> int:
        return self.count(Outcome.MERGED)

    @property
    def skipped(self) -> int:
        return self.count(Outcome.SKIPPED)

    @property
    def errors(self) -> tuple[ImportEntry, ...]:
        return tuple(e for e in self.entries if e.outcome is Outcome.ERROR)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)


@dataclass
class ImportPlan:
    """What an import would write: new drafts and updated existing contacts."""

    file_name: str
    format: str
    entries: list[ImportEntry]
    new: list[ContactDraft] = field(default_factory=list)
    new_entry_indexes: list[list[int]] = field(default_factory=list)  # entries behind each new draft
    merges: dict[str, tuple[Contact, ContactDraft]] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(e.outcome is Outcome.ERROR for e in self.entries)

    def report(self, *, committed: bool, dry_run: bool, new_ids: Sequence[str] = ()) -> ImportReport:
        ids: dict[int, str] = {}
        for record_id, indexes in zip(new_ids, self.new_entry_indexes, strict=False):
            for index in indexes:
                ids[index] = record_id
        entries = tuple(
            replace(e, record_id=ids[e.index]) if e.record_id is None and e.index in ids else e for e in self.entries
        )
        return ImportReport(self.file_name, self.format, entries, committed, dry_run, self.ignored_columns)


def _merged(base: ContactDraft, extra: ContactDraft) -> ContactDraft | None:
    """``base`` completed with what ``extra`` adds, or None when it adds nothing.
    Existing values are never overwritten; the legal basis and rule of ``base`` stay."""
    emails = base.emails + tuple(e for e in extra.emails if e.casefold() not in {x.casefold() for x in base.emails})
    phones = base.phones + tuple(p for p in extra.phones if p not in base.phones)
    org = base.org or extra.org
    notes = base.notes
    if extra.notes and extra.notes not in base.notes:
        candidate = f"{base.notes}\n\n{extra.notes}" if base.notes else extra.notes
        if len(candidate.encode("utf-8")) <= MAX_NOTES:
            notes = candidate
    uid = base.uid or extra.uid
    result = replace(base, emails=emails, phones=phones, org=org, notes=notes, uid=uid)
    return None if result == base else result


def plan_import(
    file_name: str,
    dialect: str,
    parsed: Iterable[ParsedEntry],
    existing: Iterable[Contact],
    *,
    basis: LegalBasis,
    rule: str,
    trigger: date | None,
    source: str,
    purpose: str = "",
    validate: Callable[[ContactDraft], ContactDraft],
    ignored_columns: tuple[str, ...] = (),
) -> ImportPlan:
    """Validate and match every entry; nothing is written."""
    plan = ImportPlan(file_name, dialect, [], ignored_columns=ignored_columns)
    by_uid: dict[str, tuple[str, str | int]] = {}
    by_email: dict[str, tuple[str, str | int]] = {}
    by_phone: dict[str, tuple[str, str | int]] = {}
    contacts: dict[str, Contact] = {}
    state: dict[str, ContactDraft] = {}  # current draft of each touched existing contact
    for contact in existing:
        contacts[contact.id] = contact
        target: tuple[str, str | int] = ("existing", contact.id)
        by_uid.setdefault(f"urn:uuid:{contact.id}", target)
        if contact.uid:
            by_uid.setdefault(contact.uid, target)
        for email in contact.emails:
            by_email.setdefault(email.casefold(), target)
        for phone in contact.phones:
            by_phone.setdefault(phone, target)

    def index_draft(d: ContactDraft, target: tuple[str, str | int]) -> None:
        if d.uid:
            by_uid.setdefault(d.uid, target)
        for email in d.emails:
            by_email.setdefault(email.casefold(), target)
        for phone in d.phones:
            by_phone.setdefault(phone, target)

    for entry in parsed:
        if entry.error:
            plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.ERROR, message=entry.error))
            continue
        # Company-only entries (common in phone address books) are named by their organisation.
        name = entry.name or entry.org or (entry.emails[0] if entry.emails else "")
        draft = ContactDraft(
            name=name,
            basis=basis,
            rule=rule,
            trigger=trigger,
            emails=entry.emails,
            phones=entry.phones,
            org=entry.org,
            notes=entry.notes,
            source=source,
            purpose=purpose,
            uid=entry.uid,
        )
        try:
            clean = validate(draft)
        except InvalidInput as exc:
            plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.ERROR, message=str(exc)))
            continue
        note = f"not imported: {', '.join(entry.ignored)}" if entry.ignored else ""
        match = (by_uid.get(clean.uid) if clean.uid else None) or next(
            (by_email[e.casefold()] for e in clean.emails if e.casefold() in by_email),
            next((by_phone[p] for p in clean.phones if p in by_phone), None),
        )
        if match is None:
            target = ("new", len(plan.new))
            plan.new.append(clean)
            plan.new_entry_indexes.append([entry.index])
            index_draft(clean, target)
            plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.ADDED, clean.name, None, note))
            continue
        kind, key = match
        if kind == "new":
            assert isinstance(key, int)
            base = plan.new[key]
            record_id = None
            where = "an earlier entry of this file"
        else:
            assert isinstance(key, str)
            base = state.get(key) or contacts[key].to_draft()
            record_id = key
            if clean.uid == f"urn:uuid:{key}":  # sealbook's own export names the record by its id
                clean = replace(clean, uid="")
            where = "a stored contact"
        merged = _merged(base, clean)
        if merged is not None:
            try:
                merged = validate(merged)
            except InvalidInput as exc:
                plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.ERROR, message=f"merging: {exc}"))
                continue
        if merged is None:
            message = "; ".join(m for m in (f"already in {where}", note) if m)
            plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.SKIPPED, clean.name, record_id, message))
            continue
        if kind == "new":
            assert isinstance(key, int)
            plan.new[key] = merged
            plan.new_entry_indexes[key].append(entry.index)
        else:
            assert isinstance(key, str)
            state[key] = merged
            plan.merges[key] = (contacts[key], merged)
        index_draft(merged, match)
        message = "; ".join(m for m in (f"adds details to {where}", note) if m)
        plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.MERGED, merged.name, record_id, message))
    return plan
