"""Issue 13.13 (the command palette) and 13.14 (the deletion log filters by action)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from textual.widgets import DataTable, Label, Select

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.tui.helpers import app_for, people, seed, settle, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.form import ContactForm
from tui.screens.purge import PurgeScreen
from vault.model import LegalBasis
from vault.service import Vault


async def test_palette_entries_say_what_they_do_and_hide_textual_entries_that_do_not_apply(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        commands = {command.title: command.help for command in app.get_system_commands(app.screen)}
        assert not [help for help in commands.values() if help.startswith("Key:")]
        assert commands["Erase"].startswith("Erase the selected contact (Art. 17)") and commands["Erase"].endswith(
            "(d)"
        )
        assert commands["Search"].endswith("(/)")
        assert "Screenshot" not in commands  # it would write decrypted contacts to disk
        assert "Keys" not in commands and "Maximize" not in commands
        assert {"Lock", "Help", "Quit", "Theme"} <= set(commands)


def log_rows(app: object) -> list[tuple[str, str]]:
    table = app.screen.query_one("#purge-log", DataTable)  # type: ignore[attr-defined]
    return [(str(table.get_row_at(i)[1]), str(table.get_row_at(i)[2])) for i in range(table.row_count)]


async def test_the_deletion_log_filters_by_action(vault_path: Path, clock: FixedClock) -> None:
    gone, kept = seed(
        vault_path,
        clock,
        [
            draft(name="Gone Now", basis=LegalBasis.LEGITIMATE_INTERESTS, rule="inquiry-6m", emails=(), phones=()),
            draft(name="Kept Restricted"),
        ],
    )
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.erase(gone)  # no duty: deleted now ("erased")
        vault.restrict(kept)  # "restricted"
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, PurgeScreen)
        everything = log_rows(app)
        assert ("erased", gone) in everything and ("restricted", kept) in everything
        await pilot.press("a")  # purged only: none yet
        await settle(pilot)
        assert log_rows(app) == []
        assert "purged" in str(app.screen.query_one("#log-title", Label).render())
        await pilot.press("a")  # erased only
        await settle(pilot)
        assert log_rows(app) == [("erased", gone)]
        await pilot.press(*["a"] * (len(PurgeScreen.LOG_FILTERS) - 2))  # round to all again
        await settle(pilot)
        assert log_rows(app) == everything


async def test_the_consent_basis_preselects_the_consent_rule_and_asks_its_date_once(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("n", *"Zoë Öztürk", "tab", "tab", "tab", "tab", "enter", "up", "enter")  # basis: consent
        form = app.screen
        assert isinstance(form, ContactForm)
        assert form.query_one("#rule", Select).value == "consent"
        assert not form.query_one("#trigger").display  # no second date to type
        await pilot.press("tab", *"2026-02-01", "tab", *"web form", "ctrl+s")
        assert isinstance(app.screen, ContactsScreen)
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        [zoe] = vault.contacts()
        assert (zoe.basis, zoe.rule, zoe.consent_given, zoe.trigger) == (
            LegalBasis.CONSENT,
            "consent",
            date(2026, 2, 1),
            date(2026, 2, 1),
        )


async def test_another_basis_keeps_the_rule_chosen(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, ContactForm)
        rule = form.query_one("#rule", Select).value
        form.query_one("#basis", Select).value = LegalBasis.LEGITIMATE_INTERESTS
        await pilot.pause()
        assert form.query_one("#rule", Select).value == rule
        assert form.query_one("#trigger").display


async def test_a_validation_error_scrolls_its_whole_field_into_view(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("n", *"Eve", "tab", "tab", *"eve-at-example")  # an e-mail without @
        form = app.screen
        assert isinstance(form, ContactForm)
        form.query_one("#notes").focus()  # the last field, at the bottom
        await pilot.press(*"Notizen")
        await settle(pilot)
        body = form.query_one("#form-body")
        assert body.scroll_y > 0
        await pilot.press("ctrl+s")  # the first error: the e-mail, above
        await settle(pilot)
        assert app.focused is form.query_one("#emails")
        # The field's label and its message are inside the visible part of the scrolling body.
        for part in (form.query_one("#emails"), form.query_one("#msg-emails")):
            assert part.display and body.region.contains_region(part.region), (body.region, part.region)
