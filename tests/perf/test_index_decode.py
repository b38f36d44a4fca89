"""Decoding the index cache many payloads per JSON parse (issue 15) gives the contacts
that decoding them one by one gave, and still drops an entry it cannot read."""

from __future__ import annotations

from datetime import date

from tests.conftest import PASSPHRASE, draft
from vault import index as cache
from vault.model import Duty
from vault.service import Vault


def _fill(vault: Vault) -> None:
    vault.add_many([draft(name=f"Person {i}", emails=(f"p{i}@example.org",), phones=()) for i in range(40)])
    held = vault.add(draft(name="Held", emails=("held@example.org",), phones=(),
                           duties=(Duty("letters-6y", date(2025, 1, 2)),)))  # fmt: skip
    vault.hold(held.id, reason="tax audit")


def _reloaded(vault: Vault) -> cache.ContactIndex:
    vault.lock()
    vault.unlock(PASSPHRASE)
    return vault._book._contacts  # the cache under test


def test_contacts_decoded_in_chunks_equal_contacts_decoded_one_by_one(vault: Vault, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _fill(vault)
    monkeypatch.setattr(cache.ContactIndex, "DECODE_CHUNK", 7)
    one_by_one = [_reloaded(vault)[record_id] for record_id in list(_reloaded(vault))]
    index = _reloaded(vault)
    assert all(type(e[cache.PAYLOAD]) is str for e in index.keys.values())  # nothing decoded yet
    assert index.all() == [index[record_id] for record_id in index] == one_by_one
    assert any(c.hold_reason == "tax audit" and c.duties for c in one_by_one)


def test_an_unreadable_entry_is_still_dropped_and_its_chunk_neighbours_kept(vault: Vault, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _fill(vault)
    monkeypatch.setattr(cache.ContactIndex, "DECODE_CHUNK", 7)
    index = _reloaded(vault)
    broken = list(index)[3]
    index.keys[broken][cache.PAYLOAD] = '["another id"'  # type: ignore[index]
    contacts = index.all()
    assert broken not in {c.id for c in contacts} and broken not in index
    assert len(contacts) == 40
