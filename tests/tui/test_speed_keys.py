"""Keystroke latency at 100k contacts (issue 15): the decoded contacts stay out of the cyclic
garbage collector's walks while the vault is unlocked, and are freed at the lock.

Every full collection walks every object the collector tracks that is not frozen; with 100k
decoded contacts among them, one came every ~25 keystrokes and stalled it by 150-300 ms.
Counted, never timed: a frozen object is not in ``gc.get_objects()``.
"""

from __future__ import annotations

import gc
from pathlib import Path

from tests.conftest import FixedClock, draft
from tests.tui.helpers import SIZE, app_for, seed, settle, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.unlock import UnlockScreen
from vault.model import Contact

PEOPLE = 30


def tracked(ids: set[str]) -> int:
    """How many of our contacts the collector walks (counted, never held: a list would keep them)."""
    return sum(isinstance(o, Contact) and o.id in ids for o in gc.get_objects())


async def test_the_listed_contacts_are_frozen_and_the_lock_frees_them(vault_path: Path, clock: FixedClock) -> None:
    people = [draft(name=f"Person {i}", emails=(f"p{i}@example.org",)) for i in range(PEOPLE)]
    ids = set(seed(vault_path, clock, people))
    app = app_for(vault_path, clock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await unlock(pilot)
            assert isinstance(app.screen, ContactsScreen)
            assert len(app.screen.table.rows) == PEOPLE  # decoded and listed...
            assert tracked(ids) == 0  # ...and out of the collector's walks
            await pilot.press("ctrl+l")
            await settle(pilot)
            assert isinstance(app.screen, UnlockScreen)
            assert gc.get_freeze_count() == 0  # the lock gave them back to the collector
            for _ in range(50):  # its deferred collection, half a second after the switch
                await pilot.pause(0.1)
                if not tracked(ids):
                    break
            assert tracked(ids) == 0, "decrypted contacts still in memory after the lock"
    finally:
        gc.unfreeze()  # whatever happens, leave no frozen objects to the next test
