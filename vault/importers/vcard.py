"""Reading vCard 2.1, 3.0 and 4.0 files into :class:`ParsedEntry` objects.

The file is first cut into cards as raw lines (photos and other blobs dropped
unparsed, each card capped at ``MAX_ENTRY_BYTES``); each card is then parsed
with vobject's line parser and RFC 6350 text unescaping.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import vobject

from vault import importers

# The limits are read from the package at call time: that is where they are
# documented, and where callers (and tests) read or change them.
from vault.i18n import _
from vault.importers.entries import ImportRefused, ParsedEntry, normalise_newlines

SKIPPED_PROPERTIES = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})  # binary blobs: never parsed, never stored
# Properties that are imported, or that carry nothing worth reporting as "not imported".
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
    # Line by line from a view of the bytes (no list of every line of a large file at once).
    for number, raw in enumerate(io.BytesIO(data), start=1):
        line = (raw[:-1] if raw[-1:] == b"\n" else raw).rstrip(b"\r")
        upper = line.strip().upper()
        if card is None:
            if upper == b"BEGIN:VCARD":
                if stray_from:
                    yield _Card(stray_from), _("text outside a vCard")
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
                yield card, (_("larger than the entry limit") if card.too_big else "")
                card = None
                continue
            if upper == b"BEGIN:VCARD":
                yield card, _("no END:VCARD before the next BEGIN:VCARD")
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
        if card.size > importers.MAX_ENTRY_BYTES:
            card.too_big = True
            card.lines = []
        elif not card.too_big:
            card.lines.append(line)
    if card is not None:
        yield card, _("the file ends inside a vCard (no END:VCARD)")
    elif stray_from:
        yield _Card(stray_from), _("text outside a vCard")


def parse_vcards(data: bytes) -> Iterator[ParsedEntry]:
    """Every vCard of a file, parsed with vobject (2.1 quoted-printable allowed)."""
    for index, (card, error) in enumerate(_split_vcards(data), start=1):
        if index > importers.MAX_ENTRIES:
            raise ImportRefused(_("more than {count} entries").format(count=importers.MAX_ENTRIES))
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
    line_re = vobject.base.line_re
    for logical, number in _logical_lines(text):
        # vobject's own line grammar, without building its ContentLine object (about
        # 60 us a line, most of an import's parsing): the name and the raw value are
        # what ContentLine would hold, unless the line is quoted-printable, which
        # ContentLine decodes; such lines (vCard 2.1) still go through it.
        match = line_re.match(logical)
        if match is None:
            raise ValueError("unreadable line")
        head = logical[: match.start("value")]
        if "QUOTED-PRINTABLE" in head.upper():
            line = vobject.base.textLineToContentLine(logical, number)
            name, value = str(line.name).upper(), line.value
        else:
            name, value = match.group("name").replace("_", "-").upper(), match.group("value")
        if name == "BEGIN":
            depth += 1
            if depth > 1:
                raise ValueError("nested component")
            continue
        if name == "END":
            depth -= 1
            continue
        if not isinstance(value, str):
            raise ValueError("binary value")
        yield name, value


def _logical_lines(text: str) -> Iterable[tuple[str, int]]:
    """vobject's getLogicalLines (quoted-printable allowed), with a shortcut for the common
    card that has neither folded lines nor quoted-printable (issue 15: a fifth of the vCard
    parsing): each line that is not blank is then a logical line of its own.  The numbers
    are vobject's too (a line begun after a blank line, or first, carries the number of
    that blank line, or 0).  Anything else goes through vobject."""
    lines = text.split("\n")  # io.StringIO.readline splits at LF only, as here
    if "quoted-printable" in text.lower() or any(line[:1] in (" ", "\t") for line in lines):
        return vobject.base.getLogicalLines(io.StringIO(text), True)  # type: ignore[no-any-return]
    out: list[tuple[str, int]] = []
    start, pending = 0, False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.rstrip():
            start, pending = number, False
            continue
        if pending:
            start = number
        out.append((line, start))
        pending = True
    return out


def split_unescaped(value: str, separator: str) -> list[str]:
    """Split at separators not preceded by a backslash (structured values such as N and ORG)."""
    if "\\" not in value:
        return value.split(separator)  # nothing escaped: the loop below would cut at every separator
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
    if "\\" not in value:
        return value
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


def _parse_card(index: int, card: _Card) -> ParsedEntry:
    raw = b"\r\n".join(card.lines)
    if b"\x00" in raw:
        return ParsedEntry(index, card.line, error=_("contains a NUL byte"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = card.line + raw[: exc.start].count(b"\n")
        return ParsedEntry(index, card.line, error=_("not valid UTF-8 text (line {line})").format(line=bad_line))
    try:
        properties = list(_content_lines(text))
    except Exception:  # vobject raises many types on hostile input; each one means "unreadable"
        return ParsedEntry(index, card.line, error=_("not a readable vCard"))
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
            note_parts.append(normalise_newlines(unescape(raw_value)).strip())
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
