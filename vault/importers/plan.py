"""Deciding what an import does: validate every entry, match it, add, merge or skip.

:func:`plan_import` is pure: it writes nothing.  The Vault commits the
:class:`ImportPlan` it returns in one transaction and reports with
:meth:`ImportPlan.report`.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import islice

from vault import policy
from vault.errors import InvalidInput
from vault.i18n import _, format_date
from vault.importers.batch import SuppressionCheck, describe, rule_to_add, suppression_hits
from vault.importers.entries import ParsedEntry, Validate
from vault.importers.phones import kept_warning, validate_keeping
from vault.model import MAX_NOTES, Contact, ContactDraft, Duty, LegalBasis
from vault.retention import RuleBook
from vault.suppression import Suppressed


class Outcome(enum.Enum):
    ADDED = "added"
    MERGED = "merged"
    SKIPPED = "skipped"
    SUPPRESSED = "suppressed"  # on the suppression list: not imported unless the owner decides so
    ERROR = "error"


@dataclass(frozen=True, slots=True)  # slots: a report of 100,000 entries is 10 MB lighter
class ImportEntry:
    """What happens (or happened) to one entry.  ``name`` is empty for errors:
    the text of a broken entry is never echoed."""

    index: int
    line: int
    outcome: Outcome
    name: str = ""
    record_id: str | None = None
    message: str = ""
    duty: Duty | None = None  # the batch's rule, added to the stored contact this entry merges into
    file: str = ""  # in a folder import: the file (path inside the folder) the entry comes from


@dataclass(frozen=True)
class ImportReport:
    """The preview (dry run) or the result of an import."""

    file_name: str
    format: str
    entries: tuple[ImportEntry, ...]
    committed: bool
    dry_run: bool
    ignored_columns: tuple[str, ...] = ()
    folder: bool = False  # a folder of .vcf files: each entry names its file, each error starts with it

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

    @property
    def rules_added(self) -> int:
        """Merged entries that add the batch's rule to a stored contact as a further duty."""
        return sum(1 for e in self.entries if e.duty is not None)

    @property
    def suppressed(self) -> tuple[ImportEntry, ...]:
        """Entries left out because the person is on the suppression list (withdrew
        consent, objected, erased); with ``include_suppressed`` they are imported
        instead and their message says they are listed."""
        return tuple(e for e in self.entries if e.outcome is Outcome.SUPPRESSED)


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
    # A folder import: (number of the first entry, file name) of each file, in entry order.
    sources: list[tuple[int, str]] | None = None

    @property
    def has_errors(self) -> bool:
        return any(e.outcome is Outcome.ERROR for e in self.entries)

    def report(self, *, committed: bool, dry_run: bool, new_ids: Sequence[str] = ()) -> ImportReport:
        ids: dict[int, str] = {}
        for record_id, indexes in zip(new_ids, self.new_entry_indexes, strict=False):
            for index in indexes:
                ids[index] = record_id
        # ImportEntry(...) rather than dataclasses.replace: a second per 100,000 entries.  Each
        # entry is replaced in place, so the old one is freed at once (issue 15: memory).
        listed = self.entries
        for position, e in enumerate(listed):
            if e.record_id is None and e.index in ids:
                listed[position] = ImportEntry(e.index, e.line, e.outcome, e.name, ids[e.index], e.message, e.duty)
        entries = tuple(listed)
        if self.sources is not None:
            entries = tuple(_in_file(e, self.sources) for e in entries)
        folder = self.sources is not None
        return ImportReport(self.file_name, self.format, entries, committed, dry_run, self.ignored_columns, folder)


def _in_file(entry: ImportEntry, sources: list[tuple[int, str]]) -> ImportEntry:
    """``entry`` naming the file of the folder it comes from; an error's message starts with
    it, so every front end that lists problems names the file."""
    at = bisect_right(sources, entry.index, key=lambda source: source[0]) - 1
    name = sources[at][1] if at >= 0 else ""
    message = entry.message
    if entry.outcome is Outcome.ERROR:
        message = _("{file}: {problem}").format(file=name, problem=message)
    return replace(entry, file=name, message=message)


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
    validate: Validate,
    rules: RuleBook,
    ignored_columns: tuple[str, ...] = (),
    consent_given: date | None = None,
    consent_method: str = "",
    suppressed: SuppressionCheck | None = None,
    include_suppressed: bool = False,
    region: str | None = None,
    folder: bool = False,
) -> ImportPlan:
    """Validate and match every entry; nothing is written.

    Entries whose e-mail or phone is on the suppression list (``suppressed``) are
    listed as such and left out unless ``include_suppressed``.  An entry merging
    into a stored contact adds the batch's rule to it as a further duty
    (:func:`~vault.importers.batch.rule_to_add`); the contact's legal basis stays.
    A phone number that is possible but not valid for its country (``region``: the
    default country, see :mod:`~vault.importers.phones`) is kept with a warning.
    ``folder``: the entries come from a folder of files (only the words of a report change).
    """
    plan = ImportPlan(file_name, dialect, [], ignored_columns=ignored_columns)
    batch_rule = rules.get(rule)
    by_uid: dict[str, tuple[str, str | int]] = {}
    by_email: dict[str, tuple[str, str | int]] = {}
    by_phone: dict[str, tuple[str, str | int]] = {}
    contacts: dict[str, Contact] = {}
    state: dict[str, ContactDraft] = {}  # current draft of each touched existing contact
    listed: dict[int, str] = {}  # entry index -> why it is on the suppression list
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

    # The consent fields are the batch's, never taken from the file (a vCard's REV is no consent).
    batch = ContactDraft(
        name="",
        basis=basis,
        rule=rule,
        trigger=trigger,
        source=source,
        purpose=purpose,
        consent_given=consent_given,
        consent_method=consent_method,
    )
    for entry, clean, kept, listed_as in _checked_in_chunks(parsed, batch, validate, region, suppressed):
        if not isinstance(clean, ContactDraft):
            plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.ERROR, message=clean))
            continue
        ignored = _("not imported: {names}").format(names=", ".join(entry.ignored)) if entry.ignored else ""
        note = "; ".join(m for m in (kept_warning(len(kept)), ignored) if m)
        match = (by_uid.get(clean.uid) if clean.uid else None) or next(
            (by_email[e.casefold()] for e in clean.emails if e.casefold() in by_email),
            next((by_phone[p] for p in clean.phones if p in by_phone), None),
        )
        if match is not None and match[0] == "listed":  # the same person as a listed entry (by UID, say)
            why = _("{why} (the same person as entry {index})").format(why=listed[int(match[1])], index=match[1])
            message = _("on the suppression list: {why}").format(why=why)
            plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.SUPPRESSED, clean.name, None, message))
            continue
        if listed_as:
            why = describe(listed_as)
            if not include_suppressed:
                listed[entry.index] = why
                index_draft(clean, ("listed", entry.index))
                message = _("on the suppression list: {why}").format(why=why)
                plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.SUPPRESSED, clean.name, None, message))
                continue
            decided = _("on the suppression list ({why}), imported as decided").format(why=why)
            note = "; ".join(m for m in (decided, note) if m)
        if match is None:
            target = ("new", len(plan.new))
            plan.new.append(clean)
            plan.new_entry_indexes.append([entry.index])
            index_draft(clean, target)
            plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.ADDED, clean.name, None, note))
            continue
        kind, key = match
        duty: Duty | None = None
        rule_note = ""
        if kind == "new":
            assert isinstance(key, int)
            base = plan.new[key]
            record_id = None
            where = _("an earlier entry of this folder") if folder else _("an earlier entry of this file")
        else:
            assert isinstance(key, str)
            base = state.get(key) or contacts[key].to_draft()
            record_id = key
            if clean.uid == f"urn:uuid:{key}":  # sealbook's own export names the record by its id
                clean = replace(clean, uid="")
            where = _("a stored contact")
            closed = _closed(contacts[key])
            if closed:
                matches = _("matches {what}; nothing merged").format(what=closed)
                message = "; ".join(m for m in (matches, note) if m)
                plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.SKIPPED, clean.name, key, message))
                continue
            duty, rule_note = rule_to_add(base, batch_rule, trigger)
        details = _merged(base, clean)
        merged = details if duty is None else replace(details or base, duties=(*base.duties, duty))
        if merged is not None:
            try:
                merged, _kept = validate_keeping(validate, merged, region, before=base)
            except InvalidInput as exc:
                merging = _("merging: {error}").format(error=exc)
                plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.ERROR, message=merging))
                continue
        if merged is None:
            already = _("already in {where}").format(where=where)
            message = "; ".join(m for m in (already, rule_note, note) if m)
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
            end = policy.edited(contacts[key], merged, rules).retention_end if duty is not None else None
            if end is not None:
                rule_note = _("{note}, kept until {end}").format(note=rule_note, end=format_date(end))
        index_draft(merged, match)
        adds = _("adds details to {where}").format(where=where) if details else ""
        message = "; ".join(m for m in (adds, rule_note, note) if m)
        plan.entries.append(ImportEntry(entry.index, entry.line, Outcome.MERGED, merged.name, record_id, message, duty))
    return plan


CHUNK_ENTRIES = 1000  # entries validated, and asked about on the suppression list, at a time


def _checked_in_chunks(
    parsed: Iterable[ParsedEntry],
    batch: ContactDraft,
    validate: Validate,
    region: str | None,
    suppressed: SuppressionCheck | None,
) -> Iterator[tuple[ParsedEntry, ContactDraft | str, tuple[str, ...], list[Suppressed]]]:
    """(entry, :func:`_checked` draft or error, kept numbers, its suppression hits) in file order.

    Entries are validated and looked up on the suppression list a chunk at a time,
    so a large file is never held parsed and validated all at once (issue 15); the
    answers are the same as for the whole file (:func:`suppression_hits` asks per
    chunk of e-mails and phones anyway)."""
    it = iter(parsed)
    while chunk := list(islice(it, CHUNK_ENTRIES)):
        checked = [_checked(entry, batch, validate, region) for entry in chunk]
        del chunk
        drafts = [clean if isinstance(clean, ContactDraft) else None for _, clean, _ in checked]
        hits = suppression_hits(drafts, suppressed) if suppressed is not None else {}
        for position, (entry, clean, kept) in enumerate(checked):
            yield entry, clean, kept, hits.get(position, [])


def _checked(
    entry: ParsedEntry, batch: ContactDraft, validate: Validate, region: str | None
) -> tuple[ParsedEntry, ContactDraft | str, tuple[str, ...]]:
    """(entry, its validated draft or why it cannot be imported, the not-valid phone
    numbers kept in it); ``batch`` holds the fields every entry gets (basis, rule,
    trigger, source, purpose, consent)."""
    if entry.error:
        return entry, entry.error, ()
    # Company-only entries (common in phone address books) are named by their organisation.
    name = entry.name or entry.org or (entry.emails[0] if entry.emails else "")
    draft = replace(
        batch, name=name, emails=entry.emails, phones=entry.phones, org=entry.org, notes=entry.notes, uid=entry.uid
    )
    try:
        clean, kept = validate_keeping(validate, draft, region)
    except InvalidInput as exc:
        return entry, str(exc), ()
    return entry, clean, kept


def _closed(contact: Contact) -> str:
    """Why nothing may be merged into a stored contact ('' when it may)."""
    if contact.is_consent_proof:
        return _("the proof of a withdrawn consent")
    if contact.erasure_requested is not None:
        return _("a stored contact whose erasure was requested on {day}").format(
            day=format_date(contact.erasure_requested)
        )
    return ""
