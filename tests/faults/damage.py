"""Damage a vault file or a sync blob on purpose, and say which part of the file a
byte belongs to.  Used by test_corruption.py; also a script, to repeat a case by hand:

    python -m tests.faults.damage regions VAULT           # byte ranges per part of the file
    python -m tests.faults.damage flip FILE OFFSET BIT    # flip one bit (BIT 0-7)
    python -m tests.faults.damage truncate FILE LENGTH    # cut the file to LENGTH bytes
    python -m tests.faults.damage blob-regions BLOB       # byte ranges per part of a sync blob
"""

from __future__ import annotations

import sqlite3
import struct
import sys
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

SQLITE_HEADER = 100
BTREE_HEADER = 12

# dbstat object name -> the part of the vault it holds.
PARTS = {
    "sqlite_schema": "schema",
    "alembic_version": "schema version",
    "sqlite_autoindex_alembic_version_1": "schema version",
    "vault_meta": "key header",
    "contacts": "records",
    "sqlite_autoindex_contacts_1": "record indexes",
    "ix_contacts_retention_end": "record indexes",
    "ix_contacts_review_at": "record indexes",
    "index_cache": "index cache",
    "manifest": "manifest",
    "sqlite_autoindex_manifest_1": "manifest",
    "ix_manifest_bucket": "manifest",
    "tombstones": "tombstones",
    "sqlite_autoindex_tombstones_1": "tombstones",
    "audit": "audit log",
    "ix_audit_action": "audit log",
    "ix_audit_at": "audit log",
    "suppression": "suppression list",
    "sqlite_autoindex_suppression_1": "suppression list",
    "requests": "requests",
    "sqlite_autoindex_requests_1": "requests",
    "ix_requests_deadline": "requests",
}

Ranges = dict[str, list[tuple[int, int]]]


def vault_regions(path: Path) -> Ranges:
    """Byte ranges [start, end) of each part of an SQLite vault file (page 1's first
    100 bytes are the "file header"; pages no table uses are "free pages")."""
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        page_count = int(conn.execute("PRAGMA page_count").fetchone()[0])
        owners = {int(page): str(name) for name, page in conn.execute("SELECT name, pageno FROM dbstat")}
    ranges: Ranges = {"file header": [(0, SQLITE_HEADER)]}
    for page in range(1, page_count + 1):
        start = (page - 1) * page_size
        if page == 1:
            start = SQLITE_HEADER
        owner = owners.get(page, "free pages")
        part = PARTS.get(owner, owner)
        ranges.setdefault(part, []).append((start, page * page_size))
    return ranges


def object_pages(path: Path, name: str) -> list[tuple[int, int]]:
    """Byte ranges of the pages of one table or index (dbstat name)."""
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = [int(row[0]) for row in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (name,))]
    return [((page - 1) * page_size, page * page_size) for page in sorted(pages)]


def blob_regions(data: bytes) -> Ranges:
    """Byte ranges of a sync blob (vault.sync.blob): prefix, header, checksum, chunk
    lengths, chunk ciphertexts (first, middle, last)."""
    prefix = struct.Struct("<8sBI")
    _magic, _version, header_len = prefix.unpack_from(data, 0)
    ranges: Ranges = {
        "magic": [(0, 8)],
        "format version": [(8, 9)],
        "header length": [(9, 13)],
        "key header": [(13, 13 + header_len)],
        "checksum": [(13 + header_len, 13 + header_len + 16)],
    }
    offset = 13 + header_len + 16
    chunks: list[tuple[int, int]] = []
    lengths: list[tuple[int, int]] = []
    while offset + 4 <= len(data):
        (n,) = struct.unpack_from("<I", data, offset)
        lengths.append((offset, offset + 4))
        chunks.append((offset + 4, min(offset + 4 + n, len(data))))
        offset += 4 + n
    ranges["chunk lengths"] = lengths
    ranges["first chunk (metadata)"] = chunks[:1]
    if len(chunks) > 2:
        ranges["middle chunks"] = chunks[1:-1]
    ranges["last chunk (FINAL tag)"] = chunks[-1:]
    return ranges


def flip(path: Path, offset: int, bit: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


def truncate(path: Path, length: int) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(length)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "regions":
        for part, spans in sorted(vault_regions(Path(argv[1])).items()):
            print(f"{part:<20}" + " ".join(f"{a}-{b}" for a, b in spans))
        return 0
    if len(argv) == 2 and argv[0] == "blob-regions":
        for part, spans in blob_regions(Path(argv[1]).read_bytes()).items():
            print(f"{part:<24}" + " ".join(f"{a}-{b}" for a, b in spans))
        return 0
    if len(argv) == 4 and argv[0] == "flip":
        flip(Path(argv[1]), int(argv[2]), int(argv[3]))
        return 0
    if len(argv) == 3 and argv[0] == "truncate":
        truncate(Path(argv[1]), int(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
