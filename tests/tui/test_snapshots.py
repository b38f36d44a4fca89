"""Snapshot tests of the main screens: fixed clock, fixed data, relative vault path.

Regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and
review the SVGs (``__snapshots__/``) before committing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import FixedClock
from tests.tui.helpers import app_for, people, seed, unlock

SIZE = (140, 40)


@pytest.fixture
def snap_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, FixedClock]:
    # A relative path keeps tmp_path out of the screen.
    monkeypatch.chdir(tmp_path)
    clock = FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))
    path = Path("vault.sqlite")
    seed(path, clock, people())
    return path, clock


async def unlocked(pilot: Pilot[Any]) -> None:
    await unlock(pilot)
    pilot.app.clear_notifications()  # the weak test KDF triggers an upgrade hint
    await pilot.pause()


class TestSnapshots:
    def test_unlock_screen(self, snap_compare: Any, snap_vault: tuple[Path, FixedClock]) -> None:
        assert snap_compare(app_for(*snap_vault), terminal_size=SIZE)

    def test_contact_list_with_detail_pane(self, snap_compare: Any, snap_vault: tuple[Path, FixedClock]) -> None:
        async def run_before(pilot: Pilot[Any]) -> None:
            await unlocked(pilot)
            await pilot.press("down")  # select the second contact (Bernd Becker)

        assert snap_compare(app_for(*snap_vault), run_before=run_before, terminal_size=SIZE)

    def test_search_result(self, snap_compare: Any, snap_vault: tuple[Path, FixedClock]) -> None:
        async def run_before(pilot: Pilot[Any]) -> None:
            await unlocked(pilot)
            await pilot.press("slash", *"weiss")  # "Weiss" finds "Weiß"

        assert snap_compare(app_for(*snap_vault), run_before=run_before, terminal_size=SIZE)

    def test_edit_form(self, snap_compare: Any, snap_vault: tuple[Path, FixedClock]) -> None:
        async def run_before(pilot: Pilot[Any]) -> None:
            await unlocked(pilot)
            await pilot.press("end")  # Jürgen Müller, the last by name
            await pilot.press("e")  # open the edit form

        assert snap_compare(app_for(*snap_vault), run_before=run_before, terminal_size=SIZE)

    def test_form_with_an_invalid_email(self, snap_compare: Any, snap_vault: tuple[Path, FixedClock]) -> None:
        async def run_before(pilot: Pilot[Any]) -> None:
            await unlocked(pilot)
            await pilot.press("n")  # new contact
            await pilot.press(*"Eve")
            pilot.app.screen.query_one("#emails").value = "eve@@example"
            await pilot.press("ctrl+s")  # refused: the e-mail is invalid

        assert snap_compare(app_for(*snap_vault), run_before=run_before, terminal_size=SIZE)

    def test_erase_dialog_under_a_retention_duty(self, snap_compare: Any, snap_vault: tuple[Path, FixedClock]) -> None:
        async def run_before(pilot: Pilot[Any]) -> None:
            await unlocked(pilot)
            await pilot.press("end")  # Jürgen Müller: invoices, kept until 2033-12-31
            await pilot.press("d")  # erase: explains the restriction instead

        assert snap_compare(app_for(*snap_vault), run_before=run_before, terminal_size=SIZE)
