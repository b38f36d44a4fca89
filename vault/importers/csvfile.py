"""Reading CSV contact exports (Outlook, Google, Apple, Thunderbird, generic) into :class:`ParsedEntry` objects.

The files people have come in several shapes, and none of them says which:

* the encoding (:func:`decode_csv`): UTF-8 with or without a byte-order mark,
  UTF-16 or UTF-32 with one (Excel's "Unicode text"), UTF-16 without one, and
  Windows-1252 (what Outlook and Excel write on a German Windows).  A file that
  is not UTF-8 is read as Windows-1252 only when that fits better than UTF-8:
  more bytes that are not UTF-8 than characters that are.  Otherwise the bytes
  that are not UTF-8 make their rows errors, as before.
* the delimiter (:func:`sniff_delimiter`): ``,``, ``;`` or tab, chosen by parsing
  the first rows with each and keeping the one whose header names known columns
  and whose rows have as many cells as the header; Excel's ``sep=;`` line wins.
* the columns (:func:`classify_header`): English and German headers of Outlook,
  Google, Apple and Thunderbird exports; columns that feed no field are reported
  as ignored.

A cell that starts like a spreadsheet formula ("=HYPERLINK(...)" in a Google
note) is text: it is imported verbatim, shown literally and escaped on CSV
export (vault.export.formats.csv_cell).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata

from vault import importers

# The limits are read from the package at call time: that is where they are
# documented, and where callers (and tests) read or change them.
from vault.i18n import N_, _
from vault.importers.entries import ImportRefused, ParsedEntry, normalise_newlines

_GOOGLE_SEPARATOR = " ::: "

# Header -> field.  Headers are compared casefolded (NFKC) with everything but
# letters and digits removed, so "E-mail Address", "e_mail address" and
# "EMailAddress" meet, and "Straße" is "strasse".
_EXACT = {
    # the whole name
    "name": "full",
    "fullname": "full",
    "displayname": "full",
    "fn": "full",
    "formattedname": "full",
    "anzeigename": "full",  # Thunderbird (de)
    "vollername": "full",
    "vollständigername": "full",
    # its parts
    "firstname": "given",
    "givenname": "given",
    "vorname": "given",
    "middlename": "middle",
    "additionalname": "middle",
    "weiterevornamen": "middle",  # Outlook (de)
    "zweitervorname": "middle",  # Google (de)
    "lastname": "family",
    "familyname": "family",
    "surname": "family",
    "nachname": "family",
    "familienname": "family",
    "nameprefix": "prefix",
    "prefix": "prefix",
    "title": "prefix",  # Outlook: Mr., Dr.
    "anrede": "prefix",  # Outlook (de)
    "titel": "prefix",
    "namenspräfix": "prefix",
    "namesuffix": "suffix",
    "suffix": "suffix",
    "namenssuffix": "suffix",
    "namenszusatz": "suffix",
    # organisation
    "company": "org",
    "companyname": "org",
    "organization": "org",
    "organisation": "org",
    "organization1name": "org",  # Google
    "organisation1name": "org",
    "organizationname": "org",
    "organisationname": "org",
    "firma": "org",  # Outlook (de)
    "firmenname": "org",
    "org": "org",
    "unternehmen": "org",
    # notes
    "notes": "notes",
    "note": "notes",
    "comments": "notes",
    "notizen": "notes",  # Outlook, Thunderbird (de)
    "notiz": "notes",  # Apple (de)
    "bemerkung": "notes",
    "bemerkungen": "notes",
    "anmerkungen": "notes",
    "kommentar": "notes",
    "uid": "uid",
}

# Headers ending like this name a label or type, not a value ("E-mail 1 - Label", "E-Mail-Typ").
_LABEL_ENDINGS = ("type", "label", "typ", "bezeichnung")
# Other people's numbers (data minimisation), and numbers that are no phone.
_NOT_THE_PERSON = ("assistant", "assistent", "manager", "vorgesetzt", "fax", "pager")
# "E-mail Display Name", "E-Mail: Angezeigter Name": a name, not an address.
_NOT_AN_ADDRESS = ("display", "anzeige", "angezeigt")
# Salutations in a prefix column (Outlook's "Anrede"/"Title"): not part of the name.
# Academic titles are, and stay ("Herr Dr." -> "Dr.").
_SALUTATIONS = {"herr", "frau", "hr", "fr", "mr", "mrs", "ms", "miss", "mx"}
_PHONE_WORDS = {"tel", "telnr", "phone", "phones", "mobile", "mobil", "cell", "cellular", "handy", "fon", "festnetz"}


def _header_key(header: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", header).casefold() if ch.isalnum())


def _words(header: str) -> list[str]:
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", header).casefold())


def _is_phone_word(word: str) -> bool:
    """'Telefon geschäftlich', 'Mobiltelefon', 'Tel. dienstlich', 'Mobil-Tel.-Nr.', 'Business Phone',
    'Phone (iPhone)', 'Handynummer'; not 'Phonetic First Name', 'Telex' or 'Arbeitstitel'."""
    return (
        word in _PHONE_WORDS
        or word.endswith("phone")
        or "telefon" in word
        or word.startswith(("handy", "mobil", "rufnummer"))
    )


def classify_header(header: str) -> str | None:
    """The field a CSV column feeds, or None when it is ignored."""
    key = _header_key(header)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    if key.endswith(_LABEL_ENDINGS) or any(word in key for word in _NOT_THE_PERSON):
        return None
    words = _words(header)
    if any("mail" in w and not w.startswith("mailing") for w in words):
        return None if any(word in key for word in _NOT_AN_ADDRESS) else "email"
    if any(_is_phone_word(w) for w in words):
        return "phone"
    return None


# --- encoding ---------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


_ESCAPED = re.compile("[\udc80-\udcff]")
_ASCII = bytes(range(128))


def _utf8_counts(text: str) -> tuple[int, int]:
    """(bytes that were not UTF-8, characters that were UTF-8 of more than one byte)
    in a surrogateescape-decoded text."""
    valid = text.encode("utf-8", errors="ignore")  # drops the escaped bytes
    chars = len(valid.decode("utf-8"))
    ascii_chars = len(valid) - len(valid.translate(None, _ASCII))
    return len(text) - chars, chars - ascii_chars


def decode_csv(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a CSV file's bytes; see the module docstring.

    UTF-8 is decoded with surrogateescape: bytes that are not UTF-8 stay visible
    so each row holding one can be reported as an error.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            if encoding == "utf-8-sig":
                return data.decode(encoding, errors="surrogateescape"), "utf-8"
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                raise ImportRefused(_("not valid {encoding} text").format(encoding=encoding.upper())) from None
    head = data[:4]
    if len(head) == 4 and head[0] and not head[1] and head[2] and not head[3]:
        encoding = "utf-16-le"  # UTF-16 without a byte-order mark: every ASCII letter followed by NUL
    elif len(head) == 4 and not head[0] and head[1] and not head[2] and head[3]:
        encoding = "utf-16-be"
    else:
        encoding = ""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            raise ImportRefused(_("not valid {encoding} text").format(encoding=encoding.upper())) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="surrogateescape")
    not_utf8, multibyte = _utf8_counts(text)
    if not_utf8 > multibyte:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass  # bytes Windows-1252 does not define: neither; the rows holding them are errors
    return text, "utf-8"


# --- delimiter --------------------------------------------------------------------------------------

DELIMITERS = (",", ";", "\t")
_SNIFF_CHARS = 64 * 1024
_SNIFF_ROWS = 50
_SEP_LINE = re.compile(r"sep=([,;\t|])", re.IGNORECASE)


def excel_separator(text: str) -> str | None:
    """The delimiter an Excel ``sep=;`` first line names, or None."""
    found = _SEP_LINE.fullmatch(text.split("\n", 1)[0].rstrip("\r"))
    return found.group(1) if found else None


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: ',', ';' or tab.

    Each is tried on the first rows (quotes respected, so a ';' inside a quoted
    cell does not count); the winner has a header naming known columns and more
    than one column, then the most rows as wide as the header, then the most
    known columns.  Ties go to the comma.
    """
    sample = text[:_SNIFF_CHARS]
    cut = len(text) > len(sample)
    best, best_score = ",", (False, False, 0, 0, 0)
    for delimiter in DELIMITERS:
        rows: list[list[str]] = []
        complete = not cut
        try:
            for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                rows.append(row)
                if len(rows) > _SNIFF_ROWS:
                    complete = True
                    break
        except csv.Error:
            complete = False
        if not complete and len(rows) > 1:
            rows.pop()  # may be cut in the middle
        if not rows:
            continue
        header, body = rows[0], [r for r in rows[1:] if any(cell.strip() for cell in r)]
        width = len(header)
        known = sum(1 for cell in header if classify_header(cell) is not None)
        even = sum(1 for r in body if len(r) == width) if width > 1 else 0
        score = (known > 0, width > 1, even, known, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- parsing ----------------------------------------------------------------------------------------


def _has_bad_bytes(text: str) -> bool:
    return _ESCAPED.search(text) is not None


def _dialect(keys: set[str]) -> str:
    if keys & {"email1value", "phone1value", "email1wert", "telefon1wert"}:
        return "google-csv"
    if keys & {"emailaddress", "emailadresse", "mobilephone", "businessphone", "telefongeschäftlich"}:
        return "outlook-csv"
    if keys & {"primaryemail", "secondaryemail", "primäreemailadresse", "teldienstlich", "mobiltelnr"}:
        return "thunderbird-csv"
    return "csv"


_NO_COLUMN = N_(
    "the CSV header line is not readable: no column for a name, an e-mail address or a phone number "
    "(known: English and German headers of Outlook, Google, Apple and Thunderbird exports)"
)


def parse_csv(data: bytes) -> tuple[str, list[ParsedEntry], tuple[str, ...]]:
    """(dialect name, entries, ignored columns) of a CSV contact export."""
    text, _encoding = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    if len(first_line) > importers.MAX_ENTRY_BYTES:
        raise ImportRefused(_("the header line is too long"))
    declared = excel_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=declared or sniff_delimiter(text))
    try:
        if declared:
            next(reader)  # the "sep=;" line
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportRefused(_("no CSV header line")) from None
    if len(header) > importers.MAX_COLUMNS or _has_bad_bytes("".join(header)) or "\x00" in "".join(header):
        raise ImportRefused(_("the CSV header line is not readable"))
    roles = [classify_header(h) for h in header]
    if not any(r in ("full", "given", "family", "email", "phone") for r in roles):
        raise ImportRefused(_(_NO_COLUMN))
    dialect = _dialect({_header_key(h) for h in header})
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
            message = _("malformed CSV row (a cell is over {limit} bytes?)").format(limit=importers.MAX_CSV_FIELD)
            entries.append(ParsedEntry(index, start, error=message))
            previous_end = reader.line_num
            continue
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        index += 1
        if index > importers.MAX_ENTRIES:
            raise ImportRefused(_("more than {count} entries").format(count=importers.MAX_ENTRIES))
        entries.append(_csv_entry(index, start, row, roles))
    return dialect, entries, ignored_columns


def _csv_entry(index: int, line: int, row: list[str], roles: list[str | None]) -> ParsedEntry:
    joined = "".join(row)
    if len(joined.encode("utf-8", errors="surrogateescape")) > importers.MAX_ENTRY_BYTES:
        return ParsedEntry(index, line, error=_("larger than the entry limit"))
    if _has_bad_bytes(joined):
        return ParsedEntry(index, line, error=_("not valid UTF-8 text"))
    if "\x00" in joined:
        return ParsedEntry(index, line, error=_("contains a NUL byte"))
    if len(row) > len(roles):
        extra = row[len(roles) :]
        if any(cell.strip() for cell in extra):
            return ParsedEntry(index, line, error=_("more cells than header columns"))
    values: dict[str, list[str]] = {}
    for cell, role in zip(row, roles, strict=False):
        if role is None or not cell.strip():
            continue
        parts = cell.split(_GOOGLE_SEPARATOR) if role in ("email", "phone") else [cell]
        values.setdefault(role, []).extend(p.strip() for p in parts if p.strip())

    prefixes = (
        " ".join(w for w in v.split() if w.casefold().rstrip(".") not in _SALUTATIONS) for v in values.get("prefix", [])
    )
    values["prefix"] = [v for v in prefixes if v]

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
