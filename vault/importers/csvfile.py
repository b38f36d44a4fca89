"""Reading CSV contact exports (Google, Outlook, generic) into :class:`ParsedEntry` objects.

Columns are recognised by their header (English and German spellings); columns
that feed no field are reported as ignored.  Cells that start like a
spreadsheet formula make their entry an error.
"""

from __future__ import annotations

import codecs
import csv
import io

# The limits are read from the package at call time: that is where they are
# documented, and where callers (and tests) read or change them.
from vault import importers
from vault.importers.entries import ImportRefused, ParsedEntry, normalise_newlines

_GOOGLE_SEPARATOR = " ::: "

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
    if len(first_line) > importers.MAX_ENTRY_BYTES:
        raise ImportRefused("the header line is too long")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportRefused("no CSV header line") from None
    if len(header) > importers.MAX_COLUMNS or _has_bad_bytes("".join(header)) or "\x00" in "".join(header):
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
            message = f"malformed CSV row (a cell is over {importers.MAX_CSV_FIELD} bytes?)"
            entries.append(ParsedEntry(index, start, error=message))
            previous_end = reader.line_num
            continue
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        index += 1
        if index > importers.MAX_ENTRIES:
            raise ImportRefused(f"more than {importers.MAX_ENTRIES} entries")
        entries.append(_csv_entry(index, start, row, roles, dialect))
    return dialect, entries, ignored_columns


def _csv_entry(index: int, line: int, row: list[str], roles: list[str | None], dialect: str) -> ParsedEntry:
    joined = "".join(row)
    if len(joined.encode("utf-8", errors="surrogateescape")) > importers.MAX_ENTRY_BYTES:
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
    notes = "\n\n".join(normalise_newlines(n).strip() for n in values.get("notes", []))
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
