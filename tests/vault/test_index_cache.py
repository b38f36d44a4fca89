"""The sealed index cache (vault.index): fast unlock that never trusts a stale or forged copy."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from vault import index as cache
from vault import search
from vault.model import Contact, EraseOutcome, LegalBasis
from vault.sealing import RecordSealer
from vault.search import contact_keys
from vault.service import Vault
from vault.store.models import index_bucket
from vault.store.schema import INDEX_BUCKETS


def reopen(path: Path, clock: FixedClock) -> Vault:
    v = Vault(path, clock=clock)
    v.unlock(PASSPHRASE)
    return v


def buckets(path: Path) -> dict[int, bytes]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT bucket, sealed FROM index_cache"))


def cached_ids(vault: Vault, path: Path) -> set[str]:
    """Record ids the buckets on disk hold (opened with the vault's own index key)."""
    assert not vault.is_locked
    ids: set[str] = set()
    for bucket, sealed in buckets(path).items():
        entries = cache.open_bucket(vault._ring.keys.index, vault._ring.vault_id, bucket, sealed)
        assert entries is not None
        ids.update(e[cache.ID] for e in entries)
    return ids


def some_contacts(vault: Vault, n: int = 12) -> list[Contact]:
    return [
        vault.add(draft(name=f"Zoë Øster-Müller {i}", phones=(f"+49 30 12345{i:02d}",), org=f"Weiß & Söhne {i}"))
        for i in range(n)
    ]


def test_unlock_from_the_index_gives_exactly_the_stored_contacts(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    added = some_contacts(vault)
    consent = vault.add(
        draft(
            name="Consent Person",
            basis=LegalBasis.CONSENT,
            rule="consent",
            trigger=date(2026, 1, 1),
            consent_given=date(2026, 1, 1),
            consent_method="form",
        )
    )
    restricted = vault.restrict(added[0].id)
    vault.close()
    with reopen(vault_path, clock) as again:
        assert again.damaged_ids == ()
        expected = {c.id: c for c in [*added[1:], consent, restricted]}
        assert {c.id: c for c in again.contacts()} == expected
        assert {cid: tuple(keys[:2]) for cid, keys in again.search_keys().items()} == {
            cid: contact_keys(c) for cid, c in expected.items()
        }
        assert [c.id for c in again.search("Soehne 3")] == [added[3].id]
        assert [c.id for c in again.search("030 1234505")] == [added[5].id]


def test_a_valid_index_spares_opening_the_rows(
    vault: Vault, vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = some_contacts(vault)
    vault.close()

    def refuse(self: RecordSealer, row: object) -> Contact:
        raise AssertionError("a row was opened although the index vouched for it")

    monkeypatch.setattr(RecordSealer, "open", refuse)
    with reopen(vault_path, clock) as again:
        assert sorted(c.id for c in again.contacts()) == sorted(c.id for c in added)


@pytest.mark.parametrize("column", ["sealed", "meta_sig", "meta_version", "retention_end", "hold"])
def test_a_row_changed_behind_the_index_is_opened_from_the_row(
    vault: Vault, vault_path: Path, clock: FixedClock, column: str
) -> None:
    victim, *others = some_contacts(vault, 4)
    vault.close()
    with sqlite3.connect(vault_path) as conn:
        if column in ("sealed", "meta_sig"):
            value = bytearray(conn.execute(f"SELECT {column} FROM contacts WHERE id = ?", (victim.id,)).fetchone()[0])
            value[-1] ^= 1
            conn.execute(f"UPDATE contacts SET {column} = ? WHERE id = ?", (bytes(value), victim.id))
        elif column == "retention_end":
            conn.execute("UPDATE contacts SET retention_end = '2099-12-31' WHERE id = ?", (victim.id,))
        elif column == "hold":
            conn.execute("UPDATE contacts SET hold = 1 - hold WHERE id = ?", (victim.id,))
        else:
            conn.execute("UPDATE contacts SET meta_version = meta_version + 1 WHERE id = ?", (victim.id,))
    with reopen(vault_path, clock) as again:
        assert again.damaged_ids == (victim.id,)
        assert {c.id for c in again.contacts()} == {o.id for o in others}
        assert victim.id not in cached_ids(again, vault_path)  # the stale entry is gone from disk too


def test_a_forged_or_moved_bucket_is_ignored_and_rebuilt(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    added = some_contacts(vault, 30)
    vault.close()
    stored = buckets(vault_path)
    first, second = sorted(stored)[:2]
    with sqlite3.connect(vault_path) as conn:
        forged = bytearray(stored[first])
        forged[len(forged) // 2] ^= 1
        conn.execute("UPDATE index_cache SET sealed = ? WHERE bucket = ?", (bytes(forged), first))
        conn.execute("UPDATE index_cache SET sealed = ? WHERE bucket = ?", (stored[first], second))  # moved
    with reopen(vault_path, clock) as again:
        assert again.damaged_ids == ()
        assert {c.id: c for c in again.contacts()} == {c.id: c for c in added}
        assert cached_ids(again, vault_path) == {c.id for c in added}


def test_records_deleted_behind_the_index_are_dropped_and_reported(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    gone, *kept = some_contacts(vault, 5)
    vault.close()
    with sqlite3.connect(vault_path) as conn:
        conn.execute("DELETE FROM contacts WHERE id = ?", (gone.id,))
    with reopen(vault_path, clock) as again:
        assert again.damaged_ids == (gone.id,)  # vanished without a tombstone: the signed manifest notices
        assert {c.id for c in again.contacts()} == {k.id for k in kept}
        assert cached_ids(again, vault_path) == {k.id for k in kept}


def test_the_purge_drops_the_buckets_of_what_it_deleted(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    old = vault.add(draft(name="Old Invoice", rule="inquiry-6m", basis=LegalBasis.LEGITIMATE_INTERESTS,
                          trigger=date(2020, 1, 1)))  # fmt: skip
    kept = some_contacts(vault, 20)
    vault.close()
    locked = Vault(vault_path, clock=clock)  # the purge holds no keys
    report = locked.purge()
    locked.close()
    assert [p.record_id for p in report.purged] == [old.id]
    assert index_bucket(old.id) not in buckets(vault_path)
    with reopen(vault_path, clock) as again:
        assert {c.id for c in again.contacts()} == {k.id for k in kept}
        assert cached_ids(again, vault_path) == {k.id for k in kept}


def test_writes_keep_the_index_in_step(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    a, b = some_contacts(vault, 2)
    c = vault.add(
        draft(name="Erase Me", basis=LegalBasis.CONSENT, rule="consent", trigger=date(2026, 1, 1),
              consent_given=date(2026, 1, 1), consent_method="form", emails=("erase.me@example.org",), phones=())
    )  # fmt: skip
    changed = vault.update(a.id, draft(name="Renamed Person", phones=("+49 89 7654321",)))
    vault.hold(b.id)
    assert vault.erase(c.id).outcome is EraseOutcome.DELETED
    many = vault.add_many([draft(name=f"Batch {i}") for i in range(5)])
    assert cached_ids(vault, vault_path) == {a.id, b.id, *(m.id for m in many)}
    expected = {x.id: x for x in vault.contacts()}
    vault.close()
    with reopen(vault_path, clock) as again:
        assert {x.id: x for x in again.contacts()} == expected
        assert again.get(a.id) == changed
        assert [x.id for x in again.search("0897654321")] == [a.id]


def test_changes_of_another_process_are_picked_up(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    a, b = some_contacts(vault, 2)
    with reopen(vault_path, clock) as other:
        other.update(a.id, draft(name="Changed Elsewhere"))
    assert vault.refresh()
    assert vault.get(a.id).name == "Changed Elsewhere"
    vault.close()
    with reopen(vault_path, clock) as again:
        assert again.get(a.id).name == "Changed Elsewhere"
        assert again.get(b.id) == b


def test_an_entry_round_trips_through_a_sealed_bucket(vault: Vault) -> None:
    contact = vault.add(draft(name='Ångström "quoted" \\ back|slash', notes="line\nbreak\ttab"))
    entry = cache.make_entry(contact, "00" * 16, contact_keys(contact))
    bucket = index_bucket(contact.id)
    key = bytes(32)
    sealed = cache.seal_bucket(key, b"v" * 16, bucket, [entry])
    assert sealed is not None
    (opened,) = cache.open_bucket(key, b"v" * 16, bucket, sealed) or []
    assert opened == entry
    assert cache.open_bucket(key, b"w" * 16, bucket, sealed) is None  # another vault
    assert cache.open_bucket(key, b"v" * 16, bucket + 1, sealed) is None  # another bucket
    index = cache.ContactIndex()
    index.open_unchecked(key, b"v" * 16, bucket, sealed)
    assert index[contact.id] == contact


def test_the_members_of_each_bucket_are_the_ids_index_bucket_puts_there() -> None:
    index = cache.ContactIndex()
    ids = [f"id-{n}" for n in range(2000)] + ["ö-ü-ß", "名前", "\u00e9", "e\u0301"]
    index._items = {rid: ["", "", rid, "t", 1, "[]"] for rid in ids}
    for bucket in range(INDEX_BUCKETS):
        assert index.members(bucket) == {rid for rid in ids if index_bucket(rid) == bucket}


def test_quick_contact_makes_the_contact_the_constructor_makes(vault: Vault) -> None:
    """Issue 15 (the list after an unlock decodes every contact): PayloadDecoder builds contacts
    through their slots; that must give exactly what Contact(...) gives, history included, and
    skip nothing (no __post_init__)."""
    assert not hasattr(Contact, "__post_init__")
    made = [
        *some_contacts(vault, 3),
        vault.add(draft(name="Consent", basis=LegalBasis.CONSENT, rule="consent", trigger=date(2026, 1, 1),
                        consent_given=date(2026, 1, 1), consent_method="form")),
    ]  # fmt: skip
    made.append(vault.restrict(made[0].id))
    for contact in made:
        values = [getattr(contact, f.name) for f in dataclasses.fields(Contact)]
        quick = cache.quick_contact(values)
        assert type(quick) is Contact and quick == Contact(*values) == contact
        assert quick.history == contact.history != b""
        with pytest.raises(dataclasses.FrozenInstanceError):
            quick.name = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        cache.quick_contact(values[:-1])


def test_decoded_contacts_share_the_values_that_repeat_and_nothing_else(vault: Vault) -> None:
    """Issue 15 (app RSS): one import's source, an organisation, a short note and a write
    history are one object across contacts; names and e-mails stay each contact's own."""
    batch = dict(org="Muster GmbH", source="import of the file kunden.vcf", notes="Prefers e-mail.")
    first = vault.add(draft(name="Erste Person", emails=("erste@example.org",), **batch))
    second = vault.add(draft(name="Zweite Person", emails=("zweite@example.org",), **batch))
    long_note = "x" * (cache.PayloadDecoder.SHARED_NOTES + 1)
    third = vault.add(draft(name="Dritte Person", emails=("dritte@example.org",), notes=long_note))
    fourth = vault.add(draft(name="Vierte Person", emails=("vierte@example.org",), notes=long_note))
    decoder = cache.PayloadDecoder()
    decoded = [decoder(c.id, cache.make_entry(c, "", contact_keys(c))[cache.PAYLOAD]) for c in (first, second)]
    assert decoded == [first, second]
    a, b = decoded
    assert a.org is b.org and a.source is b.source and a.notes is b.notes and a.history is b.history
    assert a.rule is b.rule
    c, d = (decoder(x.id, cache.make_entry(x, "", contact_keys(x))[cache.PAYLOAD]) for x in (third, fourth))
    assert (c, d) == (third, fourth) and c.notes is not d.notes  # long notes are not kept for sharing


@pytest.mark.parametrize("field", [9, 10, 11, 12, 22], ids=["org", "notes", "source", "purpose", "history"])
def test_a_payload_whose_shared_field_is_not_text_is_refused(vault: Vault, field: int) -> None:
    contact = vault.add(draft())
    payload = json.loads(cache.make_entry(contact, "", contact_keys(contact))[cache.PAYLOAD])
    payload[field] = ["not", "text"]
    with pytest.raises((TypeError, ValueError)):
        cache.PayloadDecoder()(contact.id, json.dumps(payload))


def test_lock_forgets_the_cached_name_fragments(vault: Vault) -> None:
    vault.add(draft(name="Jürgen Weiß"))
    assert search._word_keys.cache_info().currsize > 0
    vault.lock()
    assert search._word_keys.cache_info().currsize == 0
    assert len(vault) == 0


def test_a_write_after_another_process_purged_does_not_seal_the_purged_back(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    """Issue 12.8: the app (unlocked, not refreshed) adds after a CLI purge elsewhere."""
    expired = [
        vault.add(draft(name=f"Expired {i}", rule="inquiry-6m", trigger=date(2025, 1, 1), emails=(), phones=()))
        for i in range(40)
    ]
    kept = vault.add(draft(name="Kept", emails=(), phones=()))
    other = Vault(vault_path, clock=clock)  # another process: the unattended purge, no passphrase
    assert len(other.purge().purged) == 40
    other.close()
    # No refresh in between: memory still holds the purged 40.
    added = [vault.add(draft(name=f"New {i}", emails=(), phones=())) for i in range(40)]
    vault.add_many([draft(name="Batch", emails=(), phones=())])
    on_disk = cached_ids(vault, vault_path)
    assert not on_disk & {c.id for c in expired}, "purged records were sealed back into the index"
    assert {c.id for c in added} <= on_disk
    # "Kept" may be missing from the cache: the passphrase-less purge deleted the
    # buckets it shared with purged records, and no add since may have re-sealed
    # that bucket.  The cache is not the truth; the next unlock reads such rows.
    vault.refresh()  # the app's 2-second refresh: memory follows the file
    assert not {c.id for c in expired} & {c.id for c in vault.contacts()}
    vault.close()
    with reopen(vault_path, clock) as again:
        assert {c.id for c in again.contacts()} == {kept.id, *(c.id for c in added)} | {
            c.id for c in again.contacts() if c.name == "Batch"
        }
        assert len(again) == 42
        assert not again.damaged_ids
