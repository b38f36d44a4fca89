"""Issue 13.5: data-subject requests are opened, extended (reason and the day the person was
told) and closed in the app; an overdue request shows on the main screen.

Keys go in one burst (``pilot.press`` with several keys), at 80x24 and 100x30.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.tui.helpers import app_for, notified, people, screen_text, seed, settle, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.requests import CloseRequestDialog, ExtendRequestDialog, OpenRequestDialog, RequestsScreen
from vault.model import RequestType
from vault.service import Vault

SIZES = [(80, 24), (100, 30)]


def status(app: object) -> str:
    return str(app.screen.query_one("#status", Static).render())  # type: ignore[attr-defined]


def open_requests(path: Path, clock: FixedClock, *, include_closed: bool = False) -> list[object]:
    with Vault(path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        return list(vault.list_requests(include_closed=include_closed))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_request_for_the_selected_contact_is_opened_extended_and_closed_in_the_app(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    ids = seed(vault_path, clock, people())
    becker = ids[3]
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        # Select Bernd Becker, open the requests, open one: type (down: erasure), the contact
        # (ticked), the day it came in (selected on focus, typed over), a note, Enter.
        await pilot.press("slash", *"becker", "enter", "q", "o")
        assert isinstance(app.screen, OpenRequestDialog)
        assert "Concerns Bernd Becker" in screen_text(app)
        await pilot.press(
            *("enter", "down", "enter"),  # the type: erasure
            *("tab", "tab", *"2026-06-01"),  # past the ticked contact to the day it came in
            *("tab", *"e-mail of 2026-06-01", "enter"),  # a note; apply
        )
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        assert "Opened the erasure request about Bernd Becker" in status(app)
        assert "answer by 2026-07-01" in status(app)
        [opened] = open_requests(vault_path, clock)
        assert (opened.type, opened.record_ids, opened.received, opened.notes) == (
            RequestType.ERASURE,
            (becker,),
            date(2026, 6, 1),
            "e-mail of 2026-06-01",
        )
        # Extend: the reason, then the day the person was told (typed over today's date).
        await pilot.press("e")
        assert isinstance(app.screen, ExtendRequestDialog)
        text = screen_text(app)
        assert "Apply (enter)" in text and "Cancel (esc)" in text  # the dialog fits
        await pilot.press(*"records in three systems", "tab", *"2026-06-10", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        assert "answer by 2026-09-01" in status(app) and "told on 2026-06-10" in status(app)
        # The new deadline and the day the person was told, on one row that fits 80 columns.
        assert any("2026-09-01" in line and "2026-06-10" in line for line in screen_text(app).splitlines())
        [extended] = open_requests(vault_path, clock)
        assert (extended.deadline, extended.informed) == (date(2026, 9, 1), date(2026, 6, 10))
        # Close: answered today.
        await pilot.press("c")
        assert isinstance(app.screen, CloseRequestDialog)
        await pilot.press(*"export sent", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        assert "Marked answered on 2026-06-15." in status(app)
        assert app.screen.query_one("#requests", DataTable).row_count == 0
    assert open_requests(vault_path, clock) == []
    [closed] = open_requests(vault_path, clock, include_closed=True)
    assert closed.closed == date(2026, 6, 15) and closed.notes.endswith("export sent")


async def test_an_extension_told_after_the_first_month_is_refused_in_the_dialog(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock, [])
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.open_request("access", received=date(2026, 4, 1))
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("q", "e", *"many records", "enter")  # informed today: two months after receipt
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ExtendRequestDialog)
        assert "within one month of receipt" in screen_text(app)
        assert dialog.query_one("#extend-reason", Input).value == "many records"  # nothing typed is lost
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
    [request] = open_requests(vault_path, clock)
    assert not request.is_extended


async def test_a_request_without_a_reason_or_with_a_future_day_is_not_extended(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock, [])
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.open_request("access", received=date(2026, 6, 1))
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("q", "e", "enter")
        assert isinstance(app.screen, ExtendRequestDialog)
        assert "say why the answer takes longer" in screen_text(app)
        await pilot.press(*"complex", "tab", *"2026-07-01", "enter")
        assert isinstance(app.screen, ExtendRequestDialog)
        assert "lies in the future" in screen_text(app)
    [request] = open_requests(vault_path, clock)
    assert not request.is_extended


async def test_a_request_opened_with_nothing_selected_concerns_no_record(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("q", "o")
        assert isinstance(app.screen, OpenRequestDialog)
        assert "Concerns" not in screen_text(app)
        await pilot.press("tab", "enter")  # the day it came in: today
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
    [request] = open_requests(vault_path, clock)
    assert (request.type, request.record_ids, request.received) == (RequestType.ACCESS, (), date(2026, 6, 15))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_an_overdue_request_shows_on_the_main_screen_until_it_is_answered(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, [draft()])
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.open_request("access", received=date(2026, 4, 1))  # due 2026-05-01
        vault.open_request("access", received=date(2026, 6, 1))  # not yet due
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert "1 request OVERDUE (q)" in screen_text(app)  # on the status line, even at 80 columns
        assert "past their one-month deadline" in notified(app)
        await pilot.press("q", "c", "enter")  # the overdue one is listed first
        await settle(pilot)
        assert isinstance(app.screen, RequestsScreen)
        assert "after the deadline" in status(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert "OVERDUE" not in screen_text(app)
