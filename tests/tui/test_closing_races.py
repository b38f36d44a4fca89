"""The app quits with keys still held or in flight (tui.keyorder.KeyOrder): nothing raises.

A CI run caught it: keys of a burst and KeyOrder's own timers met an app whose screen stack
Textual had already emptied ("No screens on stack" from a shutdown), and the test's exit
reported the crash.  Real app under Pilot; the keys are posted the way a burst is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FixedClock
from tests.tui.helpers import app_for, key_event, people, seed, unlock

BURSTS = {
    "typing into the search": ("slash", *"müller"),
    "opening the settings and typing": ("o", *"DE", "tab", "tab"),
    "opening the form and typing": ("n", *"Karl Klammer", "tab"),
}


@pytest.mark.parametrize("keys", BURSTS.values(), ids=BURSTS.keys())
@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_quitting_with_keys_held_raises_nothing(
    vault_path: Path, clock: FixedClock, keys: tuple[str, ...], size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        for key in keys:
            app.post_message(key_event(key))
        app.exit()  # before the keys are handled: the shutdown meets them held and in flight
    assert app.return_code in (0, None)


async def test_the_key_order_forgets_held_keys_once_the_screens_are_gone(vault_path: Path, clock: FixedClock) -> None:
    """What a shutdown leaves: the screen stack empty, keys held, a timer still to fire."""
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        order = app._keys
        stack = app._screen_stacks[app._current_mode]
        saved = list(stack)
        order.held.extend(key_event(k) for k in "abc")
        order.busy = order.serial
        stack.clear()
        try:
            order.done(order.serial)  # what a round trip's end or KeyOrder.watch calls
            await order.arrived(key_event("x"), app_dispatch_fails)
        finally:
            stack.extend(saved)
        assert not order.pending
        assert not order.held


async def app_dispatch_fails(_event: object) -> None:
    raise AssertionError("a key was dispatched to an app without screens")
