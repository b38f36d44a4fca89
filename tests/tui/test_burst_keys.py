"""Issue 13.2: keys typed in one burst are never lost or misplaced.

``burst`` queues every key at once, as a terminal delivers a fast typist, an unbracketed
paste or a password manager's auto-type; ``pilot.press`` would wait for the app after each
key and hide exactly these bugs.  At 80x24 and 100x30.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.conftest import PASSPHRASE, FixedClock
from tests.tui.helpers import app_for, burst, key_event, people, seed, settle, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.form import ContactForm
from tui.screens.purge import PurgeScreen
from vault.service import Vault

SIZES = [(80, 24), (100, 30)]


def value(app: object, field_id: str) -> str:
    return str(app.screen.query_one(f"#{field_id}", Input).value)  # type: ignore[attr-defined]


def untouched(path: Path, clock: FixedClock) -> list[tuple[str, bool, bool]]:
    with Vault(path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        return sorted((c.name, c.is_restricted, c.hold) for c in vault.contacts())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_keys_typed_right_after_n_land_in_the_form_fields_in_order(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    before = untouched(vault_path, clock)
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        # "Karl Überall" holds r, e and l: list keys (restrict, edit) if they reached the list.
        await burst(pilot, "n", *"Karl Überall", "tab", *"Org Zwei", "tab", *"karl@ueberall.example")
        assert isinstance(app.screen, ContactForm)
        assert (value(app, "name"), value(app, "org"), value(app, "emails")) == (
            "Karl Überall",
            "Org Zwei",
            "karl@ueberall.example",
        )
        await burst(pilot, "escape", "y", "j")  # discard (asked: typed input); j moves in the list again
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        assert screen.table.current is not None and screen.table.current.name == "Bernd Becker"
    assert untouched(vault_path, clock) == before  # no list key (r, e, l) ran on the way


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_burst_on_the_create_screen_creates_the_vault(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        # The passphrase, Tab, the passphrase again, Enter: as a password manager types them.
        await burst(pilot, *PASSPHRASE, "tab", *PASSPHRASE, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen), "the two passphrases differ?"
    assert vault_path.exists()
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)  # the passphrase typed, once, not both halves in the first field


async def test_a_burst_through_search_and_a_dialog_holds_the_right_contact(vault_path: Path, clock: FixedClock) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await burst(pilot, "slash", *"becker", "enter", "h", *"tax audit 2025", "enter", "p")
        assert isinstance(app.screen, PurgeScreen)  # the last key went to the list, once the dialog closed
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        held = vault.get(ids[3])
        assert (held.name, held.hold, held.hold_reason) == ("Bernd Becker", True, "tax audit 2025")
        assert [c.name for c in vault.contacts() if c.hold] == ["Bernd Becker"]


async def test_keys_after_escape_closing_the_form_reach_the_list(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await burst(pilot, "n", "escape", "j", "j", "e")  # nothing typed: escape closes at once
        form = app.screen
        assert isinstance(form, ContactForm) and form.contact is not None
        assert form.contact.name == "Chloé Weiß"  # the third by first name


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_time_to_open_the_form_is_printed(
    vault_path: Path, clock: FixedClock, size: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.pause()
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            app.post_message(key_event("n"))
            while not (isinstance(app.screen, ContactForm) and app.screen.is_mounted):
                await pilot.pause(0.001)
            mounted = time.perf_counter() - started
            await pilot.pause()
            timings.append((mounted, time.perf_counter() - started))
            await pilot.press("escape")
            assert isinstance(app.screen, ContactsScreen)
    with capsys.disabled():
        shown = ", ".join(f"{m * 1000:.0f} ms mounted / {p * 1000:.0f} ms idle" for m, p in timings)
        print(f"\nform open at {size[0]}x{size[1]}: {shown}")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_reused_blank_form_opens_empty_after_a_save_a_discard_and_a_lock(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    """The form for new contacts is built once and reused (issue 13.2); nothing typed into it
    may show up in the next one, and a lock drops it with the keys."""
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await burst(pilot, "n", *"Erste Person", "tab", *"Org Eins", "tab", *"eins@@example")
        first = app.screen
        assert isinstance(first, ContactForm) and value(app, "emails") == "eins@@example"
        await burst(pilot, "ctrl+s")  # refused: the e-mail; the error shows
        await settle(pilot)
        assert "emails" in first.errors
        await burst(pilot, "escape", "y")  # discard
        await settle(pilot)
        await burst(pilot, "n", *"Zweite")
        await settle(pilot)
        assert app.screen is first  # the same form, emptied
        assert (value(app, "name"), value(app, "org"), value(app, "emails")) == ("Zweite", "", "")
        assert not first.errors and not first.query_one("#emails").has_class("-error")
        await burst(pilot, "tab", "tab", "tab", *"0171 2345678")
        first.query_one("#trigger").focus()
        await burst(pilot, *"2026-01-31", "ctrl+s")  # saved
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        await burst(pilot, "n")
        await settle(pilot)
        assert app.screen is first and not first.has_changes
        assert (value(app, "name"), value(app, "phones")) == ("", "")
        await burst(pilot, *"Dritte", "ctrl+l")  # lock with the form open: it goes with the keys
        await settle(pilot)
        assert not app.is_screen_installed(ContactForm.REUSED)
        assert not first.is_attached
        await unlock(pilot)
        await burst(pilot, "n")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm) and app.screen is not first
        assert value(app, "name") == ""
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        assert [c.name for c in vault.contacts() if c.name in ("Erste Person", "Zweite", "Dritte")] == ["Zweite"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_blank_form_is_built_ahead_without_showing_or_taking_focus(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        await pilot.pause(0.8)  # past tui.ahead.FORM_SECONDS
        assert app.is_screen_installed(ContactForm.REUSED)
        ahead = app.get_screen(ContactForm.REUSED)
        assert ahead.is_mounted and ahead not in app.screen_stack
        assert app.screen is screen and app.focused is screen.table  # nothing moved under the owner
        await burst(pilot, "j", "n", *"Karl")
        assert app.screen is ahead and value(app, "name") == "Karl"
        assert screen.table.current is not None and screen.table.current.name == "Bernd Becker"  # j went to the list


@pytest.mark.parametrize("then", ["quit", "lock"])
async def test_the_form_built_ahead_may_be_dropped_while_it_is_built(
    vault_path: Path, clock: FixedClock, then: str
) -> None:
    """The app quits (a CI run caught this: NoMatches from the form's on_mount) or locks in the
    moment the blank form is being built ahead: nothing raises, and a lock still drops it."""
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        app._prepare_form()  # what the tui.ahead.FORM_SECONDS timer does, without waiting for it
        if then == "quit":
            app.exit()
            return
        app.action_lock()
        await settle(pilot)
        assert not app.is_screen_installed(ContactForm.REUSED)
        await unlock(pilot)
        await burst(pilot, "n", *"Karl")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm) and value(app, "name") == "Karl"


@pytest.mark.parametrize(
    "keys",
    [
        ("n", "escape", "ctrl+l"),
        ("n", *"Karl", "escape", "y", "ctrl+l"),
        ("e", "ctrl+l"),
        ("o", "ctrl+l"),
        ("p", "ctrl+l"),
    ],
)
async def test_a_lock_right_after_the_blank_form_closed_drops_it_cleanly(
    vault_path: Path, clock: FixedClock, keys: tuple[str, ...]
) -> None:
    """The closed blank form empties itself a moment later (ContactForm.dismiss), and the edit
    form, settings and purge preview are still being built, when a lock typed in the same burst
    drops them: nothing raises, and the next `n` opens an empty form."""
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await burst(pilot, *keys)
        await settle(pilot)
        assert not app.is_screen_installed(ContactForm.REUSED)
        await unlock(pilot)
        await burst(pilot, "n")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm) and value(app, "name") == ""
