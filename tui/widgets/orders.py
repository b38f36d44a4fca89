"""The list's orders (first name, surname, retention end) and their searches, worked out ahead.

Sorting 100,000 contacts by surname or retention end and reordering their search keys takes
about a second, so :class:`ListOrders` does it a few milliseconds at a time between keystrokes
(issue 15); tui.screens.contacts drives it.
"""

from __future__ import annotations

import gc
import time
from bisect import insort
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from itertools import compress, repeat
from operator import attrgetter, is_not
from typing import Any

from vault.model import Contact, State
from vault.search import IncrementalSearch, fold

# Words after a family name that are not part of it ("Martin Luther King Jr.").
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "md", "m.d.", "mba", "esq."})


def surname(name: str) -> str:
    """The family name to sort by: before the comma in "Müller, Jürgen", else the last word
    (titles such as "Jr." skipped).  The model keeps one name field, not the vCard N parts,
    so the last word stands for the family name ("Anna Müller-Lüdenscheidt" -> the double name)."""
    if "," in name:
        family = name.split(",", 1)[0].strip()
        if family:
            return family
    words = name.split()
    while len(words) > 1 and words[-1].casefold() in _NAME_SUFFIXES:
        words.pop()
    return words[-1] if words else ""


_collation = fold  # case and accents do not change the order ("Öztürk" sorts with "Ozturk", not after "Z")


def surname_key(contact: Contact) -> tuple[str, str, str]:
    """Sort by family name, then by the whole name, then by id (a stable order)."""
    return (_collation(surname(contact.name)), _collation(contact.name), contact.id)


def retention_key(contact: Contact) -> tuple[int, str, str]:
    """Sort by retention end (open-ended last), then by name."""
    end = contact.retention_end
    return (0 if end else 1, end.isoformat() if end else "", contact.name.casefold())


_SORT_KEYS: dict[str, Callable[[Contact], Any]] = {"surname": surname_key, "retention end": retention_key}
ORDER_CHUNK = 200  # contacts per step of ListOrders.prepare (a few milliseconds)
COPY_CHUNK = 8192  # positions copied per step when a prepared order's view is built
Views = tuple[Sequence[Contact], IncrementalSearch]


SPLICED_MOST = 64  # changed contacts ListOrders.following puts into the other orders one by one


def _spliced_order(
    order: Sequence[int], span: tuple[int, int, int], contacts: Sequence[Contact], key: Callable[[Contact], Any]
) -> list[int]:
    """``order`` (positions into the last list, sorted by ``key`` and then by position: a stable sort
    of the name order) for ``contacts``, the last list with its ``[start:stop]`` become ``[start:end]``
    (``span``, _changed_span's): the positions that stay are shifted, the new ones put in by bisection
    (100k: ~10 ms, where working the order out again took ~0.2-0.5 s, at once when the list shows it)."""
    start, stop, end = span
    shift = end - stop
    if shift:  # an insertion or a deletion: every later position moves
        kept = [p if p < start else p + shift for p in order if not start <= p < stop]
    else:  # an edit in place (the common save): only its own positions go, found by C scans
        kept = list(order)
        for position in range(start, stop):
            kept.remove(position)

    def ranked(position: int) -> tuple[Any, int]:
        return key(contacts[position]), position

    for position in range(start, end):
        insort(kept, position, key=ranked)
    return kept


def _kept(contacts: Sequence[Contact]) -> list[bool]:
    """Which of ``contacts`` a list that hides the restricted ones shows (C loops, no Python step per contact)."""
    return list(map(is_not, map(attrgetter("state"), contacts), repeat(State.RESTRICTED)))


def _changed_span(old: Sequence[Contact], new: Sequence[Contact]) -> tuple[int, int, int]:
    """(start, stop, end): ``new`` is ``old`` with ``old[start:stop]`` replaced by ``new[start:end]``,
    equal contacts before and after (the vault hands out the same object for an unchanged record;
    equal contacts have the same search keys and restriction)."""
    limit = min(len(old), len(new))
    start = _common(old, new, limit, lambda lo, mid: (slice(lo, mid), slice(lo, mid)))
    lo, ln = len(old), len(new)
    tail = _common(old, new, limit - start, lambda k, mid: (slice(lo - mid, lo - k), slice(ln - mid, ln - k)))
    return start, lo - tail, ln - tail


def _common(
    old: Sequence[Contact], new: Sequence[Contact], limit: int, part: Callable[[int, int], tuple[slice, slice]]
) -> int:
    """The longest run (at most ``limit``) both lists share from one end: a binary search whose
    probes compare only the run not known yet.  List comparison is one C loop over pointers
    (~3 ms at 100k contacts, where a Python or ``map`` loop took 20-30 ms)."""
    known, most = 0, limit
    while known < most:
        mid = (known + most + 1) // 2
        ours, theirs = part(known, mid)
        if old[ours] == new[theirs]:
            known = mid
        else:
            most = mid - 1
    return known


class ListOrders:
    """The list's views of one version of the data: every contact by first name (the vault's
    order), by surname and by retention end, restricted records shown or hidden, each with its
    search.  The search keys are looked up once, for the first-name order; the other views
    reorder that search.  Working out the other orders takes about a second at 100k contacts,
    so :meth:`prepare` does it in short steps while the owner reads or types, and s finds them
    done (issue 15); an order asked for before that is finished at once."""

    def __init__(
        self,
        contacts: list[Contact],
        keys: Mapping[str, Sequence[str]],
        show_restricted: bool,
        *,
        reused: tuple[IncrementalSearch, list[bool], bool] | None = None,
    ) -> None:
        self._all = contacts  # by first name, as Vault.contacts gives them
        if reused is None:
            self._search = IncrementalSearch(list(map(attrgetter("id"), contacts)), keys)
            self._keep = _kept(contacts)
            self._compacted = False
        else:  # see following()
            self._search, self._keep, self._compacted = reused
        self.restricted = len(contacts) - sum(self._keep)
        self._show = show_restricted  # the views prepare builds ahead
        self._orders: dict[str, Sequence[int]] = {}  # positions in ``contacts``, by sort
        self._steps = {} if self._compacted else {"": self._compacting()}  # first: the views reorder the copies
        self._steps.update(surname=self._prepared("surname"), **{"retention end": self._prepared("retention end")})
        self._views: dict[tuple[str, bool], Views] = {}
        self._longest: dict[bool, int] = {}

    @classmethod
    def following(
        cls, before: ListOrders | None, contacts: list[Contact], keys: Mapping[str, Sequence[str]], show: bool
    ) -> ListOrders:
        """``ListOrders(contacts, keys, show)`` for the next version of the data (after a save, say),
        keeping ``before``'s search keys, restricted flags, longest name and finished orders where
        ``contacts`` holds equal records in the same places at either end: only the span between is
        looked up again, and put into the orders by bisection.  At 100k contacts a save's orders took
        ~0.3 s, and ~1 s when the list showed another order than the name's; their views are still
        built anew, in :meth:`prepare`'s steps (or at once, for the order shown)."""
        if before is None:
            return cls(contacts, keys, show)
        start, stop, end = _changed_span(before._all, contacts)
        if (end - start) * 4 > len(contacts):  # most of it changed: as quick to start again
            return cls(contacts, keys, show)
        mid = contacts[start:end]
        keep = [*before._keep[:start], *_kept(mid), *before._keep[stop:]]
        search = before._search.spliced(start, stop, list(map(attrgetter("id"), mid)), keys)
        made = cls(contacts, keys, show, reused=(search, keep, before._compacted))
        for shown, longest in before._longest.items():  # kept where a contact that stays has it
            if all(len(c.name) < longest for c in before._all[start:stop]):
                made._longest[shown] = max([longest, *(len(c.name) for c in mid if shown or not c.is_restricted)])
        if end - start <= SPLICED_MOST:  # the other orders worked out already, with the change put in
            for sort, order in before._orders.items():
                made._orders[sort] = _spliced_order(order, (start, stop, end), contacts, _SORT_KEYS[sort])
        return made

    def close(self) -> None:
        """Stop the unfinished steps (the list replaced these orders, or locked): their generators
        refer back to the orders, a cycle only a full collection frees, and prepare_step's freezing
        would keep it (lists of 100k, ~20 MB of search copies) until the lock."""
        self._steps.clear()

    def view(self, sort: str, show_restricted: bool) -> Views:
        """The contacts in the order ``sort`` names, and their search."""
        for _step in self._steps.pop(sort, ()):
            pass
        show_restricted = show_restricted or not self.restricted  # nothing to hide: one view serves both
        found = self._views.get((sort, show_restricted))
        if found is None:
            *_, found = self._building(sort, show_restricted, len(self._all) or 1)
            assert found is not None
        return found

    def _positions(self, sort: str, show_restricted: bool) -> Sequence[int]:
        positions: Sequence[int] = self._orders.get(sort, range(len(self._all)))
        if not show_restricted:
            positions = list(compress(positions, map(self._keep.__getitem__, positions)))
        return positions

    def _building(self, sort: str, show_restricted: bool, chunk: int) -> Iterator[Views | None]:
        """Build a view, ``chunk`` records per step (None after each), then yield it."""
        if sort not in self._orders and show_restricted:
            found: Views = (self._all, self._search)
        else:
            positions = self._positions(sort, show_restricted)
            contacts: list[Contact] = []
            for start in range(0, len(positions), chunk):
                contacts.extend(map(self._all.__getitem__, positions[start : start + chunk]))
                yield None
            for search in self._search.reordering(positions, chunk):
                if search is None:
                    yield None
                else:
                    found = (contacts, search)
        self._views[sort, show_restricted] = found
        yield found

    def longest_name(self, show_restricted: bool) -> int:  # of the contacts shown, in any order
        if show_restricted not in self._longest:
            contacts = self._all if show_restricted else self.view("first name", False)[0]
            self._longest[show_restricted] = max(map(len, map(attrgetter("name"), contacts)), default=0)
        return self._longest[show_restricted]

    def prepare(self, seconds: float) -> bool:
        """Work on the orders not worked out yet for about ``seconds``; False once all are done."""
        deadline = time.perf_counter() + seconds
        while self._steps:
            sort, steps = next(iter(self._steps.items()))
            for _step in steps:
                if time.perf_counter() >= deadline:
                    return True
            del self._steps[sort]
        return False

    def _compacting(self) -> Iterator[None]:
        """The search keys copied into consecutive memory (IncrementalSearch.compacting), then the
        views built before taking the copies: every search scans them, the originals only the
        index keeps."""
        yield from self._search.compacting(COPY_CHUNK)
        self._compacted = True
        for (sort, show_restricted), (_contacts, search) in list(self._views.items()):
            if search is not self._search:
                yield from search.retaking(self._search, self._positions(sort, show_restricted), COPY_CHUNK)

    def _prepared(self, sort: str) -> Iterator[None]:
        """The order (unless following() carried it over), then the view prepare builds ahead, in steps."""
        if sort not in self._orders:
            yield from self._by_surname() if sort == "surname" else self._by_retention()
        show = self._show or self.restricted == 0
        yield from (None for _view in self._building(sort, show, COPY_CHUNK))

    def _by_surname(self) -> Iterator[None]:
        """The order of ``sorted(contacts, key=surname_key)``, in steps: the keys, a chunk at a
        time; then the records grouped by the first letters of their surname key (one more
        letter for a group too large to sort in one step), groups in order, each sorted."""
        contacts, keys = self._all, list[tuple[str, str, str]]()
        for start in range(0, len(contacts), ORDER_CHUNK):
            keys.extend(map(surname_key, contacts[start : start + ORDER_CHUNK]))
            yield
        order: list[int] = []
        pending = [(list(range(len(keys))), 0)]  # (positions, letters they share), last first
        while pending:
            positions, depth = pending.pop()
            groups: dict[str, list[int]] = {}
            if len(positions) > COPY_CHUNK:
                for start in range(0, len(positions), ORDER_CHUNK * 4):
                    for p in positions[start : start + ORDER_CHUNK * 4]:
                        groups.setdefault(keys[p][0][: depth + 1], []).append(p)
                    yield
            if len(groups) > 1:
                pending.extend((groups[g], depth + 1) for g in sorted(groups, reverse=True))
                continue
            # One group, its keys' first parts share their first depth+1 letters: a key of another group
            # sorts before (after) these exactly when its prefix does (tests/tui/test_speed_sort.py).
            positions.sort(key=keys.__getitem__)
            order.extend(positions)
            yield
        self._orders["surname"] = order

    def _by_retention(self) -> Iterator[None]:
        """The order of ``sorted(contacts, key=retention_key)`` (a stable sort of the first-name
        order), in steps: records grouped by retention end, each group by name."""
        contacts, names, ends = self._all, list[str](), dict[date | None, list[int]]()
        in_order, previous = True, ""  # the vault gives them sorted by name: no group then needs sorting
        for start in range(0, len(contacts), ORDER_CHUNK):
            for i in range(start, min(start + ORDER_CHUNK, len(contacts))):
                contact = contacts[i]
                name = contact.name.casefold()
                in_order = in_order and previous <= name
                previous = name
                names.append(name)
                ends.setdefault(contact.retention_end, []).append(i)
            yield
        order: list[int] = []
        for end in [*sorted(e for e in ends if e is not None), None]:
            group = ends.get(end, [])
            if not in_order:
                group.sort(key=names.__getitem__)  # stable: equal names keep the first-name order
            order.extend(group)
            yield
        self._orders["retention end"] = order


def prepare_step(orders: ListOrders, seconds: float) -> bool:
    """:meth:`ListOrders.prepare` for about ``seconds``, as the list does it between keystrokes.

    What the step made (orders and views: lists of up to 100k items) leaves the cyclic
    collector's walks at once, after a collection of the young generations (~1 ms): typed in
    the first seconds after an unlock at 100k contacts, a key waited 60-190 ms for a full
    collection walking them (issue 15).  The lock gives them back (tui.app unfreezes).
    """
    more = orders.prepare(seconds)
    if more:
        gc.collect(1)
        gc.freeze()
    return more
