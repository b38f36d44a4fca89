"""Causal history of a record: a version vector, signed with its metadata (issue 10).

Timestamps cannot tell whether two versions of a record were made one after the
other or side by side on two devices that had not synced.  So every version
carries, per device, how many changes that device made to the record's history:
each local write adds one to the writing device's own counter; a version pulled
from another device keeps its vector.  Version ``a`` precedes ``b`` when every
counter of ``a`` is at most the one in ``b``; when neither precedes the other
they are concurrent, and no merge may drop one of them without a report.

The vector is plaintext metadata covered by the record's Ed25519 metadata
signature (vault.records.meta_message), so the passphrase-less purge copies it
into the tombstone unchanged and a verifier needs no passphrase.  It names
devices by their random id and counts writes; nothing personal.

Encoding (canonical, so one history has one byte string): entries sorted by
device id, each the 8-byte device id (16 hex digits decoded) followed by the
counter as 4 bytes big-endian, counters at least 1.  Rows written before
histories existed carry ``b""``: unknown history, for which the merge keeps its
older version-number rules.
"""

from __future__ import annotations

import enum
import hashlib
import struct

ENTRY = struct.Struct(">8sI")
MAX_DEVICES = 256  # a history longer than this is damage, not a real vault


class Order(enum.Enum):
    SAME = "same"
    BEFORE = "before"  # the first precedes the second
    AFTER = "after"  # the second precedes the first
    CONCURRENT = "concurrent"


def decode(history: bytes) -> dict[bytes, int]:
    """device id (8 bytes) -> counter; ValueError for anything not canonical."""
    if len(history) % ENTRY.size or len(history) > MAX_DEVICES * ENTRY.size:
        raise ValueError("malformed history")
    out: dict[bytes, int] = {}
    previous = b""
    for device, counter in ENTRY.iter_unpack(history):
        if device <= previous or counter < 1:
            raise ValueError("malformed history")
        out[device] = counter
        previous = device
    return out


def encode(vector: dict[bytes, int]) -> bytes:
    return b"".join(ENTRY.pack(device, vector[device]) for device in sorted(vector))


def well_formed(history: bytes) -> bool:
    try:
        decode(history)
    except ValueError:
        return False
    return True


def device_key(device_id: str) -> bytes:
    """The 8-byte form of a device id (16 hex digits; any other form is hashed to 8 bytes)."""
    try:
        raw = bytes.fromhex(device_id)
    except ValueError:
        raw = b""
    if len(raw) == 8:
        return raw
    return hashlib.blake2b(device_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def bump(history: bytes, device_id: str) -> bytes:
    """The history of the next version written on ``device_id`` after ``history``."""
    vector = decode(history) if history else {}
    key = device_key(device_id)
    vector[key] = vector.get(key, 0) + 1
    return encode(vector)


def order(a: bytes, b: bytes) -> Order | None:
    """How version ``a`` relates to version ``b``; None when either history is unknown
    (empty, from before histories) or malformed: the caller falls back to version numbers."""
    if not a or not b:
        return None
    try:
        va, vb = decode(a), decode(b)
    except ValueError:
        return None
    a_le_b = all(n <= vb.get(d, 0) for d, n in va.items())
    b_le_a = all(n <= va.get(d, 0) for d, n in vb.items())
    if a_le_b and b_le_a:
        return Order.SAME
    if a_le_b:
        return Order.BEFORE
    if b_le_a:
        return Order.AFTER
    return Order.CONCURRENT


def precedes(a: bytes, b: bytes) -> bool | None:
    """``a`` is ``b`` or one of its ancestors; None when unknown."""
    found = order(a, b)
    return None if found is None else found in (Order.SAME, Order.BEFORE)
