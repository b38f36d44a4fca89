"""Import of contacts from vCard (2.1, 3.0, 4.0) and CSV (Google, Outlook, generic).

Three steps, all pure except reading the file:

1. :func:`read_entries` turns the file into :class:`ParsedEntry` objects, one per
   vCard or CSV row, each either with fields or with an error message that names
   the entry and line but never its content.
2. :func:`plan_import` validates every entry (through the vault's own
   validation), matches it against the stored contacts (vCard UID, normalised
   e-mail, E.164 phone) and against earlier entries of the same file, and says
   for each entry whether it would be added, merged or skipped.
3. The :class:`~vault.service.Vault` commits the plan in one transaction.

Hostile input is expected: the file, each entry and each field have size caps
(the constants below, documented in the README), bytes that are not UTF-8, NUL
bytes and control characters (terminal escapes) make that entry an error, and
CSV cells that start like a spreadsheet formula are refused.  Markup is kept as
literal text; front ends render it literally.  Photos, logos, sounds and keys are
skipped before parsing so a 10 MB PHOTO costs nothing.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import vobject

from vault.errors import InvalidInput, VaultError
from vault.model import MAX_NOTES, Contact, ContactDraft, LegalBasis

# --- documented limits -------------------------------------------------------------------
MAX_FILE_BYTES = 64 * 1024 * 1024  # a whole import file
MAX_ENTRIES = 100_000  # vCards or CSV rows per file
MAX_ENTRY_BYTES = 256 * 1024  # one vCard (photos excluded) or one CSV row
MAX_CSV_FIELD = 128 * 1024  # one CSV cell (the csv module's own default limit)
MAX_COLUMNS = 500  # CSV columns

SKIPPED_PROPERTIES = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})  # binary blobs: never parsed, never stored
_QUIET_PROPERTIES = frozenset(
    {
        "VERSION",
        "FN",
        "N",
        "EMAIL",
        "TEL",
        "ORG",
        "NOTE",
        "UID",
        "PRODID",
        "REV",
        "X-ABLABEL",
        "X-ABUID",
        "X-ABSHOWAS",
        "CATEGORIES",
        "KIND",
        "CLIENTPIDMAP",
        "SORT-STRING",
        "X-SEALBOOK-ID",
        "X-SEALBOOK-BASIS",
        "X-SEALBOOK-RULE",
        "X-SEALBOOK-TRIGGER",
        "X-SEALBOOK-RETENTION-END",
        "X-SEALBOOK-STATE",
        "X-SEALBOOK-SOURCE",
        "X-SEALBOOK-PURPOSE",
    }
)
_BINARY_START = re.compile(rb"^(?:[A-Za-z0-9-]+\.)?(PHOTO|LOGO|SOUND|KEY)[;:]", re.IGNORECASE)
_BASE64_LINE = re.compile(rb"^[A-Za-z0-9+/=]+$")
_GOOGLE_SEPARATOR = " ::: "


class ImportRefused(VaultError):
    """This file cannot be imported; nothing was imported."""


class Outcome(enum.Enum):
    ADDED = "added"
    MERGED = "merged"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True)
class ParsedEntry:
    """One vCard or CSV row: its fields, or why it cannot be read."""

    index: int  # 1-based position in the file
    line: int  # first line of the entry in the file
    name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    org: str = ""
    notes: str = ""
    uid: str = ""
    error: str = ""
    ignored: tuple[str, ...] = ()  # vCard properties not imported (data minimisation)


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


# --- reading ---------------------------------------------------------------------------------


def read_file(path: Path) -> bytes:
    """The file's bytes, refused before reading when larger than MAX_FILE_BYTES."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ImportRefused("not a file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportRefused(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ImportRefused(exc.strerror) from None
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return data


def detect_format(data: bytes, file_name: str = "") -> str:
    """'vcard' or 'csv' (the CSV dialect is decided from the header later)."""
    head = data[:4096].lstrip(codecs.BOM_UTF8).lstrip()
    if head[:11].upper() == b"BEGIN:VCARD" or file_name.lower().endswith((".vcf", ".vcard")):
        return "vcard"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or file_name.lower().endswith((".csv", ".txt")):
        return "csv"
    if b"BEGIN:VCARD" in data[:65536].upper():
        return "vcard"
    if b"," in head or b";" in head or b"\t" in head:
        return "csv"
    raise ImportRefused("neither vCard nor CSV")


def read_entries(data: bytes, file_name: str = "") -> tuple[str, list[ParsedEntry], tuple[str, ...]]:
    """(format, entries, ignored CSV columns) for the bytes of an import file."""
    kind = detect_format(data, file_name)
    if kind == "vcard":
        return "vcard", list(parse_vcards(data)), ()
    return parse_csv(data)


# --- vCard -----------------------------------------------------------------------------------


@dataclass
class _Card:
    line: int
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    too_big: bool = False
    skipped: set[str] = field(default_factory=set)


def _split_vcards(data: bytes) -> Iterator[tuple[_Card, str]]:
    """Cards as raw lines, photos dropped; (card, error) where error may be ''."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    card: _Card | None = None
    stray_from = 0
    skipping = False
    qp_property = False
    qp_continues = False
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.rstrip(b"\r")
        upper = line.strip().upper()
        if card is None:
            if upper == b"BEGIN:VCARD":
                if stray_from:
                    yield _Card(stray_from), "text outside a vCard"
                    stray_from = 0
                card = _Card(number, [line], len(line))
                skipping = qp_property = qp_continues = False
            elif upper and not stray_from:
                stray_from = number
            continue
        if qp_continues:  # a quoted-printable soft line break: this line continues the value
            qp_continues = line.endswith(b"=")
        else:
            if skipping:
                if not line.strip() or line[:1] in (b" ", b"\t") or _BASE64_LINE.match(line.strip()):
                    continue
                skipping = False
            if upper == b"END:VCARD":
                card.lines.append(line)
                yield card, ("larger than the entry limit" if card.too_big else "")
                card = None
                continue
            if upper == b"BEGIN:VCARD":
                yield card, "no END:VCARD before the next BEGIN:VCARD"
                card = _Card(number, [line], len(line))
                skipping = qp_property = qp_continues = False
                continue
            binary = _BINARY_START.match(line)
            if binary:
                card.skipped.add(binary.group(1).decode("ascii").upper())
                skipping = True
                continue
            if line[:1] not in (b" ", b"\t"):
                qp_property = b"QUOTED-PRINTABLE" in line.split(b":", 1)[0].upper()
            qp_continues = qp_property and line.endswith(b"=")
        card.size += len(line) + 2
        if card.size > MAX_ENTRY_BYTES:
            card.too_big = True
            card.lines = []
        elif not card.too_big:
            card.lines.append(line)
    if card is not None:
        yield card, "the file ends inside a vCard (no END:VCARD)"
    elif stray_from:
        yield _Card(stray_from), "text outside a vCard"


def parse_vcards(data: bytes) -> Iterator[ParsedEntry]:
    """Every vCard of a file, parsed with vobject (2.1 quoted-printable allowed)."""
    for index, (card, error) in enumerate(_split_vcards(data), start=1):
        if index > MAX_ENTRIES:
            raise ImportRefused(f"more than {MAX_ENTRIES} entries")
        if error:
            yield ParsedEntry(index, card.line, error=error)
            continue
        yield _parse_card(index, card)


def _content_lines(text: str) -> Iterator[tuple[str, str]]:
    """(property name, raw value) of one vCard, parsed with vobject's line parser.

    vobject unfolds lines (also vCard 2.1 quoted-printable soft breaks), splits
    groups ("item1.EMAIL") and parameters and decodes quoted-printable with the
    CHARSET parameter.  Its text *behaviour* is not used on purpose: it splits
    values at unescaped commas and keeps only the first part, which loses data
    from vCard 2.1 files (no escaping there) and from sloppy 3.0 writers.
    """
    depth = 0
    for logical, number in vobject.base.getLogicalLines(io.StringIO(text), True):
        line = vobject.base.textLineToContentLine(logical, number)
        name = str(line.name).upper()
        if name == "BEGIN":
            depth += 1
            if depth > 1:
                raise ValueError("nested component")
            continue
        if name == "END":
            depth -= 1
            continue
        value = line.value
        if not isinstance(value, str):
            raise ValueError("binary value")
        yield name, value


def split_unescaped(value: str, separator: str) -> list[str]:
    """Split at separators not preceded by a backslash (structured values such as N and ORG)."""
    parts, current, escaped = [], [], False
    for ch in value:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}


def unescape(value: str) -> str:
    """RFC 6350 3.4 text unescaping; an unknown escape is kept as written."""
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append(_ESCAPES.get(nxt, ch + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse_card(index: int, card: _Card) -> ParsedEntry:
    raw = b"\r\n".join(card.lines)
    if b"\x00" in raw:
        return ParsedEntry(index, card.line, error="contains a NUL byte")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = card.line + raw[: exc.start].count(b"\n")
        return ParsedEntry(index, card.line, error=f"not valid UTF-8 text (line {bad_line})")
    try:
        properties = list(_content_lines(text))
    except Exception:  # vobject raises many types on hostile input; each one means "unreadable"
        return ParsedEntry(index, card.line, error="not a readable vCard")
    fn = n_value = uid = ""
    email_list: list[str] = []
    phone_list: list[str] = []
    org_parts: list[str] = []
    note_parts: list[str] = []
    ignored: set[str] = set(card.skipped)
    for prop, raw_value in properties:
        if prop == "FN":
            fn = fn or unescape(raw_value).strip()
        elif prop == "N":
            parts = [unescape(p).strip() for p in split_unescaped(raw_value, ";")]
            family, given, additional, prefix, suffix = (parts + [""] * 5)[:5]
            n_value = " ".join(p for p in (prefix, given, additional, family, suffix) if p)
        elif prop == "EMAIL":
            email_list.append(unescape(raw_value).strip())
        elif prop == "TEL":
            number = unescape(raw_value).strip()
            phone_list.append(number[4:] if number.lower().startswith("tel:") else number)
        elif prop == "ORG":
            org_parts.append(", ".join(p for p in (unescape(x).strip() for x in split_unescaped(raw_value, ";")) if p))
        elif prop == "NOTE":
            note_parts.append(_newlines(unescape(raw_value)).strip())
        elif prop == "UID":
            uid = uid or unescape(raw_value).strip()
        elif prop not in _QUIET_PROPERTIES and not prop.startswith("X-"):
            ignored.add(prop)
    return ParsedEntry(
        index,
        card.line,
        name=fn or n_value,
        emails=tuple(e for e in email_list if e),
        phones=tuple(p for p in phone_list if p),
        org="; ".join(p for p in org_parts if p),
        notes="\n\n".join(p for p in note_parts if p),
        uid=uid,
        ignored=tuple(sorted(ignored)),
    )


# --- CSV -------------------------------------------------------------------------------------

# Header -> field.  Headers are compared casefolded with spaces, dashes and
# underscores removed, so "E-mail Address", "e_mail address" and "EMailAddress" meet.
_EXACT = {
    "name": "full",
    "fullname": "full",
    "displayname": "full",
    "fn": "full",
    "anzeigename": "full",
    "formattedname": "full",
    "firstname": "given",
    "givenname": "given",
    "vorname": "given",
    "middlename": "middle",
    "additionalname": "middle",
    "weiterevornamen": "middle",
    "lastname": "family",
    "familyname": "family",
    "surname": "family",
    "nachname": "family",
    "nameprefix": "prefix",
    "title": "prefix",
    "anrede": "prefix",
    "namesuffix": "suffix",
    "suffix": "suffix",
    "company": "org",
    "organization": "org",
    "organisation": "org",
    "organization1name": "org",
    "organizationname": "org",
    "firma": "org",
    "org": "org",
    "unternehmen": "org",
    "notes": "notes",
    "note": "notes",
    "notizen": "notes",
    "notiz": "notes",
    "bemerkung": "notes",
    "uid": "uid",
}


def _header_key(header: str) -> str:
    return "".join(ch for ch in header.casefold() if ch.isalnum())


def classify_header(header: str) -> str | None:
    """The field a CSV column feeds, or None when it is ignored."""
    key = _header_key(header)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    if key.endswith(("type", "label", "typ")) or "assistant" in key or "manager" in key or "fax" in key:
        return None  # labels, and other people's numbers (data minimisation)
    if "mail" in key and "display" not in key:
        return "email"
    if any(word in key for word in ("phone", "mobile", "telefon", "tel", "handy", "mobil", "cell")):
        return "phone"
    return None


_FORMULA_START = ("=", "@")


def looks_like_formula(value: str) -> bool:
    """True for cells a spreadsheet would evaluate: '=', '@', or '+'/'-' not followed by a digit or space."""
    if not value:
        return False
    if value[0] in _FORMULA_START:
        return True
    return value[0] in "+-" and len(value) > 1 and value[1] not in "0123456789 ("


def _decode_csv(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRefused("not valid UTF-16 text") from None
    # surrogateescape keeps bad bytes visible per row, so the report can name the rows
    return data.decode("utf-8-sig", errors="surrogateescape")


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def parse_csv(data: bytes) -> tuple[str, list[ParsedEntry], tuple[str, ...]]:
    """(dialect name, entries, ignored columns) of a CSV contact export."""
    text = _decode_csv(data)
    first_line = text.split("\n", 1)[0]
    if len(first_line) > MAX_ENTRY_BYTES:
        raise ImportRefused("the header line is too long")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportRefused("no CSV header line") from None
    if len(header) > MAX_COLUMNS or _has_bad_bytes("".join(header)) or "\x00" in "".join(header):
        raise ImportRefused("the CSV header line is not readable")
    roles = [classify_header(h) for h in header]
    if not any(r in ("full", "given", "family", "email", "phone") for r in roles):
        raise ImportRefused("no column for a name, an e-mail address or a phone number")
    keys = {_header_key(h) for h in header}
    if "email1value" in keys or "phone1value" in keys:
        dialect = "google-csv"
    elif "emailaddress" in keys or "emailadresse" in keys or "mobilephone" in keys:
        dialect = "outlook-csv"
    else:
        dialect = "csv"
    ignored_columns = tuple(h.strip() for h, r in zip(header, roles, strict=True) if r is None and h.strip())
    entries: list[ParsedEntry] = []
    previous_end = reader.line_num
    index = 0
    while True:
        start = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            index += 1
            message = f"malformed CSV row (a cell is over {MAX_CSV_FIELD} bytes?)"
            entries.append(ParsedEntry(index, start, error=message))
            previous_end = reader.line_num
            continue
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        index += 1
        if index > MAX_ENTRIES:
            raise ImportRefused(f"more than {MAX_ENTRIES} entries")
        entries.append(_csv_entry(index, start, row, roles, dialect))
    return dialect, entries, ignored_columns


def _csv_entry(index: int, line: int, row: list[str], roles: list[str | None], dialect: str) -> ParsedEntry:
    joined = "".join(row)
    if len(joined.encode("utf-8", errors="surrogateescape")) > MAX_ENTRY_BYTES:
        return ParsedEntry(index, line, error="larger than the entry limit")
    if _has_bad_bytes(joined):
        return ParsedEntry(index, line, error="not valid UTF-8 text")
    if "\x00" in joined:
        return ParsedEntry(index, line, error="contains a NUL byte")
    if len(row) > len(roles):
        extra = row[len(roles) :]
        if any(cell.strip() for cell in extra):
            return ParsedEntry(index, line, error="more cells than header columns")
    values: dict[str, list[str]] = {}
    for cell, role in zip(row, roles, strict=False):
        if role is None or not cell.strip():
            continue
        parts = cell.split(_GOOGLE_SEPARATOR) if role in ("email", "phone") else [cell]
        values.setdefault(role, []).extend(p.strip() for p in parts if p.strip())
    for role in ("full", "given", "middle", "family", "prefix", "suffix", "org", "notes"):
        for value in values.get(role, []):
            if looks_like_formula(value.lstrip()):
                label = {"org": "organisation", "notes": "notes"}.get(role, "name")
                return ParsedEntry(index, line, error=f"{label} starts with a spreadsheet formula character")

    def one(role: str) -> str:
        return " ".join(values.get(role, []))

    name = one("full") or " ".join(
        v for v in (one("prefix"), one("given"), one("middle"), one("family"), one("suffix")) if v
    )
    notes = "\n\n".join(_newlines(n).strip() for n in values.get("notes", []))
    return ParsedEntry(
        index,
        line,
        name=name,
        emails=tuple(values.get("email", [])),
        phones=tuple(values.get("phone", [])),
        org="; ".join(values.get("org", [])),
        notes=notes,
        uid=one("uid"),
    )


# --- planning ----------------------------------------------------------------------------------


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
