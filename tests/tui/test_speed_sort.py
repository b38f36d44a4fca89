"""Issue 15, sorting at 100,000 contacts: the list's orders are worked out once per version of
the data, a few milliseconds at a time (tui.widgets.orders.ListOrders), and must be
exactly the orders of a plain sort; the search keys are looked up once, not per order; closing
the purge preview without a change keeps the orders."""

from __future__ import annotations

import gc
import unicodedata
import weakref
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FixedClock, draft
from tests.tui.helpers import app_for, people, seed, unlock
from tui.screens import contacts as contacts_screen
from tui.screens.contacts import ContactsScreen
from tui.screens.purge import PurgeScreen
from tui.widgets import orders as orders_module
from tui.widgets.orders import ListOrders, retention_key, surname_key
from vault import search
from vault.model import Contact, LegalBasis, State
from vault.search import contact_keys, fold

NAMES = [
    "Jürgen Müller", "jürgen müller", "Juergen Mueller", "Anna Müller", "Müller, Anna", "Anna Muller",
    "Zoë Öztürk", "Zoe Ozturk", "Martin Luther King Jr.", "Martin King", "Cher", "", "Ångström",
    "Chloé Weiß", "Chloe Weiss", "Bernd Becker", "BERND BECKER", "Anna Schmidt", "Anna Schmidt",
    "Karl-Heinz Müller-Lüdenscheidt", "Ludwig van Beethoven", "a", "A", "ab", "Ab", "x Ö", "x O",
]  # fmt: skip
ENDS = [date(2030, 1, 1), None, date(2026, 5, 17), date(2030, 1, 1), None]


def contacts(copies: int = 3) -> list[Contact]:
    """Many ties: the same names (case, accents), the same retention ends, restricted ones."""
    out = []
    for n in range(copies):
        for i, name in enumerate(NAMES):
            out.append(
                Contact(
                    id=f"{(i * 7919 + n * 104729) % 1000003:07d}",
                    name=name,
                    basis=LegalBasis.CONTRACT,
                    rule="invoices-8y",
                    trigger=None,
                    retention_end=ENDS[(i + n) % len(ENDS)],
                    review_at=None,
                    emails=(f"p{i}@example.org",),
                    state=State.RESTRICTED if (i + n) % 4 == 0 else State.ACTIVE,
                )
            )
    return search.by_name(out)  # as the vault gives them


def orders_for(people: list[Contact], show_restricted: bool = False) -> ListOrders:
    return ListOrders(people, {c.id: contact_keys(c) for c in people}, show_restricted)


@pytest.mark.parametrize("group", [10_000, 4, 1])
@pytest.mark.parametrize("prepared", [True, False])
def test_each_order_is_the_plain_sort_with_its_ties(
    monkeypatch: pytest.MonkeyPatch, group: int, prepared: bool
) -> None:
    # A small COPY_CHUNK makes the surname order split its groups by more letters.
    monkeypatch.setattr(orders_module, "COPY_CHUNK", group)
    monkeypatch.setattr(orders_module, "ORDER_CHUNK", 5)
    everyone = contacts()
    orders = orders_for(everyone)
    if prepared:
        while orders.prepare(0):  # one step per call
            pass
    for show in (True, False):
        shown = [c for c in everyone if show or not c.is_restricted]
        assert list(orders.view("first name", show)[0]) == shown
        assert list(orders.view("surname", show)[0]) == sorted(shown, key=surname_key)
        assert list(orders.view("retention end", show)[0]) == sorted(shown, key=retention_key)


def test_the_retention_order_does_not_rely_on_the_vaults_order() -> None:
    everyone = contacts()[::-1]  # not by name: each group is sorted
    orders = orders_for(everyone, True)
    assert list(orders.view("retention end", True)[0]) == sorted(everyone, key=retention_key)


@pytest.mark.parametrize("query", ["müller", "mueller", "anna", "x o", "p1", "", "zzz"])
def test_every_order_finds_what_the_first_name_order_finds(query: str) -> None:
    everyone = contacts()
    orders = orders_for(everyone)
    for sort in ("first name", "surname", "retention end"):
        for show in (True, False):
            view, finder = orders.view(sort, show)
            found = [view[p].id for p in finder.filter(query)]
            plain = search.IncrementalSearch([c.id for c in view], {c.id: contact_keys(c) for c in view})
            assert found == [view[p].id for p in plain.filter(query)]


def test_the_search_keys_are_looked_up_once_for_every_order(monkeypatch: pytest.MonkeyPatch) -> None:
    built = []
    original = search.IncrementalSearch.__init__

    def counting(self: search.IncrementalSearch, *args: object) -> None:
        built.append(1)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(search.IncrementalSearch, "__init__", counting)
    orders = orders_for(contacts())
    for sort in ("first name", "surname", "retention end"):
        for show in (True, False):
            orders.view(sort, show)
    assert len(built) == 1


def test_prepare_works_in_steps_and_says_when_it_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(orders_module, "ORDER_CHUNK", 5)
    orders = orders_for(contacts())
    steps = 0
    while orders.prepare(0):
        steps += 1
    assert steps > 10  # many short steps, not one long one
    assert not orders.prepare(1.0)
    assert set(orders._orders) == {"surname", "retention end"}
    assert {key[0] for key in orders._views} == {"surname", "retention end"}  # the views are built too


@given(st.text(max_size=12))
def test_the_sort_key_folds_as_casefold_and_nfkd_would(text: str) -> None:
    """surname_key folds with vault.search.fold (cached per word, ASCII fast): the same as the
    casefold + NFKD of the whole text, without combining marks, that it used before."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    assert fold(text) == "".join(ch for ch in decomposed if not unicodedata.combining(ch))


async def test_the_orders_are_prepared_while_idle_and_kept_after_an_unchanged_purge_preview(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        orders = screen._orders
        assert orders is not None
        for _ in range(50):
            await pilot.pause(0.02)
            if not orders._steps:
                break
        assert not orders._steps  # worked out without s being pressed
        await pilot.pause()
        # and then kept out of the cyclic collector's walks (frozen), with the orders' views
        tracked = {id(o) for o in gc.get_objects()}
        made = [orders._orders["surname"], *orders._views.values()]  # made between keystrokes, after the unlock
        assert id(orders) not in tracked and made and not any(id(o) in tracked for o in made)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PurgeScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)
        assert app.screen is screen and screen._orders is orders  # nothing changed: nothing rebuilt


# --- the search keys copied into consecutive memory (IncrementalSearch.compacting) ----------

QUERIES_TYPED = ["m", "mü", "mue", "anna", "a 0", "x", "weiss", "p1", "p12@", "0", "zz"]


def results(found: search.IncrementalSearch) -> list[list[int]]:
    return [list(found.filter(q)) for q in QUERIES_TYPED]


def test_compacting_copies_every_haystack_and_finds_the_same() -> None:
    people = contacts()
    keys = {c.id: contact_keys(c) for c in people}
    base = search.IncrementalSearch([c.id for c in people], keys)
    before = results(base)
    steps = sum(1 for _ in base.compacting(7))
    assert steps == -(-len(people) // 7)  # a step per chunk
    assert results(base) == before
    for position, contact in enumerate(people):
        text, digits = keys[contact.id][:2]
        assert base._text[position] == text and base._digits[position] == digits
        if text:  # (the empty string is one object in CPython: nothing to copy)
            assert base._text[position] is not text  # a copy, not the index's string


def test_a_key_holding_the_separator_is_left_as_it_is() -> None:
    people = contacts(1)
    keys = {c.id: contact_keys(c) for c in people}
    odd = people[3].id
    keys[odd] = ("odd\x1etext", keys[odd][1])
    base = search.IncrementalSearch([c.id for c in people], keys)
    before = results(base)
    for _ in base.compacting(len(people)):
        pass
    assert base._text[3] is keys[odd][0]  # its chunk could not be split back: the originals
    assert results(base) == before


def test_after_prepare_every_view_scans_the_copies() -> None:
    people = contacts()
    keys = {c.id: contact_keys(c) for c in people}
    orders = ListOrders(people, keys, False)  # restricted hidden: the shown view is a reordered search
    _contacts, shown = orders.view("first name", False)
    before = results(shown)
    while orders.prepare(1.0):
        pass
    copies = {id(text) for text in orders._search._text if text}
    assert not copies & {id(key[0]) for key in keys.values()}  # the base scans copies, not the index's strings
    for sort in ("first name", "surname", "retention end"):
        for show in (False, True):
            view_contacts, found = orders.view(sort, show)
            assert {id(text) for text in found._text if text} <= copies, (sort, show)  # so does every view
            assert list(found._text) == [keys[c.id][0] for c in view_contacts], (sort, show)
            assert list(found._digits) == [keys[c.id][1] for c in view_contacts], (sort, show)
    assert orders.view("first name", False)[1] is shown  # the search shown before kept its results
    assert results(shown) == before


def test_what_each_step_made_is_frozen_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The orders made between keystrokes leave the cyclic collector's walks after the step that
    made them, not only when every order is done (tui.widgets.orders.prepare_step)."""
    monkeypatch.setattr(orders_module, "ORDER_CHUNK", 5)
    orders = orders_for(contacts())
    try:
        while "surname" not in orders._orders:
            assert orders_module.prepare_step(orders, 0)
        assert orders._steps  # the retention order is still to come...
        surname = orders._orders["surname"]
        assert not any(o is surname for o in gc.get_objects())  # ...and the surname order is frozen
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


async def test_orders_replaced_while_they_are_prepared_are_freed(
    vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save (a reload with new data) while the orders are still being worked out: the old orders'
    unfinished steps refer back to them, and the steps froze them (prepare_step); the list stops
    those steps, so the old orders are freed at once, not kept until the lock."""
    # Many short steps, far apart: still at work after the unlock.
    monkeypatch.setattr(orders_module, "ORDER_CHUNK", 2)
    monkeypatch.setattr(contacts_screen, "ORDER_STEP", 0)
    monkeypatch.setattr(contacts_screen, "ORDER_PAUSE", 0.1)
    seed(vault_path, clock, [draft(name=name or "X", emails=(), phones=()) for name in NAMES])
    app = app_for(vault_path, clock)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await unlock(pilot)
            screen = app.screen
            assert isinstance(screen, ContactsScreen)
            old = screen._orders
            assert old is not None and old._steps and gc.get_freeze_count() > 0  # at work, and frozen
            gone = weakref.ref(old)
            del old
            screen.reload()  # what a save does
            for _ in range(20):
                await pilot.pause(0.02)
                if gone() is None:
                    break
            assert gone() is None  # freed without a collection: frozen objects are never collected
    finally:
        gc.unfreeze()


class CountingKeys(dict[str, tuple[str, str]]):
    """Search keys by id that count their lookups."""

    looked_up = 0

    def __getitem__(self, record_id: str) -> tuple[str, str]:
        self.looked_up += 1
        return super().__getitem__(record_id)


QUERIES = ("müller", "anna", "x o", "p1", "p2", "")


def same_orders(made: ListOrders, fresh: ListOrders) -> None:
    assert made.restricted == fresh.restricted
    for sort in ("first name", "surname", "retention end"):
        for show in (True, False):
            (view, finder), (plain_view, plain) = made.view(sort, show), fresh.view(sort, show)
            assert list(view) == list(plain_view)
            assert [finder.filter(q) for q in QUERIES] == [plain.filter(q) for q in QUERIES]
            assert made.longest_name(show) == fresh.longest_name(show)


@given(
    change=st.sampled_from(["edit", "rename", "add", "delete", "restrict", "unrestrict", "none"]),
    which=st.integers(0, 80),
    name=st.sampled_from(NAMES),
    prepared=st.booleans(),
    show=st.booleans(),
    measured=st.booleans(),
)
def test_the_orders_after_a_save_are_those_made_afresh(
    change: str, which: int, name: str, prepared: bool, show: bool, measured: bool
) -> None:
    """Issue 15 (a save at 100k contacts): ListOrders.following keeps the search keys and restricted
    flags of the records the save left as they were, and gives exactly the orders, views and search
    results of orders made afresh."""
    before_people = contacts()
    keys = CountingKeys({c.id: contact_keys(c) for c in before_people})
    before = ListOrders(before_people, keys, show)
    while prepared and before.prepare(0):
        pass
    if measured:  # the longest names, carried over where they stay
        before.longest_name(True), before.longest_name(False)
    people = list(before_people)
    target = people[which % len(people)]
    if change == "edit":
        people[which % len(people)] = replace(target, emails=("new@example.org",))
    elif change == "rename":
        people[which % len(people)] = replace(target, name=name)
    elif change == "add":
        people.append(replace(target, id="9999999", name=name))
    elif change == "delete":
        people.remove(target)
    elif change in ("restrict", "unrestrict"):
        people[which % len(people)] = replace(target, state=State.RESTRICTED if change == "restrict" else State.ACTIVE)
    people = search.by_name(people)
    keys = CountingKeys({c.id: contact_keys(c) for c in people})
    made = ListOrders.following(before, people, keys, show)
    if prepared and change != "rename":  # the other orders are carried over, the change put in place
        assert set(made._orders) == {"surname", "retention end"}
    changed = [c for c in people if c not in before_people]  # an equal contact has the same keys
    assert len(changed) <= 1
    if change != "rename":  # a rename looks up the records it moved past, at most a quarter of them
        assert keys.looked_up == len(changed)  # only the changed record's keys
    same_orders(made, ListOrders(people, dict(keys), show))


def test_orders_made_before_any_change_follow_as_made_afresh() -> None:
    people = contacts()
    keys = CountingKeys({c.id: contact_keys(c) for c in people})
    made = ListOrders.following(None, people, keys, False)
    assert keys.looked_up == len(people)
    same_orders(made, orders_for(people))
    unchanged = search.by_name([replace(c) for c in people])  # new objects, equal contacts: kept
    again = ListOrders.following(made, unchanged, keys, False)
    assert keys.looked_up == len(people)
    same_orders(again, orders_for(unchanged))
    changed = search.by_name([replace(c, notes="changed") for c in people])  # all changed (a refresh)
    after = ListOrders.following(again, changed, keys, False)
    assert keys.looked_up == 2 * len(people)  # nothing kept: every key looked up again
    same_orders(after, orders_for(changed))
