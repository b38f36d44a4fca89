"""Issue 15: what a keystroke in the search box costs besides the search.

* A new row count moves the list's scrollbar; it does not lay the whole screen out again
  (tui.widgets.contact_table.ContactTable._set_virtual_size), unless a scrollbar appears or
  goes.  The table must still show exactly the rows of the result, scrolled into range.
* The detail pane waits for a pause in the typing (DETAIL_DELAY) instead of rendering for
  every few keys; in the list it still follows the cursor at once.

Keys are sent in one burst, at 80x24 and 100x30 (``size``).
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import Input

from tests.conftest import FixedClock, draft
from tests.tui.helpers import app_for, burst, screen_text, seed, settle, unlock
from tui.screens import contacts as contacts_screen
from tui.screens.contacts import ContactsScreen
from tui.screens.unlock import UnlockScreen
from tui.widgets.contact_table import ContactTable
from tui.widgets.detail import DetailPane

# 60 people: more than fit at 100x30, so the list scrolls; "Zora" names a handful.
NAMES = [f"Anna Ahrens {n:02d}" for n in range(54)] + [f"Zora Zeller {n}" for n in range(6)]


@pytest.fixture
def crowded(vault_path: Path, clock: FixedClock) -> Path:
    seed(vault_path, clock, [draft(name=name, emails=(), phones=()) for name in NAMES])
    return vault_path


def count_layouts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full layout of a screen from now on (Textual's Screen._refresh_layout), by screen."""
    seen: list[str] = []
    original = Screen._refresh_layout

    def counting(self: Screen[Any], *args: Any, **kwargs: Any) -> Any:
        seen.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counting)
    return seen


async def test_a_new_row_count_moves_the_scrollbar_without_a_layout(
    crowded: Path, clock: FixedClock, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(crowded, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        table = screen.query_one(ContactTable)
        await burst(pilot, "slash")
        await pilot.pause(1.5)  # the footer has followed the focus, the form and purge preview are built ahead
        await settle(pilot)
        assert table.show_vertical_scrollbar
        layouts = count_layouts(monkeypatch)
        await burst(pilot, *"an")  # 60 rows -> 60 -> 54 ("Zora Zeller" holds no "an"): more than fit
        assert table.row_count == 54
        assert table.virtual_size.height == 55  # the header line and the rows
        assert table.scrollable_content_region.height < 55
        assert table.show_vertical_scrollbar
        assert table.vertical_scrollbar.window_virtual_size == 55  # the thumb follows the new size
        assert "ContactsScreen" not in layouts, layouts
        await burst(pilot, "down", "end")  # into the list, to its last row
        await pilot.pause()
        assert table.current is not None and table.current.name == "Anna Ahrens 53"
        assert "Anna Ahrens 53" in screen_text(app)


async def test_the_scrollbar_goes_and_comes_back_with_the_rows(
    crowded: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    app = app_for(crowded, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        table = screen.query_one(ContactTable)
        await burst(pilot, "end")  # the cursor on the last row: the list scrolled to its end
        await pilot.pause()
        assert table.scroll_y > 0
        await burst(pilot, "slash", *"zora")
        await pilot.pause()
        assert table.row_count == 6
        assert not table.show_vertical_scrollbar
        assert table.scroll_y == 0  # scrolled back into range: every row of the result in view
        text = screen_text(app)
        for n in range(6):
            assert f"Zora Zeller {n}" in text
        assert "Anna Ahrens" not in text
        await burst(pilot, *["backspace"] * 4)
        await pilot.pause()
        assert table.row_count == 60
        assert table.show_vertical_scrollbar
        assert table.vertical_scrollbar.window_virtual_size == 61
        assert "Anna Ahrens 00" in screen_text(app)


async def until(pilot: Any, condition: Any, seconds: float = 10.0) -> None:
    """Wait (in turns of the app's loop) until ``condition()``; fail after ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition(), "the app never got there"


def detail_text(screen: ContactsScreen) -> str:
    """The name of the contact the detail pane shows."""
    shown = screen._detail_shown
    return shown.name if shown is not None else ""


async def settled_list(pilot: Any) -> ContactsScreen:
    """Unlocked, the pane showing the first contact and no pane update pending (so the first
    key would show at once if the pane did not wait)."""
    await unlock(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ContactsScreen)
    await until(pilot, lambda: detail_text(screen) == "Anna Ahrens 00" and screen._detail_timer is None)
    return screen


async def test_the_detail_pane_waits_for_a_pause_in_the_typing(
    crowded: Path, clock: FixedClock, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long pause, so that no turn of a busy machine's event loop passes for one.
    monkeypatch.setattr(contacts_screen, "DETAIL_DELAY", 1.0)
    app = app_for(crowded, clock)
    async with app.run_test(size=size) as pilot:
        screen = await settled_list(pilot)
        shown: list[str] = []
        original = DetailPane.show

        def counting(self: DetailPane, contact: Any, *args: Any) -> None:
            shown.append(contact.name if contact else "")
            original(self, contact, *args)

        monkeypatch.setattr(DetailPane, "show", counting)
        await burst(pilot, "slash", *"zora zeller 3")
        assert screen.query_one("#search", Input).value == "zora zeller 3"
        assert shown == []  # each key moved the cursor to another first row; the pane waited
        await until(pilot, lambda: bool(shown))
        await pilot.pause(0.2)
        assert shown == ["Zora Zeller 3"]  # once, after the pause, with the result's first row
        assert "Zora Zeller 3" in detail_text(screen)


async def test_in_the_list_the_detail_pane_follows_the_cursor_at_once(
    crowded: Path, clock: FixedClock, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contacts_screen, "DETAIL_DELAY", 1.0)
    app = app_for(crowded, clock)
    async with app.run_test(size=size) as pilot:
        screen = await settled_list(pilot)
        await burst(pilot, "down")
        await pilot.pause()
        assert "Anna Ahrens 01" in detail_text(screen)  # no pause needed: the first move shows at once
        await burst(pilot, "down", "down", "down")
        await until(pilot, lambda: detail_text(screen) == "Anna Ahrens 04")  # and the last one after the quiet


# --- the lock frees the decrypted index after the unlock screen is drawn -----------------------


def test_a_lock_hands_the_dropped_index_to_free_later(crowded: Path) -> None:
    from tests.conftest import PASSPHRASE
    from vault.errors import VaultLocked
    from vault.service import Vault

    with Vault(crowded) as vault:
        vault.unlock(PASSPHRASE)
        index = weakref.ref(vault._book._contacts)
        later: list[object] = []
        vault.lock(free_later=later)
        assert vault.is_locked
        with pytest.raises(VaultLocked):
            vault.contacts()
        assert len(vault) == 0
        assert [index()] == later  # held there, nowhere else
        later.clear()
        assert index() is None


async def test_the_app_frees_the_dropped_index_after_the_lock_screen(crowded: Path, clock: FixedClock) -> None:
    app = app_for(crowded, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        assert app.vault is not None
        index = weakref.ref(app.vault._book._contacts)
        await burst(pilot, "ctrl+l")
        assert isinstance(app.screen, UnlockScreen)
        assert index() is not None  # not freed between the key and the unlock screen's frame
        await until(pilot, lambda: index() is None)  # but soon after (the lock's timer, 0.5 s)
