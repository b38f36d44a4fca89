"""Opening many records on both cores: the first unlock of a vault without a sealed index.

A fresh clone, or a vault whose index cache was lost, has every record opened
one by one at its first unlock (AEAD, JSON, search keys with phone formatting:
about 150 µs each, 15 s at 100,000 records) under one interpreter lock.  Where
there is a second core, RecordBook.load hands part of those records to a child
process (:class:`Opening`) and opens the rest itself meanwhile.

The child is a fresh interpreter (an SQLite connection must never cross a
fork).  It gets the record key, the row-tag key, the vault id and the ids to
open on its standard input (never in its arguments or environment), reads
those rows in one read transaction of its own, and answers on its standard
output with an index entry (vault.index) per record it opened: the same entry
the sealed index would have held.  Nothing goes to disk; the pipe is private
to the two processes.

The child's answer is trusted exactly as far as a sealed index entry is: the
caller takes an entry only when its row tag equals the tag the caller read for
that id, i.e. when the child opened, byte for byte, the row the caller holds.
Anything else (a row the child skipped or could not open, another snapshot,
a child that failed or never started) the caller opens itself.
"""

from __future__ import annotations

import marshal
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from vault import crypto, rowscan
from vault import index as cache
from vault.errors import VaultDamaged
from vault.sealing import SealedContact, open_row
from vault.search import contact_keys

# Below this many records to open, the child's start (~0.2 s of imports) costs more than it saves.
PARALLEL_FROM = 10_000

_KEY = 32
_VAULT_ID = 16


def _day(raw: object) -> date | None:
    """A stored date in the one form the store writes (YYYY-MM-DD), else ValueError."""
    if raw is None:
        return None
    if type(raw) is not str or len(raw) != 10:
        raise ValueError("not a stored date")
    day = date.fromisoformat(raw)
    if day.isoformat() != raw:
        raise ValueError("not a stored date")
    return day


def raw_row(values: Sequence[Any]) -> SealedContact | None:
    """The row of one CONTACT_CHECKS tuple (as the store would read it), or None when any value is not in the exact form
    the store writes (the caller opens such a row itself, and judges it)."""
    record_id, version, end, review, hold, meta_sig, sealed, history = values
    if (
        type(record_id) is not str
        or type(version) is not int
        or type(hold) is not int
        or hold not in (0, 1)
        or type(meta_sig) is not bytes
        or len(meta_sig) != 64
        or type(sealed) is not bytes
        or type(history) is not bytes
    ):
        return None
    try:
        return SealedContact(record_id, _day(end), _day(review), bool(hold), version, meta_sig, sealed, history)
    except ValueError:
        return None


def open_entries(
    rows: Iterable[Sequence[Any]], records_key: bytes | bytearray, tag_key: bytes | bytearray, vault_id: bytes
) -> list[cache.Entry]:
    """The index entry of every row that opens; rows that do not are left out."""
    tagger = crypto.row_tagger(tag_key)
    out: list[cache.Entry] = []
    for values in rows:
        row = raw_row(values)
        if row is None:
            continue
        try:
            contact = open_row(records_key, vault_id, row)
        except VaultDamaged:
            continue
        tag = cache.contact_tag(tagger, contact, row.meta_sig, row.sealed)
        out.append(cache.make_entry(contact, tag, contact_keys(contact)))
    return out


def split(ids: list[str]) -> tuple[list[str], list[str]]:
    """(the caller's share, the child's share) of ``ids`` to open.  The child's share is a
    little smaller: it also makes each entry's JSON, which the caller does later, when it
    seals the index."""
    cut = len(ids) * 21 // 40
    return ids[:cut], ids[cut:]


def open_shared(
    stale: list[str],
    tags: Mapping[str, str],
    open_rows: Callable[[list[str]], None],
    adopt: Callable[[list[cache.Entry]], None],
    path: os.PathLike[str] | str,
    keys: tuple[bytes | bytearray, bytes | bytearray, bytes],
) -> None:
    """Open the records ``stale`` names (RecordBook.load): about half by a child when there are
    enough, the rest, and whatever the child does not vouch for, with ``open_rows``.  The
    child's entries go to ``adopt`` only where their row tag equals the one in ``tags`` (every
    row's tag as the caller read it): byte for byte the row the caller holds.  ``keys``: the
    record key, the row-tag key and the vault id."""
    mine, theirs = split(stale)
    opening = start(path, *keys, theirs)
    if opening is None:
        open_rows(stale)
        return
    try:
        open_rows(mine)
        taken = [e for e in opening.result() or [] if tags.get(e[cache.ID]) == e[cache.TAG]]
        adopt(taken)
        done = {e[cache.ID] for e in taken}
        open_rows([rid for rid in theirs if rid not in done])
    finally:
        opening.close()


def start(path: os.PathLike[str] | str, records_key: bytes | bytearray, tag_key: bytes | bytearray,
          vault_id: bytes, ids: list[str]) -> Opening | None:  # fmt: skip
    """An :class:`Opening` of ``ids`` when there are enough of them to be worth a second
    process and there is a second core; None means: open them in-process."""
    if len(ids) < PARALLEL_FROM // 2 or not rowscan.has_a_second_core():
        return None
    try:
        return Opening(path, records_key, tag_key, vault_id, ids)
    except OSError:  # no process to be had (no interpreter, no memory, a process limit)
        return None


class Opening:
    """The index entries of the rows with ``ids``, made by a child process: :meth:`result`, then :meth:`close`."""

    def __init__(self, path: os.PathLike[str] | str, records_key: bytes | bytearray, tag_key: bytes | bytearray,
                 vault_id: bytes, ids: list[str]) -> None:  # fmt: skip
        if len(records_key) != _KEY or len(tag_key) != _KEY or len(vault_id) != _VAULT_ID:
            raise ValueError("key or vault id of the wrong size")
        self._child, stdin = rowscan.spawn("vault.rowopen", os.fspath(path))
        # The ids may be megabytes, more than a pipe holds: written by a thread, so the
        # caller opens its own share meanwhile.  The keys go first, straight from their
        # buffers (no copy of them is made here).
        self._writer = threading.Thread(
            target=_feed, args=(stdin, [records_key, tag_key, vault_id, marshal.dumps(ids)]), daemon=True
        )
        self._writer.start()

    def result(self) -> list[cache.Entry] | None:
        """The child's entries, or None when it failed (open them in-process then)."""
        entries = rowscan.answer(self._child)
        self._writer.join()
        if type(entries) is not list or not all(_well_formed(entry) for entry in entries):
            return None
        return entries

    def close(self) -> None:
        rowscan.stop(self._child)
        self._writer.join()


_ENTRY_TYPES = (str, str, str, str, int, str)


def _well_formed(entry: object) -> bool:
    return (
        type(entry) is list
        and len(entry) == cache.ENTRY_FIELDS
        and all(type(value) is kind for value, kind in zip(entry, _ENTRY_TYPES, strict=True))
    )


def _feed(stdin: Any, parts: list[bytes | bytearray]) -> None:
    try:
        for part in parts:
            stdin.write(part)
    except OSError:
        pass  # the child is gone: result() says so
    finally:
        try:
            stdin.close()
        except OSError:
            pass


def _read_exactly(stream: Any, size: int) -> bytearray:
    out = bytearray()
    while len(out) < size:
        chunk = stream.read(size - len(out))
        if not chunk:
            break
        out += chunk
    return out


def _main(path: str) -> int:
    """The child: read the keys and ids, open those rows in one read transaction, answer."""
    from vault.store import reader

    stdin = sys.stdin.buffer
    keys = _read_exactly(stdin, 2 * _KEY)
    records_key, tag_key = keys[:_KEY], keys[_KEY:]
    crypto.wipe(keys)
    try:
        vault_id = bytes(_read_exactly(stdin, _VAULT_ID))
        ids = marshal.loads(stdin.read())  # noqa: S302 - our parent's list on a private pipe
        if len(tag_key) != _KEY or len(vault_id) != _VAULT_ID or type(ids) is not list:
            return 2
        rows: list[Any] = []
        with rowscan.snapshot(path) as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                where = " WHERE contacts.id IN (" + ",".join("?" * len(chunk)) + ")"
                rows.extend(conn.execute(reader.CONTACT_CHECKS + where, chunk))
        answer = open_entries(rows, records_key, tag_key, vault_id)
    finally:
        crypto.wipe(records_key)
        crypto.wipe(tag_key)
    sys.stdout.buffer.write(marshal.dumps(answer))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1]))
