"""Issue 15: the blob carries the sealed index, compressed, and a clone opens no record.

What a carried bucket may not do: show a record as it no longer is, or one that is
gone, nor pass when it is forged, moved, foreign, of the wrong form or a bomb.  Real
parts: vault files, a LocalFolder remote, the sqlite3 module for what the tests change.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, draft
from tests.sync.conftest import Pair, later
from vault import crypto
from vault.index import bucket_ad
from vault.model import Contact, LegalBasis
from vault.service import Vault
from vault.store.repository import Store
from vault.store.schema import index_bucket
from vault.sync import carry
from vault.sync import engine as engine_module
from vault.sync.parts import silent


def listed(vault: Vault) -> list[tuple[object, ...]]:
    """Everything a contact shows, for every contact, in id order."""
    return sorted((c.id, c.name, c.emails, c.phones, c.meta_version, c.retention_end) for c in vault.contacts())


def carried_rows(path: Path) -> list[tuple[int, bytes]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT bucket, sealed FROM index_cache ORDER BY bucket").fetchall()


def clone(p: Pair, tmp_path: Path, name: str = "clone.sqlite") -> Vault:
    made, _report = Vault.clone_from(None, tmp_path / name, PASSPHRASE, remote=p.remote_b, clock=p.clock)
    return made


def people(p: Pair, count: int = 30) -> list[Contact]:
    return [p.a.add(draft(name=f"Carried Person {i:02d}", emails=(f"carried{i}@example.org",))) for i in range(count)]


def test_a_clone_takes_the_carried_index_and_opens_no_record(
    local_pair: Pair, tmp_path: Path, opened: list[str]
) -> None:
    p = local_pair
    people(p)
    p.a.sync_push(p.remote_a)
    opened.clear()
    made = clone(p, tmp_path)
    try:
        assert opened == []  # every entry came from the carried index and matched its row
        assert listed(made) == listed(p.a)
        assert len(carried_rows(made.path)) == len(carried_rows(p.a.path)) > 0
        assert made.search("carried7@example.org")[0].name == "Carried Person 07"
    finally:
        made.close()


def test_the_snapshot_holds_the_index_sealed_and_compressed_never_as_plaintext(
    local_pair: Pair, tmp_path: Path
) -> None:
    p = local_pair
    people(p)
    folder = tmp_path / "snap"
    folder.mkdir()
    snapshot = engine_module._take_snapshot(p.a._sync_parts(), folder, silent)
    rows = carried_rows(snapshot)
    assert rows and len(rows) == len(carried_rows(p.a.path))
    data = snapshot.read_bytes()
    for secret in (b"Carried Person", b"carried7@example.org", "Carried Person".encode("utf-16-le")):
        assert secret not in data
    key, vault_id = p.a._ring.keys.index, p.a._ring.vault_id
    # Each opens only as a carried bucket of its own number, and inflates to the vault's bucket.
    live = dict(carried_rows(p.a.path))
    for bucket, packed in rows:
        with pytest.raises(crypto.SealBroken):
            crypto.open_sealed(key, packed, bucket_ad(vault_id, bucket))
        text = zlib.decompress(crypto.open_sealed(key, packed, carry.carried_ad(vault_id, bucket)))
        assert text == crypto.open_sealed(key, live[bucket], bucket_ad(vault_id, bucket))
        assert len(packed) < len(text)


def test_a_push_without_the_keys_carries_no_index_and_its_clone_opens_every_record(
    local_pair: Pair, tmp_path: Path, opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = local_pair
    ids = [c.id for c in people(p, 12)]
    p.a.lock()
    folder = tmp_path / "snap"
    folder.mkdir()
    snapshot = engine_module._take_snapshot(p.a._sync_parts(), folder, silent)
    assert carried_rows(snapshot) == []
    p.a.unlock(PASSPHRASE)
    # The blob such a push uploads (the unattended purge pushes locked), made unlocked here.
    carried: list[object] = []
    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "carry_into", lambda *args: carried.append(args))
        p.a.sync_push(p.remote_a)
    assert len(carried) == 1
    opened.clear()
    made = clone(p, tmp_path)
    try:
        assert carried_rows(made.path)  # the first unlock sealed the index from the rows
        assert sorted(opened) == sorted(ids)
        assert listed(made) == listed(p.a)
    finally:
        made.close()


def test_a_stale_carried_index_shows_no_record_as_it_was_and_none_that_is_gone(
    local_pair: Pair, tmp_path: Path, opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index on disk was taken before an edit and an erasure (a stale cache, a replayed
    bucket): the clone shows the edit, never the erased person, and opens only what changed."""
    p = local_pair
    everyone = people(p)
    erased = p.a.add(draft(name="Gone Person", basis=LegalBasis.LEGITIMATE_INTERESTS, rule="inquiry-6m",
                           emails=("gone@example.org",), phones=()))  # fmt: skip
    old_buckets = p.a._store.index_buckets()
    edited = everyone[3]
    later(p.clock)
    p.a.update(edited.id, draft(name="Renamed Person", emails=("renamed@example.org",)))
    p.a.erase(erased.id)
    assert erased.id not in {c.id for c in p.a.contacts()}  # deleted for good, not only restricted
    with monkeypatch.context() as patch:
        patch.setattr(Store, "index_buckets", lambda self: old_buckets)
        p.a.sync_push(p.remote_a)
    opened.clear()
    made = clone(p, tmp_path)
    try:
        assert listed(made) == listed(p.a)
        names = {c.name for c in made.contacts()}
        assert "Renamed Person" in names and edited.name not in names and erased.name not in names
        assert made.search("gone@example.org") == [] and made.search(edited.emails[0]) == []
        assert opened == [edited.id]  # the one row whose carried entry no longer matched
    finally:
        made.close()


def test_a_damaged_carried_bucket_costs_its_records_an_opening_and_nothing_else(
    local_pair: Pair, tmp_path: Path, opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = local_pair
    everyone = people(p)
    original: Callable[..., list[tuple[int, bytes]]] = carry.pack
    damaged: list[int] = []

    def flip_first(*args: object) -> list[tuple[int, bytes]]:
        packed = original(*args)
        bucket, sealed = packed[0]
        damaged.append(bucket)
        return [(bucket, sealed[:-1] + bytes([sealed[-1] ^ 1])), *packed[1:]]

    with monkeypatch.context() as patch:
        patch.setattr(carry, "pack", flip_first)
        p.a.sync_push(p.remote_a)
    opened.clear()
    made = clone(p, tmp_path)
    try:
        assert listed(made) == listed(p.a)
        in_bucket = {c.id for c in everyone if index_bucket(c.id) == damaged[0]}
        assert in_bucket and set(opened) == in_bucket
    finally:
        made.close()


# --- unpack: every malformed carried row is left out ---------------------------------------------


VAULT_ID = bytes(range(16))
OTHER_VAULT = bytes(16)
KEY = bytes(range(32))


def packed(text: bytes, *, bucket: int = 5, vault_id: bytes = VAULT_ID, key: bytes = KEY) -> bytes:
    return crypto.seal(key, zlib.compress(text), carry.carried_ad(vault_id, bucket))


FORGED: dict[str, tuple[object, object]] = {
    "another vault's bucket": (5, packed(b"x", vault_id=OTHER_VAULT)),
    "moved to another bucket number": (6, packed(b"x", bucket=5)),
    "sealed under another key": (5, packed(b"x", key=bytes(32))),
    "a vault bucket, not a carried one": (5, crypto.seal(KEY, b"x", bucket_ad(VAULT_ID, 5))),
    "one bit flipped": (5, bytes([*packed(b"x")[:-1], packed(b"x")[-1] ^ 1])),
    "truncated": (5, packed(b"x")[:-3]),
    "not deflate inside": (5, crypto.seal(KEY, b"plain text", carry.carried_ad(VAULT_ID, 5))),
    "deflate cut short": (5, crypto.seal(KEY, zlib.compress(b"x" * 500)[:-6], carry.carried_ad(VAULT_ID, 5))),
    "bytes after the stream": (5, crypto.seal(KEY, zlib.compress(b"x") + b"more", carry.carried_ad(VAULT_ID, 5))),
    "bucket number out of range": (256, packed(b"x", bucket=256)),
    "negative bucket number": (-1, packed(b"x", bucket=-1)),
    "bucket number as text": ("5", packed(b"x")),
    "sealed value as text": (5, "not bytes"),
    "empty": (5, b""),
}


@pytest.mark.parametrize("row", FORGED.values(), ids=FORGED.keys())
def test_a_forged_or_foreign_carried_bucket_is_left_out(row: tuple[object, object]) -> None:
    good = (7, packed(b"entries of bucket 7", bucket=7))
    restored = carry.unpack(KEY, VAULT_ID, [row, good])
    assert [bucket for bucket, _ in restored] == [7]
    assert crypto.open_sealed(KEY, restored[0][1], bucket_ad(VAULT_ID, 7)) == b"entries of bucket 7"


def test_a_carried_bucket_that_inflates_past_the_limit_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(carry, "MAX_BUCKET_TEXT", 1000)
    bomb = (5, packed(b"\0" * 1001))
    fits = (6, packed(b"\0" * 1000, bucket=6))
    assert [bucket for bucket, _ in carry.unpack(KEY, VAULT_ID, [bomb, fits])] == [6]


def test_pack_leaves_out_a_vault_bucket_that_does_not_open() -> None:
    good = (3, crypto.seal(KEY, b"three", bucket_ad(VAULT_ID, 3)))
    moved = (4, crypto.seal(KEY, b"four", bucket_ad(VAULT_ID, 9)))
    out = carry.pack(KEY, VAULT_ID, [good, moved])
    assert [bucket for bucket, _ in out] == [3]
    assert carry.unpack(KEY, VAULT_ID, out)[0][0] == 3
