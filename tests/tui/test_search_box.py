"""The list's search box (tui.widgets.search_box): typing repaints it, never re-lays-out the screen."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FixedClock
from tests.tui.helpers import app_for, burst, people, seed, settle, unlock
from tui import ahead
from tui.widgets.search_box import SearchBox


async def test_the_search_box_scrolls_with_a_long_query_without_a_screen_layout(
    vault_path: Path, clock: FixedClock
) -> None:
    """The search box repaints, and scrolls to keep the cursor visible, without the whole
    screen being re-laid-out for every character (tui.widgets.search_box)."""
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("slash")
        # Counted from when the app has settled: the footer has followed the focus, and the
        # form and purge preview built ahead (tui.ahead) are there (a CI run on two busy
        # cores counted one of those within the burst).
        await pilot.pause(ahead.PURGE_SECONDS + 0.3)
        await settle(pilot)
        box = app.screen.query_one("#search", SearchBox)
        layouts = 0
        screen = app.screen
        original = screen._refresh_layout

        def counted(*args: object, **kwargs: object) -> None:
            nonlocal layouts
            layouts += 1
            original(*args, **kwargs)  # type: ignore[arg-type]

        screen._refresh_layout = counted  # type: ignore[method-assign]
        query = "müller " * 15  # 105 characters: wider than the box
        await burst(pilot, *[("space" if ch == " " else ch) for ch in query])
        await pilot.pause()
        assert box.value == query
        assert box.scroll_x > 0
        x = box.cursor_screen_offset.x
        assert box.content_region.x <= x <= box.content_region.right
        assert layouts <= 3, layouts  # the list changed twice at most (hits, then none); not per character
