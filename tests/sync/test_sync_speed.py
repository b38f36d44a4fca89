"""Issue 15: a pull of one change touches one row, and the shortcut lets no forged,
replayed or stale value through.

Real parts: two vault files, a real LocalFolder remote, the sqlite3 module for what an
attacker (or a device holding only the push key) could change in a file before a push.
The only stand-in is a spy that records which rows the record sealer opens.
"""

from __future__ import annotations

import hashlib
import marshal
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import draft
from tests.sync.conftest import Pair, later
from vault.store.schema import index_bucket
from vault.sync import engine as engine_module
from vault.sync.content import content_digests, live_digests
from vault.sync.errors import BlobDamaged
from vault.sync.snapshot import read_snapshot

Rows = dict[str, tuple[Any, ...]]


def rows_in(path: Path) -> Rows:
    with closing(sqlite3.connect(path)) as conn:
        return {row[0]: row for row in conn.execute("SELECT * FROM contacts")}


def buckets_in(path: Path) -> dict[int, bytes]:
    with closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT bucket, sealed FROM index_cache"))


def write_sql(path: Path, sql: str, *args: object) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(sql, args)
        conn.commit()


def shared_contacts(p: Pair, count: int = 40) -> list[str]:
    ids = [p.a.add(draft(name=f"Person {i:02d}", emails=(f"p{i}@example.org",))).id for i in range(count)]
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    later(p.clock)
    return ids


# --- pull -----------------------------------------------------------------------------------


def test_pull_of_one_change_opens_that_row_and_leaves_every_other_row_and_bucket_untouched(
    local_pair: Pair, opened: list[str]
) -> None:
    p = local_pair
    ids = shared_contacts(p)
    changed = ids[7]
    rows_before, buckets_before = rows_in(p.b.path), buckets_in(p.b.path)
    p.a.update(changed, draft(name="Person 07 Renamed", emails=("p7@example.org",)))
    p.a.sync_push(p.remote_a)
    opened.clear()

    report = p.b.sync_pull(p.remote_b)

    assert (report.added, report.updated, report.deleted) == (0, 1, 0)
    assert set(opened) == {changed}
    assert p.b.get(changed).name == "Person 07 Renamed"
    rows_after, buckets_after = rows_in(p.b.path), buckets_in(p.b.path)
    assert rows_after.keys() == rows_before.keys()
    assert {rid for rid in rows_before if rows_after[rid] != rows_before[rid]} == {changed}
    assert rows_after[changed] == rows_in(p.a.path)[changed]
    moved = {bucket for bucket in buckets_before if buckets_after.get(bucket) != buckets_before[bucket]}
    assert moved == {index_bucket(changed)}


def test_replayed_older_version_of_an_otherwise_unchanged_record_does_not_replace_the_newer_one(
    local_pair: Pair,
) -> None:
    p = local_pair
    ids = shared_contacts(p, 5)
    target = ids[2]
    old_row = rows_in(p.a.path)[target]
    p.a.update(target, draft(name="Person 02 v2", emails=("p2@example.org",)))
    p.a.sync_push(p.remote_a)
    p.b.sync_pull(p.remote_b)
    later(p.clock)
    newer = rows_in(p.b.path)[target]
    # Whoever can write device A's file puts the older (authentic) version back; A pushes it.
    columns = ", ".join(f"{name} = ?" for name in ("retention_end", "review_at", "hold", "meta_version",
                                                    "meta_sig", "sealed", "history"))  # fmt: skip
    write_sql(p.a.path, f"UPDATE contacts SET {columns} WHERE id = ?", *old_row[1:], target)
    p.a.add(draft(name="Something New"))
    p.a.sync_push(p.remote_a)

    report = p.b.sync_pull(p.remote_b)

    assert report.added == 1 and report.updated == 0
    assert rows_in(p.b.path)[target] == newer
    assert p.b.get(target).name == "Person 02 v2"


@pytest.mark.parametrize(
    ("column", "value", "rejected"),
    [("retention_end", "2099-12-31", False), ("hold", 1, False), ("meta_version", 9, True)],
    ids=["later-retention-end", "hold", "version"],
)
def test_row_with_the_same_ciphertext_and_signature_but_altered_metadata_changes_nothing(
    local_pair: Pair, column: str, value: object, rejected: bool
) -> None:
    """Not byte-identical, so not skipped as such: the merge sees it.  Same version and
    signature as the row held here: kept as it is (as before issue 15); another version
    must verify, and does not."""
    p = local_pair
    ids = shared_contacts(p, 5)
    target = ids[3]
    before = rows_in(p.b.path)[target]
    write_sql(p.a.path, f"UPDATE contacts SET {column} = ? WHERE id = ?", value, target)
    p.a.add(draft(name="Something New"))
    p.a.sync_push(p.remote_a)

    report = p.b.sync_pull(p.remote_b)

    assert (target in report.rejected) is rejected
    assert report.added == 1 and report.updated == 0
    assert rows_in(p.b.path)[target] == before
    assert p.b.get(target).name == "Person 03"


# --- the content digest a push compares -------------------------------------------------------


def _reference_digest(snapshot: Path) -> str:
    """content_digests written out plainly (ORDER BY in SQL, one value at a time), to pin the
    format: per table BLAKE2b-256 (personalised) over the sorted column names, then each row
    as a marshal (version 2) tuple of its values in that order."""

    def encoded(values: list[Any]) -> bytes:
        return marshal.dumps(tuple(values), 2)

    def table(conn: sqlite3.Connection, name: str, order: str, skip: frozenset[str] = frozenset()) -> Any:
        cursor = conn.execute(f"SELECT * FROM {name} ORDER BY {order}")
        keep = sorted((c[0], i) for i, c in enumerate(cursor.description) if c[0] not in skip)
        digest = hashlib.blake2b(digest_size=32, person=b"sealbook-rows-v2")
        digest.update(encoded([c for c, _ in keep]))
        for row in cursor:
            digest.update(encoded([row[i] for _, i in keep]))
        return digest

    per_device = frozenset({"id", "device_id", "sync_counter", "sync_hash", "head_epoch", "head_sig",
                            "manifest_digests", "header_checksum"})  # fmt: skip
    with closing(sqlite3.connect(snapshot)) as conn:
        parts = [table(conn, "vault_meta", "id", per_device), table(conn, "tombstones", "id"),
                 table(conn, "contacts", "id"), table(conn, "suppression", "digest")]  # fmt: skip
    whole = hashlib.blake2b(digest_size=32)
    for part in parts:
        whole.update(part.digest())
    return whole.hexdigest()


def test_content_digest_is_unchanged_by_the_faster_encoding(local_pair: Pair, tmp_path: Path) -> None:
    p = local_pair
    shared_contacts(p, 5)
    p.a.erase(p.a.add(draft(name="Gone", emails=("gone@example.org",))).id)
    snapshot = tmp_path / "odd.db"
    with closing(sqlite3.connect(p.a.path)) as conn:
        conn.execute("VACUUM INTO ?", (str(snapshot),))
    # A pull digests the contacts while it reads them (one scan, sorted in Python), also
    # when every row equals a local one and none is kept.
    known = {row[0]: row for row in p.a._store.contact_checks()}
    for local in ({}, known):
        scanned = read_snapshot(snapshot, known=local, digest=True)
        assert len(scanned.rows) == (0 if local else len(known)) and scanned.total == len(known)
        assert content_digests(snapshot, contacts=scanned.contacts_digest) == content_digests(snapshot)
    assert content_digests(snapshot).content == _reference_digest(snapshot)
    # Values of every storage class, in columns where a hostile blob could put them.
    odd: list[tuple[object, ...]] = [(1.5, None, "x"), (-(2**62), "naïve ✓", b""), (0, b"\x00", "")]
    with closing(sqlite3.connect(snapshot)) as conn:
        # A table as a hostile snapshot may declare it: same columns, no constraints.
        conn.executescript("CREATE TABLE loose AS SELECT * FROM contacts; DROP TABLE contacts; "
                           "ALTER TABLE loose RENAME TO contacts;")  # fmt: skip
        for n, (a, b, c) in enumerate(odd):
            conn.execute(
                "INSERT INTO contacts (id, retention_end, review_at, hold, meta_version, meta_sig, sealed, history) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (f"odd-{n}", a, b, c, a, b, c, b),
            )
        conn.commit()
    assert content_digests(snapshot).content == _reference_digest(snapshot)
    # An id that is not text cannot be ordered with the others (the digest sorts in Python):
    # refused as damaged, never digested in some other order.
    with closing(sqlite3.connect(snapshot)) as conn:
        conn.execute("UPDATE contacts SET id = x'07' WHERE id = 'odd-0'")
        conn.commit()
    with pytest.raises(BlobDamaged):
        content_digests(snapshot)


# --- push -----------------------------------------------------------------------------------


def test_push_with_nothing_new_takes_no_snapshot_and_one_with_a_change_does(
    local_pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vault's own digests (read in place) decide "nothing new"; they are those of the
    snapshot a push would take, so a change, however small, still makes a snapshot and a push."""
    p = local_pair
    ids = shared_contacts(p, 5)
    taken: list[Path] = []
    original = engine_module.vacuum_into

    def spy(engine: Any, dest: Path) -> None:
        taken.append(dest)
        original(engine, dest)

    monkeypatch.setattr(engine_module, "vacuum_into", spy)
    assert p.a.sync_push(p.remote_a).action == "up-to-date"
    assert taken == []
    snapshot = tmp_path / "now.db"
    original(p.a._store.engine, snapshot)
    assert live_digests(p.a._store.engine) == content_digests(snapshot)
    # One byte of one row's plaintext retention end (no facade involved): a different digest.
    write_sql(p.a.path, "UPDATE contacts SET review_at = '2031-01-02' WHERE id = ?", ids[2])
    changed = live_digests(p.a._store.engine)
    assert changed is not None and changed.content != content_digests(snapshot).content
    p.a.update(ids[3], draft(name="Person 03 Renamed", emails=("p3@example.org",)))
    assert p.a.sync_push(p.remote_a).action == "pushed"
    assert len(taken) == 1
