"""Every row's keyed tag (RecordBook.load's row loop), computed on the second core.

At 100,000 records, reading and tagging every row is half the work of a
`find` or an unlock, and all of it runs under one interpreter lock.  Where
there is a second core, vault.lookup and RecordBook.load have a child process
do it (:class:`Scan`) while they check the signed head and open the index
buckets themselves.  The child is a
fresh interpreter (an SQLite connection must never cross a fork), reads the
file in its own read transaction, gets the row-tag key on its standard input
(never in its arguments or environment) and answers on its standard output
with ids, keyed tags and versions: no personal data, nothing on disk.

Whatever goes wrong in the child (it cannot start, fails, or reads another
snapshot than the caller's) makes the caller's check fail, and vault.lookup
leaves the answer to the facade, as it does for any row the index does not
vouch for.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from vault import crypto
from vault import index as cache

# Below this many records a second process costs more than it saves (its start is ~0.1 s).
PARALLEL_FROM = 20_000

# (ids, tags, stored versions) of every row in the order read (lists: the child's answer
# stays small).
Tags = tuple[list[Any], list[str], list[Any]]

# The tag of a row that cannot be tagged (a malformed signature or payload): no entry of
# the index cache has it (theirs are hex digests), so such a row is always opened and judged.
UNTAGGED = ""


def row_tags(rows: Iterable[tuple[Any, ...]], tag_key: bytes | bytearray) -> Tags:
    """The tag of every row as Store.contact_checks gives them (cache.row_tag of
    cache.stored_metadata, inlined: this loop runs once per record), and its stored version."""
    tagger = crypto.row_tagger(tag_key)
    history_of = cache.stored_history
    ids: list[Any] = []
    tags: list[str] = []
    versions: list[Any] = []
    for record_id, version, end, review, hold, meta_sig, sealed, history in rows:
        ids.append(record_id)
        versions.append(version)
        if type(meta_sig) is not bytes or len(meta_sig) != 64 or type(sealed) is not bytes:
            tags.append(UNTAGGED)
        else:
            meta = history_of(b"%r|%r|%r|%r" % (version, end, review, hold), history)
            tags.append(tagger(meta, meta_sig, sealed))
    return ids, tags, versions


def has_a_second_core() -> bool:
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # not on Linux
        return (os.cpu_count() or 1) > 1


def start(path: Path, tag_key: bytes | bytearray, rows: int) -> Scan | None:
    """A :class:`Scan` of the vault at ``path`` when it holds enough ``rows`` (about) to
    be worth a second process and there is a second core; None means: tag in-process."""
    if rows < PARALLEL_FROM or not has_a_second_core():
        return None
    try:
        return Scan(path, tag_key)
    except OSError:  # no process to be had (no interpreter, no memory, a process limit)
        return None


def spawn(module: str, path: str) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """A fresh interpreter running ``python -m module path``, with pipes: (the process, its
    standard input, which the caller writes and closes; ``communicate()`` then only reads)."""
    child = subprocess.Popen(
        [sys.executable, "-m", module, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    stdin, child.stdin = child.stdin, None
    assert stdin is not None
    return child, stdin


def answer(child: subprocess.Popen[bytes]) -> object:
    """The child's marshalled answer, or None when it failed or said nothing readable."""
    out, _err = child.communicate()
    if child.returncode != 0:
        return None
    try:
        return marshal.loads(out)  # noqa: S302 - our own child's answer on a private pipe
    except (ValueError, EOFError, TypeError):
        return None


def stop(child: subprocess.Popen[bytes]) -> None:
    """End the child if it still runs (the caller is done with it, or gave up)."""
    if child.poll() is None:
        child.kill()
        child.communicate()


class Scan:
    """:func:`row_tags` of the vault at ``path``, computed by a child process; :meth:`result`, then :meth:`close`."""

    def __init__(self, path: Path, tag_key: bytes | bytearray) -> None:
        self._child, stdin = spawn("vault.rowscan", str(path))
        try:
            stdin.write(bytes(tag_key))  # 32 bytes: fits the pipe, never blocks
            stdin.close()
        except OSError:
            pass  # the child is gone: result() says so

    def result(self) -> Tags | None:
        """The child's answer, or None when it failed (tag in-process then)."""
        tags = answer(self._child)
        if type(tags) is not tuple or len(tags) != 3 or len({len(part) for part in tags}) != 1:
            return None
        return tags

    def close(self) -> None:
        stop(self._child)


@contextmanager
def snapshot(path: str) -> Iterator[sqlite3.Connection]:
    """A child's connection to the vault at ``path``, with the store's pragmas, inside one
    read transaction (one consistent snapshot, which never waits for a writer)."""
    from vault.store.engine import BUSY_TIMEOUT_MS, PRAGMAS

    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        conn.execute("BEGIN")
        yield conn
    finally:
        conn.close()


def _main(path: str) -> int:
    """The child: read the key, tag every row in one read transaction, answer."""
    from vault.store import reader

    key = bytearray(sys.stdin.buffer.read(64))
    if len(key) != 32:
        return 2
    try:
        with snapshot(path) as conn:
            answer = row_tags(conn.execute(reader.CONTACT_CHECKS), key)
    finally:
        crypto.wipe(key)
    sys.stdout.buffer.write(marshal.dumps(answer))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1]))
