"""Issue 13.4: the purge runs from the app (preview, a confirmation naming the count, the
result, the log), and a hold or release in the preview asks first and names the contact.

Keys go in one burst (``pilot.press`` with several keys), at 80x24 and 100x30.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.tui.helpers import app_for, notified, screen_text, seed, settle, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.dialogs import Confirm, RestrictionDialog
from tui.screens.purge import PurgeScreen
from vault.model import LegalBasis
from vault.service import Vault

SIZES = [(80, 24), (100, 30)]


def status(app: object) -> str:
    return str(app.screen.query_one("#status", Static).render())  # type: ignore[attr-defined]


def expired(name: str) -> object:
    # invoices-8y from 2010: ended 2018-12-31, long before the clock's 2026-06-15
    return draft(name=name, emails=(), phones=(), trigger=date(2010, 5, 1))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_purge_runs_from_the_app_after_a_confirmation_naming_the_count(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    gone_a, gone_b, held, kept = seed(
        vault_path, clock, [expired("Anton Alt"), expired("Berta Alt"), expired("Held Alt"), draft(name="Kept Long")]
    )
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.hold(held, reason="tax audit 2025")
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("p", "r")  # the preview, then run the purge
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, Confirm)
        text = screen_text(app)
        body = str(dialog.query_one("#confirm-body", Static).render())
        assert "Purge 2 records now?" in text  # the count, not the held one
        assert "Anton Alt" in body and "Berta Alt" in body and "Held Alt" not in body
        assert "2 records will be deleted for good" in body
        assert "Purge 2 (y)" in text and "Cancel (n)" in text  # the whole dialog fits the terminal
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, PurgeScreen)
        assert "Purged 2 records" in status(app) and "scrubbed" in status(app)
        assert "Purge done: 2 records deleted." in notified(app)
        log = app.screen.query_one("#purge-log", DataTable)
        logged = {(str(log.get_row_at(i)[1]), str(log.get_row_at(i)[2])) for i in range(log.row_count)}
        assert {("purged", gone_a), ("purged", gone_b)} <= logged
        due = app.screen.query_one("#purge-due", DataTable)
        assert [str(due.get_row_at(i)[0]) for i in range(due.row_count)] == ["Held Alt"]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)
        assert sorted(c.name for c in app.screen.table.rows) == ["Held Alt", "Kept Long"]
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        assert sorted(c.id for c in vault.contacts()) == sorted([held, kept])


async def test_a_purge_the_owner_cancels_deletes_nothing(vault_path: Path, clock: FixedClock) -> None:
    (gone,) = seed(vault_path, clock, [expired("Anton Alt")])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("p", "r")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        assert "Purge 1 record now?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, PurgeScreen)
        assert "Nothing was purged." in status(app)
        assert app.vault is not None and app.vault.get(gone).name == "Anton Alt"


async def test_with_nothing_due_the_purge_says_so_and_asks_nothing(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [draft(name="Kept Long")])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("p", "r")
        await settle(pilot)
        assert isinstance(app.screen, PurgeScreen)
        assert "Nothing to purge today" in status(app)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_h_in_the_preview_asks_naming_the_contact_and_takes_a_reason(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    # clock: 2026-06-15; an inquiry of 2025-12-20 ends 2026-06-20, within 30 days
    (soon,) = seed(
        vault_path,
        clock,
        [draft(name="Soon Gone", basis=LegalBasis.LEGITIMATE_INTERESTS, rule="inquiry-6m", trigger=date(2025, 12, 20))],
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("p", "h")
        assert isinstance(app.screen, RestrictionDialog)
        assert "Put Soon Gone on legal hold" in screen_text(app)
        assert app.vault is not None and not app.vault.get(soon).hold  # nothing happened before the answer
        await pilot.press(*"tax audit 2025", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PurgeScreen)
        contact = app.vault.get(soon)
        assert (contact.hold, contact.hold_reason) == (True, "tax audit 2025")
        assert "held" in screen_text(app)
        await pilot.press("h")  # held: the release asks too, naming the contact and the reason
        assert isinstance(app.screen, Confirm)
        text = screen_text(app)
        assert "Release the legal hold on Soon Gone?" in text and "tax audit 2025" in text
        await pilot.press("n")
        await settle(pilot)
        assert app.vault.get(soon).hold
        await pilot.press("h", "y")
        await settle(pilot)
        assert isinstance(app.screen, PurgeScreen)
        assert not app.vault.get(soon).hold
        assert "Hold released" in status(app)


async def test_escape_in_the_hold_dialog_holds_nothing(vault_path: Path, clock: FixedClock) -> None:
    (soon,) = seed(
        vault_path,
        clock,
        [draft(name="Soon Gone", basis=LegalBasis.LEGITIMATE_INTERESTS, rule="inquiry-6m", trigger=date(2025, 12, 20))],
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("p", "h", *"tax", "escape")
        await settle(pilot)
        assert isinstance(app.screen, PurgeScreen)
        assert app.vault is not None and not app.vault.get(soon).hold


async def test_many_due_records_fill_the_table_in_chunks_all_of_them_in_order(
    vault_path: Path, clock: FixedClock
) -> None:
    """The rows the table can show come at once, the rest follow CHUNK by CHUNK, refresh by
    refresh; every due record ends up listed, and a refill keeps the cursor where it was."""
    from tui.screens.purge import CHUNK

    count = CHUNK * 2 + 37
    seed(vault_path, clock, [expired(f"Due {i:03d}") for i in range(count)])  # type: ignore[misc]
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        preview = [item.record_id for item in vault.purge_preview(30)]
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PurgeScreen)
        due = screen.query_one("#purge-due", DataTable)
        assert due.row_count >= due.size.height - 1  # a screenful at once (less its header)
        for _ in range(50):
            await pilot.pause(0.05)
            if due.row_count == count:
                break
        assert due.row_count == count
        keys = [str(due.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(count)]
        assert keys == preview  # every due record once, in the preview's order
        due.move_cursor(row=count - 5)
        screen.fill()  # as after a hold: everything again, the cursor kept
        for _ in range(50):
            await pilot.pause(0.05)
            if due.row_count == count:
                break
        assert due.row_count == count and due.cursor_row == count - 5
        assert [str(due.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(count)] == keys
