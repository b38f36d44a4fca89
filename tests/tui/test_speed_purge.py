"""Issue 15: the purge preview draws its first frame with a screenful of rows, not all of them.

Textual measures every cell added to a DataTable before the next frame, and parses string
cells as markup: 1,000 due records (100 at once) and the 100 log rows (all at once) held
the preview for ~0.5 s at 100k contacts.  Each table now gets what it can show first and
the rest refresh by refresh, every cell a ``Text``.  These tests pin what that must not
change: every row, in order, shown literally, and keys typed in one burst while the tables
still fill act on the row they would act on once filled.  At 80x24 and 100x30 (``size``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import DataTable

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.tui.helpers import app_for, burst, screen_text, seed, unlock
from tui.screens.dialogs import RestrictionDialog
from tui.screens.purge import LOG_ROWS, PurgeScreen
from vault.model import ContactDraft, LegalBasis
from vault.service import Vault

MARKUP = ("[b]x[/b]", "[link=https://evil.example]y[/link]", "[@click=app.quit]z[/]")


def expired(name: str) -> ContactDraft:
    # invoices-8y from 2010: ended 2018-12-31, long before the clock's 2026-06-15
    return draft(name=name, emails=(), phones=(), trigger=date(2010, 5, 1))


def rows(table: DataTable[Any]) -> list[list[object]]:
    return [table.get_row_at(i) for i in range(table.row_count)]


async def filled(pilot: Any, table: DataTable[Any], count: int) -> None:
    """Until ``table`` holds ``count`` rows (it fills refresh by refresh)."""
    for _ in range(200):
        if table.row_count >= count:
            await pilot.pause()
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{table.id} never got its {count} rows")


async def test_the_first_frame_gets_a_screenful_and_every_row_follows_in_order(
    vault_path: Path, clock: FixedClock, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    due_count, logged = 180, LOG_ROWS + 20
    ids = seed(vault_path, clock, [expired(f"Due {i:03d}") for i in range(due_count)]
               + [draft(name=f"Kept {i:03d}") for i in range(logged)])  # fmt: skip
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        for record_id in ids[due_count:]:
            vault.restrict(record_id)  # a log entry each: more than the log shows
        preview = [item.record_id for item in vault.purge_preview(30)]
        log = vault.audit_log(action=PurgeScreen.LOGGED, last=LOG_ROWS)
    first: dict[str, int] = {}  # each table's rows once the screen is mounted: the first frame's
    on_mount = PurgeScreen.on_mount

    def mounted(self: PurgeScreen) -> None:
        on_mount(self)
        first.update({str(table.id): table.row_count for table in self.query(DataTable)})

    monkeypatch.setattr(PurgeScreen, "on_mount", mounted)
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PurgeScreen)
        due = screen.query_one("#purge-due", DataTable)
        log_table = screen.query_one("#purge-log", DataTable)
        await filled(pilot, due, due_count)
        await filled(pilot, log_table, LOG_ROWS)
        for table, total in ((due, due_count), (log_table, LOG_ROWS)):
            visible = table.size.height - 1  # less the header
            # at least what the table shows, so the first frame is whole; not the 100 of before
            assert visible <= first[str(table.id)] <= visible + 12 < total, (table.id, visible, first)
        keys = [str(due.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(due.row_count)]
        assert keys == preview  # every due record, in the preview's order
        assert [str(row[2]) for row in rows(log_table)] == [entry.record_id for entry in reversed(log)]
        assert [str(row[1]) for row in rows(log_table)] == ["restricted"] * LOG_ROWS
        assert due.cursor_row == 0 and log_table.cursor_row == 0


async def test_names_that_look_like_markup_show_as_typed(vault_path: Path, clock: FixedClock) -> None:
    seed(
        vault_path,
        clock,
        [
            *(expired(name) for name in MARKUP),
            draft(name="[i]Consent[/i]", basis=LegalBasis.CONSENT, rule="consent", trigger=None,
                  consent_given=date(2019, 1, 20), consent_method="web form"),
        ],
    )  # fmt: skip
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PurgeScreen)
        due = screen.query_one("#purge-due", DataTable)
        await filled(pilot, due, len(MARKUP))
        assert sorted(str(row[0]) for row in rows(due)) == sorted(MARKUP)
        text = screen_text(app)
        assert all(name in text for name in MARKUP)
        for table_id in ("#purge-due", "#purge-reviews", "#purge-log"):
            cells = [cell for row in rows(screen.query_one(table_id, DataTable)) for cell in row]
            # Text is never parsed as markup (a str cell is, on every measure and render)
            assert all(isinstance(cell, Text) for cell in cells), table_id


async def test_keys_in_one_burst_while_the_table_fills_act_on_the_row_they_reach(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    count = 237  # more than the first refreshes add
    seed(vault_path, clock, [expired(f"Due {i:03d}") for i in range(count)])
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        preview = [vault.get(item.record_id).name for item in vault.purge_preview(30)]
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await burst(pilot, "p", "ctrl+end", "h")  # the last due record, before the rest arrived
        assert isinstance(app.screen, RestrictionDialog)
        assert f"Put {preview[-1]} on legal hold" in screen_text(app)
        await burst(pilot, "escape", "escape")
        await burst(pilot, "p", *["down"] * 40, "h")  # past the first screenful
        assert isinstance(app.screen, RestrictionDialog)
        assert f"Put {preview[40]} on legal hold" in screen_text(app)
        await burst(pilot, "escape", "pagedown", "pagedown", "pageup", "h")
        screen = app.screen_stack[-2]
        assert isinstance(screen, PurgeScreen)
        row = screen.query_one("#purge-due", DataTable).cursor_row
        assert row > 40  # the page keys moved on from row 40, and h took the row they reached
        assert f"Put {preview[row]} on legal hold" in screen_text(app)
