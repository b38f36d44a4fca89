"""The list's order kept across changes (vault.index.ContactIndex.by_name, issue 15): after
any sequence of adds, renames, restrictions, erasures and reloads it is exactly the order a
fresh sort gives, and an edit mends it instead of sorting every contact again."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest

from tests.conftest import draft
from vault import index as cache
from vault.model import Contact
from vault.search import by_name
from vault.service import Vault

NAMES = ["Anna", "anna", "Änne", "Bernd", "Zoë", "Ömer", "Jürgen Müller", "Chloé", "Emil", "emil"]


def fresh_sort(vault: Vault, *, include_restricted: bool = True) -> list[Contact]:
    everything = vault._book.unsorted()  # in the index's own order: no name order of any kind kept
    return by_name(c for c in everything if include_restricted or not c.is_restricted)


@pytest.mark.parametrize("seed", range(6))
def test_the_kept_order_is_always_the_order_a_fresh_sort_gives(vault: Vault, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(12):
        vault.add(draft(name=f"{rng.choice(NAMES)} {i % 3}", emails=(f"p{i}@example.org",), phones=()))
    assert vault.contacts() == fresh_sort(vault)
    for step in range(40):
        ids = [c.id for c in vault.contacts()]
        action = rng.choice(["add", "rename", "rename", "restrict", "erase", "refresh"])
        if action == "add" or not ids:
            vault.add(draft(name=rng.choice(NAMES), emails=(f"n{step}@example.org",), phones=()))
        elif action == "rename":
            current = vault.get(rng.choice(ids))
            vault.update(current.id, replace(current.to_draft(), name=rng.choice(NAMES)))
        elif action == "restrict":
            current = vault.get(rng.choice(ids))
            if not current.is_restricted:
                vault.restrict(current.id, requested=date(2026, 6, 1))
        elif action == "erase":
            vault.erase(rng.choice(ids))
        else:
            vault.refresh()
        if rng.random() < 0.7:  # sometimes several changes before the order is asked for
            assert vault.contacts() == fresh_sort(vault), (seed, step, action)
            assert vault.contacts(include_restricted=False) == fresh_sort(vault, include_restricted=False)


def test_an_edit_mends_the_order_without_sorting_every_contact_again(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = [vault.add(draft(name=name, emails=(f"p{i}@example.org",), phones=())) for i, name in enumerate(NAMES)]
    sorts: list[int] = []
    original = cache.by_name

    def counting(contacts: list[Contact]) -> list[Contact]:
        out = original(contacts)
        sorts.append(len(out))
        return out

    monkeypatch.setattr(cache, "by_name", counting)
    assert len(vault.contacts()) == len(added)
    assert sorts == [len(added)]
    renamed = vault.update(added[0].id, replace(added[0].to_draft(), name="Žofia"))
    vault.erase(added[1].id)
    new = vault.add(draft(name="Aaron", emails=("aaron@example.org",), phones=()))
    after = vault.contacts()
    assert sorts == [len(added)]  # mended, not sorted again
    assert after[0] == new and after[-1] == renamed
    assert after == fresh_sort(vault)
