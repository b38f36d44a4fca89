"""Reading an import file: its bytes (size-capped) and which parser gets them."""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from pathlib import Path

from vault import importers

# The limits are read from the package at call time: that is where they are
# documented, and where callers (and tests) read or change them.
from vault.i18n import _
from vault.importers.csvfile import parse_csv
from vault.importers.entries import ImportRefused, ParsedEntry
from vault.importers.vcard import parse_vcards


def read_file(path: Path) -> bytes:
    """The file's bytes, refused before reading when larger than MAX_FILE_BYTES."""
    path = Path(path)
    limit = importers.MAX_FILE_BYTES
    try:
        if not path.is_file():
            raise ImportRefused(_("not a file"))
        if path.stat().st_size > limit:
            raise ImportRefused(_("larger than {size} MiB").format(size=limit // (1024 * 1024)))
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ImportRefused(exc.strerror) from None
    if len(data) > limit:
        raise ImportRefused(_("larger than {size} MiB").format(size=limit // (1024 * 1024)))
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
    raise ImportRefused(_("neither vCard nor CSV"))


def read_entries(data: bytes, file_name: str = "") -> tuple[str, list[ParsedEntry], tuple[str, ...]]:
    """(format, entries, ignored CSV columns) for the bytes of an import file."""
    kind, entries, ignored = stream_entries(data, file_name)
    return kind, list(entries), ignored


def stream_entries(data: bytes, file_name: str = "") -> tuple[str, Iterable[ParsedEntry], tuple[str, ...]]:
    """Like :func:`read_entries`, but a vCard file's entries are parsed as they are
    consumed, so an import holds one parsed entry at a time, not the whole file's
    (ImportRefused for too many entries comes from the iteration then)."""
    kind = detect_format(data, file_name)
    if kind == "vcard":
        return "vcard", parse_vcards(data), ()
    return parse_csv(data)
