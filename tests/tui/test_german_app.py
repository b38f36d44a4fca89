"""Issue 14: the app in German (vault.i18n), at 80x24 and 100x30, and English unchanged after it.

The language is set before the app is made, as the CLI does; the fixture sets English again
afterwards, so these tests and the English ones run in one process in any order.  A test that
takes ``size`` runs at both sizes (the ``size`` and ``german`` fixtures: tests/tui/conftest.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from textual.command import CommandList, CommandPalette
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input

from tests.conftest import FixedClock
from tests.tui.helpers import app_for, people, screen_text, seed, settle, unlock
from tui.app import SealbookApp
from tui.screens.contacts import ContactsScreen
from tui.screens.form import ContactForm
from tui.screens.help import HelpScreen
from tui.screens.purge import PurgeScreen
from tui.screens.unlock import CreateScreen, UnlockScreen
from tui.widgets.detail import fields
from vault import i18n


@cache
def english_texts() -> tuple[re.Pattern[str], ...]:
    """Every catalogue text (at least 4 characters, no placeholders) whose German differs: none
    may be on a German screen.  Matched as whole words, case-sensitive."""
    po = i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with po.open("rb") as handle:
        catalogue = read_po(handle, locale="de")
    patterns = []
    for entry in catalogue:
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for msgid in ids:
            for line in msgid.splitlines():  # long texts wrap on screen: each line is checked
                text = line.strip()
                if len(text) < 4 or "{" in text or "%(" in text or text in strings:
                    continue
                if any(text in string for string in strings):  # "Name *" -> "Name *": the same on screen
                    continue
                patterns.append(re.compile(r"(?<![\w-])" + re.escape(text) + r"(?![\w-])"))
    return tuple(patterns)


def english_on(text: str) -> list[str]:
    return [pattern.pattern for pattern in english_texts() if pattern.search(text)]


def fits(app: SealbookApp, selector: str) -> None:
    """The dialog ``selector`` lies wholly on the screen."""
    dialog = app.screen.query_one(selector)
    assert Region(0, 0, *app.size).contains_region(dialog.region), (selector, dialog.region, app.size)


async def unlocked(pilot: Pilot[Any]) -> None:
    await unlock(pilot)
    pilot.app.clear_notifications()  # the weak test KDF triggers an upgrade hint
    await pilot.pause()


async def open_screen(pilot: Pilot[None], key: str, kind: type) -> None:
    await pilot.press(key)
    await settle(pilot)
    assert isinstance(pilot.app.screen, kind), pilot.app.screen


async def test_the_create_and_unlock_screens_speak_german(
    german: None, vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CreateScreen)
        text = screen_text(app)
        assert "Neuen Tresor anlegen" in text and "Tresor anlegen" in text and "Beenden" in text
        assert english_on(text) == []
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)
        text = screen_text(app)
        assert "GESPERRT" in text and "Entsperren" in text and "Tresor:" in text
        assert english_on(text) == []
        app.screen.query_one("#passphrase", Input).value = ""
        await pilot.press("enter")
        assert "Geben Sie die Passphrase ein." in screen_text(app)


async def test_the_contact_list_speaks_german_with_german_dates_and_a_whole_footer(
    german: None, vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlocked(pilot)
        assert isinstance(app.screen, ContactsScreen)
        text = screen_text(app)
        assert "ENTSPERRT · 4 von 4 angezeigt" in text
        assert "sealbook — entsperrt" in text
        footer = text.splitlines()[-1]
        # Every key of the footer is whole at 80 columns too, Lock (Sperren) first.
        for label in ("^l Sperren", "Suche", "Neu", "Ändern", "Löschen", "Einschr.", "Löschsperre", "Hilfe"):
            assert label in footer, (label, footer)
        assert "Suche nach Namen" in text  # the search box's placeholder
        # Jürgen Müller's retention ends 2033-12-31: German dates in the list and the detail pane.
        await pilot.press("slash", *"muller")
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "31.12.2033" in text and "2033-12-31" not in text
        assert "Rechtsgrundlage" in text and "Aufbewahrungsregel" in text
        assert english_on(text) == []
        # The detail pane (it scrolls at these sizes): every row, as it renders them.
        screen = app.screen
        assert isinstance(screen, ContactsScreen) and screen.table.current is not None
        vault = app.vault
        assert vault is not None
        contact = screen.table.current
        rows = dict(fields(contact, vault.rules.get(contact.rule), vault.today()))
        assert re.fullmatch(r"31\.12\.2033 \(noch \d+ Tage\)", rows["Ende der Aufbewahrung"]), rows
        assert rows["Löschsperre"] == "nein" and rows["Status"] == "aktiv"
        assert english_on("\n".join(f"{label} {value}" for label, value in rows.items())) == []


async def test_english_is_unchanged_after_german_in_the_same_process(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    for language in ("de", "en", "de", "en"):  # both orders, twice
        i18n.set_language(language)
        try:
            app = app_for(vault_path, clock)
            async with app.run_test(size=(80, 24)) as pilot:
                await unlocked(pilot)
                text = screen_text(app)
                footer = text.splitlines()[-1]
                await pilot.press("slash", *"muller")
                await pilot.pause(0.2)
                text = screen_text(app)
        finally:
            i18n.set_language("en")
        if language == "en":
            assert "UNLOCKED · 1 of 4 shown" in text and "2033-12-31" in text
            assert "^l Lock" in footer and "Help" in footer and "^p palette" in footer
            assert "Sperren" not in text and "31.12.2033" not in text
        else:
            assert "ENTSPERRT · 1 von 4 angezeigt" in text and "31.12.2033" in text
            assert "^l Sperren" in footer and "Lock" not in footer


async def test_the_new_contact_form_speaks_german_and_fits(
    german: None, vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlocked(pilot)
        await open_screen(pilot, "n", ContactForm)
        fits(app, "#form")
        text = screen_text(app)
        assert "Neuer Kontakt" in text and "Name *" in text and "Speichern" in text
        assert english_on(text) == []
        await pilot.press("ctrl+s")  # nothing typed: the German messages
        await pilot.pause()
        text = screen_text(app)
        assert "darf nicht leer sein" in text
        assert english_on(text) == []
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)


async def test_the_purge_preview_and_the_help_speak_german_and_fit(
    german: None, vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlocked(pilot)
        await open_screen(pilot, "p", PurgeScreen)
        fits(app, ".activity")
        text = screen_text(app)
        assert "Bereinigung" in text and "Löschprotokoll" in text and "Schließen" in text
        assert english_on(text) == []
        await pilot.press("escape")
        await settle(pilot)
        await open_screen(pilot, "question_mark", HelpScreen)
        fits(app, "#help")
        text = screen_text(app)
        assert "Hilfe" in text and "Kontaktliste" in text and "Löschsperre" in text
        assert english_on(text) == []


async def test_the_erase_and_hold_dialogs_speak_german_and_fit(
    german: None, vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlocked(pilot)
        await pilot.press("slash", *"muller", "enter")
        await pilot.pause(0.2)
        await pilot.press("d")
        await settle(pilot)
        fits(app, "#erase")
        text = screen_text(app)
        assert "Kontakt löschen" in text and "Jürgen Müller löschen (Art. 17 DSGVO)?" in text
        assert english_on(text) == []
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        fits(app, ".ask")
        text = screen_text(app)
        assert "Löschsperre für Jürgen Müller setzen" in text
        assert english_on(text) == []


@pytest.mark.parametrize("query", ["Sperren", "Löschen", "Exportieren"])
async def test_the_german_palette_finds_the_actions(
    german: None, vault_path: Path, clock: FixedClock, query: str
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlocked(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert CommandPalette.is_open(app)
        await pilot.press(*query)
        for _ in range(20):  # the palette searches in the background
            await pilot.pause(0.05)
            found = [str(option.prompt) for option in app.screen.query_one(CommandList).options]
            if found:
                break
        assert any(line.split("\n")[0].startswith(query) for line in found), found
        await pilot.press("enter")
        await settle(pilot)
        if query == "Sperren":
            assert isinstance(app.screen, UnlockScreen)
        elif query == "Exportieren":
            assert "Alles über eine Person exportieren" in screen_text(app)
        else:
            assert "Kontakt löschen" in screen_text(app)


@pytest.fixture
def snap_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, FixedClock]:
    monkeypatch.chdir(tmp_path)  # a relative path keeps tmp_path out of the screen
    clock = FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=UTC))
    path = Path("vault.sqlite")
    seed(path, clock, people())
    return path, clock


class TestGermanSnapshots:
    """Two main screens in German (regenerate with --snapshot-update and review the SVGs)."""

    def test_unlock_screen_in_german(
        self, german: None, snap_compare: Any, snap_vault: tuple[Path, FixedClock]
    ) -> None:
        assert snap_compare(app_for(*snap_vault), terminal_size=(100, 30))

    def test_contact_list_in_german(self, german: None, snap_compare: Any, snap_vault: tuple[Path, FixedClock]) -> None:
        async def run_before(pilot: Pilot[Any]) -> None:
            await unlocked(pilot)
            await pilot.press("end")  # Jürgen Müller: German dates in the list and the pane

        assert snap_compare(app_for(*snap_vault), run_before=run_before, terminal_size=(100, 30))
