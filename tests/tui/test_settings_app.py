"""Issue 13.7: the settings screen (o), at 80x24 and 100x30, keys typed in one burst.

What is typed lands in its field and in the config file, the running app uses it at once,
a refused value is shown and nothing typed is lost, Escape asks before it drops changes.
A test that takes ``size`` runs at both sizes (the ``size`` and ``german`` fixtures:
tests/tui/conftest.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widgets import Input, Label, Select, Static, TextArea

from tests.conftest import WEAK_KDF, FixedClock
from tests.tui.helpers import burst, people, screen_text, seed, unlock
from tui.app import SealbookApp, make_app
from tui.screens.contacts import ContactsScreen
from tui.screens.dialogs import Confirm
from tui.screens.form import ContactForm
from tui.screens.help import HelpScreen
from tui.screens.settings import SettingsScreen
from tui.screens.unlock import UnlockScreen
from vault.config import Config, load_config

OWNER_FILE = '# my settings\nregion = "DE"  # phones\n\n[my_plugin]\ncolour = "teal"\n'


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir()
    path.write_text(OWNER_FILE, encoding="utf-8")
    return path


def settings_app(vault_path: Path, clock: FixedClock, config_path: Path) -> SealbookApp:
    return make_app(
        vault_path, load_config(config_path), clock=clock, kdf=WEAK_KDF, allow_weak_kdf=True, config_path=config_path
    )


def field(app: SealbookApp, field_id: str) -> str:
    widget = app.screen.query_one(f"#{field_id}")
    if isinstance(widget, TextArea):
        return widget.text
    if isinstance(widget, Select):
        return str(widget.value)
    assert isinstance(widget, Input)
    return widget.value


def shown_error(app: SealbookApp, selector: str) -> str:
    label = app.screen.query_one(selector, Label)
    return str(label.content) if label.display else ""


# Everything the owner types, from `o` on: Tab moves between the fields (TextAreas too).
TYPED = (
    "o",
    "backspace",  # the 5 (selected on focus, or before the cursor)
    *"12",
    "tab",
    *"Ada Lovelace",
    "tab",
    *"Analytical Str. 1",
    "enter",
    *"10115 Berlin",
    "tab",
    *"BlnBDI",
    "tab",
    *"Hetzner | web space | DE",
    "enter",
    *"Zoom | calls | US | processor | scc",
    "tab",
    "backspace",
    "backspace",
)


async def test_typed_settings_land_in_their_fields_the_file_and_the_running_app(
    vault_path: Path, clock: FixedClock, config_path: Path, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = settings_app(vault_path, clock, config_path)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await burst(pilot, *TYPED, *"at")
        assert isinstance(app.screen, SettingsScreen)
        assert field(app, "idle_lock_minutes") == "12"
        assert field(app, "controller_name") == "Ada Lovelace"
        assert field(app, "controller_address") == "Analytical Str. 1\n10115 Berlin"
        assert field(app, "supervisory_authority") == "BlnBDI"
        assert field(app, "processors") == "Hetzner | web space | DE\nZoom | calls | US | processor | scc"
        assert field(app, "region") == "at"
        dialog = app.screen.query_one("#settings")
        assert Region(0, 0, *app.size).contains_region(dialog.region)  # the dialog fits; its body scrolls
        await burst(pilot, "ctrl+s")
        assert isinstance(app.screen, ContactsScreen)
        # In the running app at once: the idle lock, the vault's config (letters), new contacts' region.
        assert app.config.idle_lock_minutes == 12
        assert app.vault is not None and app.vault.config is app.config
        await burst(pilot, "n")
        assert isinstance(app.screen, ContactForm)
        assert "default country AT" in screen_text(app)
        await burst(pilot, "escape")
    text = config_path.read_text(encoding="utf-8")
    assert text.startswith('# my settings\nregion = "AT"  # phones\n')
    assert '[my_plugin]\ncolour = "teal"' in text
    config = load_config(config_path)
    assert (config.idle_lock_minutes, config.region) == (12, "AT")
    assert (config.controller_name, config.controller_address) == ("Ada Lovelace", "Analytical Str. 1\n10115 Berlin")
    assert config.supervisory_authority == "BlnBDI"
    assert [(p.name, p.purpose, p.country, p.transfer) for p in config.processors] == [
        ("Hetzner", "web space", "DE", ""),
        ("Zoom", "calls", "US", "scc"),
    ]


async def test_the_new_idle_minutes_decide_the_auto_lock_at_once(
    vault_path: Path, clock: FixedClock, config_path: Path
) -> None:
    seed(vault_path, clock, people())
    app = settings_app(vault_path, clock, config_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await burst(pilot, "o", "backspace", *"30", "ctrl+s")
        assert isinstance(app.screen, ContactsScreen) and app.config.idle_lock_minutes == 30
        app.last_activity = time.monotonic() - 6 * 60  # idle longer than the old 5 minutes
        app.check_idle_lock()
        assert app.is_unlocked
        app.last_activity = time.monotonic() - 31 * 60
        app.check_idle_lock()
        await pilot.pause()
        assert not app.is_unlocked and isinstance(app.screen, UnlockScreen)


async def test_an_invalid_region_is_shown_and_everything_typed_stays(
    vault_path: Path, clock: FixedClock, config_path: Path, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = settings_app(vault_path, clock, config_path)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await burst(pilot, *TYPED, *"Germany", "ctrl+s")
        assert isinstance(app.screen, SettingsScreen)
        assert "two-letter country code" in shown_error(app, "#error-region")
        assert "Not saved" in shown_error(app, "#settings-error")
        assert app.screen.focused is app.screen.query_one("#region")
        assert "two-letter country code" in screen_text(app)  # scrolled into view with its field
        assert field(app, "region") == "Germany"
        assert field(app, "controller_name") == "Ada Lovelace"
        assert field(app, "processors").endswith("Zoom | calls | US | processor | scc")
        assert app.config.idle_lock_minutes == 5
        # Corrected, it saves: the message goes, the values stay.
        await burst(pilot, "backspace", "backspace", "backspace", "backspace", "backspace", "ctrl+s")
        assert isinstance(app.screen, ContactsScreen)
    assert load_config(config_path).region == "GE"


async def test_a_non_number_and_a_processor_without_transfer_are_refused_at_their_fields(
    vault_path: Path, clock: FixedClock, config_path: Path
) -> None:
    seed(vault_path, clock, people())
    app = settings_app(vault_path, clock, config_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await burst(pilot, "o", "backspace", *"ten", "ctrl+s")
        assert "idle_lock_minutes must be 0..1440" in shown_error(app, "#error-idle_lock_minutes")
        assert field(app, "idle_lock_minutes") == "ten"
        await burst(pilot, "backspace", "backspace", "backspace", "1", "tab", "tab", "tab", "tab")
        await burst(pilot, *"Zoom | calls | US", "ctrl+s")
        assert shown_error(app, "#error-idle_lock_minutes") == ""
        assert "outside the EU/EEA" in shown_error(app, "#error-processors")
        assert field(app, "processors") == "Zoom | calls | US"
    assert config_path.read_text(encoding="utf-8") == OWNER_FILE


async def test_a_config_file_that_cannot_be_read_is_said_and_nothing_typed_is_lost(
    vault_path: Path, clock: FixedClock, config_path: Path
) -> None:
    seed(vault_path, clock, people())
    app = settings_app(vault_path, clock, config_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await burst(pilot, "o", "backspace", *"9")
        config_path.write_text("region = \n")  # broken by hand while the screen was open
        await burst(pilot, "ctrl+s")
        assert isinstance(app.screen, SettingsScreen)
        assert "The configuration file is invalid" in shown_error(app, "#settings-error")
        assert str(config_path) in shown_error(app, "#settings-error")
        assert field(app, "idle_lock_minutes") == "9"
    assert config_path.read_text() == "region = \n"


async def test_escape_with_changes_asks_before_it_drops_them(
    vault_path: Path, clock: FixedClock, config_path: Path, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = settings_app(vault_path, clock, config_path)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await burst(pilot, "o", "escape")  # nothing changed: closes at once
        assert isinstance(app.screen, ContactsScreen)
        await burst(pilot, "o", "tab", *"Ada", "escape")
        assert isinstance(app.screen, Confirm)
        await burst(pilot, "n")
        assert isinstance(app.screen, SettingsScreen)
        assert field(app, "controller_name") == "Ada"
        await burst(pilot, "escape", "y")
        assert isinstance(app.screen, ContactsScreen)
    assert config_path.read_text(encoding="utf-8") == OWNER_FILE


async def test_the_screen_the_help_and_the_palette_name_the_settings_and_the_file(
    vault_path: Path, clock: FixedClock, config_path: Path
) -> None:
    seed(vault_path, clock, people())
    app = settings_app(vault_path, clock, config_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        commands = {command.title: command.help for command in app.get_system_commands(app.screen)}
        assert commands["Settings"].endswith("(o)")
        await burst(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-settings", Static).content)
        assert str(config_path) in help_text and "o " in help_text
        await burst(pilot, "escape", "o")
        assert isinstance(app.screen, SettingsScreen)
        assert str(config_path) in str(app.screen.query_one("#settings-path", Static).content)


async def test_the_settings_speak_german_under_language_de(
    german: None, vault_path: Path, clock: FixedClock, config_path: Path, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    config_path.write_text('language = "de"\n' + OWNER_FILE, encoding="utf-8")
    app = settings_app(vault_path, clock, config_path)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await burst(pilot, "o")
        assert isinstance(app.screen, SettingsScreen)
        text = screen_text(app)
        assert "Einstellungen" in text
        assert "Nach so vielen Minuten ohne Eingabe sperren (0 = nie)" in text
        assert "Verantwortlicher" in text
        assert "Speichern" in text and "Abbrechen" in text
        assert field(app, "language") == "de"
        await burst(pilot, "tab", "tab", "tab", *"LfD", "ctrl+s")  # into the authority field
        saved = load_config(config_path)
        assert saved.supervisory_authority == "LfD" and saved.language == "de"
        assert isinstance(app.screen, ContactsScreen)
        await burst(pilot, "o", "tab", "tab", "tab", "tab", "tab", *"Deutschland", "ctrl+s")
        assert "Ländercode aus zwei Buchstaben" in shown_error(app, "#error-region")
        assert "Nicht gespeichert" in shown_error(app, "#settings-error")


def test_a_default_app_writes_the_default_config_path(vault_path: Path, clock: FixedClock) -> None:
    from vault.config import default_config_path

    app = make_app(vault_path, Config(), clock=clock)
    assert app.config_path == default_config_path()
