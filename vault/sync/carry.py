"""The sealed index carried in the blob, compressed (issue 15: a clone opens no record).

The index cache (vault.index) holds every record's search keys and decoded
payload in 256 sealed buckets.  A vault made by a clone had none, so its first
unlock opened every record (at 100k records ~9 s of a 18 s clone).  Sealed
buckets do not compress, and as they are they would make every blob ~70%
larger; so a push with the key ring unlocked puts into the snapshot each bucket
*compressed, then sealed again* under its own associated data (the blob ~20%
larger at 100k), and a clone turns them back into ordinary buckets before its
first unlock.

Nothing here is trusted more than the vault's own cache: a carried bucket must
open with the index key under the associated data of its vault and bucket
number; what does not is left out (that bucket's records are opened from their
rows).  The unlock then checks every entry against its row's tag as always, so
a stale, replayed or foreign bucket can only cost time, never show a record as
it no longer is, nor one that is gone.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vault import crypto
from vault.index import bucket_ad
from vault.store.schema import INDEX_BUCKETS

CARRIED = b"sealbook-carried-index-v1"
LEVEL = 1  # zlib level: 55 -> 15 MB at 100k records in ~0.3 s of CPU (level 6: 13 MB, 3x the time)
MAX_BUCKET_TEXT = 64 * 1024 * 1024  # a carried bucket never inflates past this (authenticated anyway)
THREADS = 2  # zlib and libsodium release the GIL: the buckets are packed on both cores


def carried_ad(vault_id: bytes, bucket: int) -> bytes:
    """The associated data of a carried bucket: never that of a vault bucket, bound to the bucket number."""
    return crypto.pae(CARRIED, vault_id, bucket)


def pack(key: bytes | bytearray, vault_id: bytes, buckets: Iterable[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """The vault's sealed buckets as carried buckets (those that do not open are left out)."""

    def one(item: tuple[int, bytes]) -> tuple[int, bytes] | None:
        bucket, sealed = item
        try:
            text = crypto.open_sealed(key, sealed, bucket_ad(vault_id, bucket))
        except crypto.SealBroken:
            return None
        return bucket, crypto.seal(key, zlib.compress(text, LEVEL), carried_ad(vault_id, bucket))

    with ThreadPoolExecutor(THREADS) as pool:
        return [packed for packed in pool.map(one, buckets) if packed is not None]


def unpack(key: bytes | bytearray, vault_id: bytes, rows: Iterable[Sequence[object]]) -> list[tuple[int, bytes]]:
    """Carried buckets (rows of bucket, sealed as stored) back as the vault's sealed buckets;
    any row that is malformed, does not open or does not inflate is left out."""

    def one(row: Sequence[object]) -> tuple[int, bytes] | None:
        if len(row) != 2:
            return None
        bucket, packed = row
        if type(bucket) is not int or not 0 <= bucket < INDEX_BUCKETS or type(packed) is not bytes:
            return None
        try:
            inflater = zlib.decompressobj()
            text = inflater.decompress(crypto.open_sealed(key, packed, carried_ad(vault_id, bucket)), MAX_BUCKET_TEXT)
        except (crypto.SealBroken, zlib.error):
            return None
        if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
            return None
        return bucket, crypto.seal(key, text, bucket_ad(vault_id, bucket))

    with ThreadPoolExecutor(THREADS) as pool:
        return [sealed for sealed in pool.map(one, rows) if sealed is not None]


def carry_into(snapshot: Path, key: bytes | bytearray, vault_id: bytes, buckets: Iterable[tuple[int, bytes]]) -> None:
    """Write the carried form of ``buckets`` into the snapshot's (empty) index table."""
    packed = pack(key, vault_id, buckets)
    conn = sqlite3.connect(snapshot, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO index_cache (bucket, sealed) VALUES (?, ?)", packed)
        conn.execute("COMMIT")
    finally:
        conn.close()


def restore_in(conn: sqlite3.Connection, key: bytes | bytearray, vault_id: bytes) -> int:
    """In a cloned vault (``conn``, inside the caller's transaction): the carried buckets
    become the index cache.  Returns how many did."""
    rows = conn.execute("SELECT bucket, sealed FROM index_cache").fetchall()
    conn.execute("DELETE FROM index_cache")
    restored = unpack(key, vault_id, rows)
    conn.executemany("INSERT INTO index_cache (bucket, sealed) VALUES (?, ?)", restored)
    return len(restored)
