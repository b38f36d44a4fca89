"""Issue 13 in the app: a busy vault, unsaved forms, list keys and the search rules.

Keys are sent in one burst (``pilot.press`` with several keys, no pauses in
between), at 80x24 and 100x30 where the layout matters.  The busy vault is
held by a real second process: the stdlib ``sqlite3`` module holding a write
transaction on the vault file, or sealbook's own purge lock file.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widgets import Footer, Input, Label
from textual.widgets._footer import FooterKey

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from tests.tui.helpers import app_for, burst, people, screen_text, seed, settle, unlock
from tui import app as app_module
from tui.app import BUSY_NOTE, SealbookApp
from tui.screens.contacts import ContactsScreen
from tui.screens.dialogs import Confirm
from tui.screens.form import ContactForm
from tui.screens.unlock import UnlockScreen
from vault.config import Config
from vault.service import Vault

ROOT = Path(__file__).parents[2]
SIZES = [(80, 24), (100, 30)]

# A second process: optionally adds a contact through sealbook (a committed change the
# app has to pick up), then holds the vault's write lock ("db": an open BEGIN IMMEDIATE,
# as a long import or the purge's VACUUM does) or the purge lock file ("purge") until
# its standard input closes; it gives up by itself after 60 s.
HOLDER = """
import signal, sqlite3, sys
from pathlib import Path
signal.alarm(60)
path, what, add = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
from tests.conftest import PASSPHRASE, draft
from vault.lockfile import exclusive, lock_path_for
from vault.service import Vault
def added():
    if add:
        with Vault(path) as vault:
            vault.unlock(PASSPHRASE)
            vault.add(draft(name=add))
if what == "db":
    added()
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    connection.execute("BEGIN IMMEDIATE")
    print("held", flush=True)
    sys.stdin.read()
    connection.execute("ROLLBACK")
else:
    with exclusive(lock_path_for(path), wait=0):
        added()
        print("held", flush=True)
        sys.stdin.read()
"""


@contextmanager
def held(path: Path, what: str, add: str = "") -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), what, add],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        release(process)


def release(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None and not process.stdin.closed:
        process.stdin.close()
    process.wait(timeout=30)


def said(app: SealbookApp) -> list[str]:
    """Every notification the app gives from now on (toasts expire; this list does not)."""
    messages: list[str] = []
    notify = app.notify

    def record(message: str, **options: object) -> None:
        messages.append(message)
        notify(message, **options)  # type: ignore[arg-type]

    app.notify = record  # type: ignore[method-assign]
    return messages


def names(app: SealbookApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, ContactsScreen)
    return [c.name for c in screen.table.rows]


# --- 13.1: another process holds the vault ---------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_a_write_lock_held_by_another_process_keeps_the_app_and_the_typed_form(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        notes = said(app)
        with held(vault_path, "db") as holder:
            started = time.monotonic()
            app.refresh_from_disk()  # nothing committed meanwhile: asked without waiting for the lock
            assert time.monotonic() - started < 1.0
            await pilot.press("n", *"Karl Überall", "tab", *"Org Zwei")
            form = app.screen
            assert isinstance(form, ContactForm)
            form.query_one("#trigger", Input).value = "2026-01-05"
            await pilot.press("ctrl+s")
            assert app.screen is form  # still open ...
            assert "The vault is busy" in screen_text(app)  # ... says why ...
            assert "nothing was saved" in str(form.query_one("#form-error", Label).render())
            assert form.query_one("#name", Input).value == "Karl Überall"  # ... and keeps what was typed
            assert form.query_one("#org", Input).value == "Org Zwei"
            assert app.is_running and app.return_code is None
            release(holder)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ContactsScreen)
        assert "Karl Überall" in names(app)
        assert not [n for n in notes if "busy" in n]  # the refresh never had to wait


async def test_a_busy_refresh_says_so_once_and_refreshes_when_it_can(
    vault_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(vault_path, clock, people())
    monkeypatch.setattr(app_module, "BUSY_RETRY_SECONDS", 0.0)
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        notes = said(app)
        # The other process commits a new contact, then keeps the write lock (> 10 s in all).
        with held(vault_path, "db", add="Ida Import") as holder:
            app.refresh_from_disk()  # waits out SQLite's busy timeout (5 s), then gives up
            app.refresh_from_disk()  # the same again: not said twice
            await pilot.pause()
            assert notes == [BUSY_NOTE]
            assert isinstance(app.screen, ContactsScreen) and app.is_running
            assert "Ida Import" not in names(app)
            await pilot.press("j", "k")  # still answers the keyboard
            release(holder)
        app.refresh_from_disk()
        await pilot.pause()
        assert "Ida Import" in names(app)
        assert notes == [BUSY_NOTE]
        assert app.return_code is None


async def test_the_purge_lock_file_held_elsewhere_does_not_stop_the_app(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        notes = said(app)
        with held(vault_path, "purge", add="Paul Purge"):
            app.refresh_from_disk()
            await pilot.pause()
            assert "Paul Purge" in names(app)
            await pilot.press("n", *"Rita Rasch")
            app.screen.query_one("#trigger", Input).value = "2026-01-05"
            await pilot.press("ctrl+s")
            assert isinstance(app.screen, ContactsScreen)
            assert "Rita Rasch" in names(app)
        assert not [n for n in notes if "busy" in n or "rror" in n]
        assert app.is_running and app.return_code is None


# --- 13.3: unsaved forms -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_escape_asks_before_discarding_typed_input(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("n", *"Karl", "escape")
        assert isinstance(app.screen, Confirm)
        text = screen_text(app)
        assert "Discard the changes? y/n" in text
        assert "Discard (y)" in text and "Cancel (n)" in text  # the buttons fit
        await pilot.press("n", *"a")  # no: back in the form, typing on where it was
        assert isinstance(app.screen, ContactForm)
        assert app.screen.query_one("#name", Input).value == "Karla"
        await pilot.press("escape", "escape")  # escape in the question is "no" too
        assert isinstance(app.screen, ContactForm)
        await pilot.press("escape", "y")
        assert isinstance(app.screen, ContactsScreen)
        assert "Karla" not in names(app)


async def test_escape_on_an_unchanged_form_closes_it_at_once(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("n", "escape")
        assert isinstance(app.screen, ContactsScreen)
        await pilot.press("e", "escape")  # an edit form as opened is unchanged too
        assert isinstance(app.screen, ContactsScreen)
        await pilot.press("e", "end", *"x", "backspace", "escape")  # typed and taken back: no change
        assert isinstance(app.screen, ContactsScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_auto_lock_warns_with_a_form_open_and_names_the_discarded_form(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock, Config(idle_lock_minutes=5))
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        notes = said(app)
        app.last_activity -= 250  # no form open: no warning
        app.check_idle_lock()
        assert notes == []
        await pilot.press("n", *"Karl Geheim")
        app.last_activity -= 200  # 3 min 20 s idle: not yet
        app.check_idle_lock()
        assert notes == []
        app.last_activity -= 45  # 4 min 5 s idle: under a minute left
        app.check_idle_lock()
        app.check_idle_lock()  # said once
        assert len(notes) == 1
        assert "locking in 55 s; press any key to stay" in notes[0]
        await pilot.press("space")  # a key: stays unlocked, the idle time starts again
        app.check_idle_lock()
        assert app.is_unlocked and len(notes) == 1
        app.last_activity -= 301
        app.check_idle_lock()
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)
        await unlock(pilot)
        assert isinstance(app.screen, ContactsScreen)
        discarded = [n for n in notes if "discarded" in n]
        assert len(discarded) == 1
        assert "new contact" in discarded[0]
        assert "Karl" not in "\n".join(notes)  # which form, never what was in it


async def test_a_lock_names_an_edit_by_its_id_prefix_and_skips_unchanged_forms(
    vault_path: Path, clock: FixedClock
) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        notes = said(app)
        await pilot.press("n", "ctrl+l")  # an untouched form: nothing to report
        await unlock(pilot)
        assert not [n for n in notes if "discarded" in n]
        await pilot.press("g", "e", *" jun.", "ctrl+l")  # Anna Schmidt, the first by name
        await unlock(pilot)
        [discarded] = [n for n in notes if "discarded" in n]
        assert f"edit of {ids[1][:8]}" in discarded
        assert "Anna" not in discarded and "jun." not in discarded


# --- 13.11: j/k/g/G --------------------------------------------------------------------------


def many(path: Path, clock: FixedClock, count: int) -> None:
    with Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock) as vault:
        vault.add_many([draft(name=f"Person {i:02d}", emails=(), phones=()) for i in range(count)])


@pytest.mark.parametrize("size", SIZES)
async def test_j_k_g_and_shift_g_move_in_the_list(vault_path: Path, clock: FixedClock, size: tuple[int, int]) -> None:
    many(vault_path, clock, 40)
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        table = screen.table
        await pilot.press("j", "j", "j", "k")
        assert table.cursor == 2
        await pilot.press("G")
        assert table.current is not None and table.current.name == "Person 39"
        visible = table.scrollable_content_region.height - 1
        assert table.scroll_y <= table.cursor < table.scroll_y + visible  # scrolled into view
        await pilot.press("g")
        assert table.cursor == 0 and table.scroll_y == 0
        await pilot.press("G", "k")
        assert table.cursor == 38


async def test_j_k_g_and_shift_g_are_text_in_the_search_box_and_the_form(vault_path: Path, clock: FixedClock) -> None:
    many(vault_path, clock, 5)
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        await pilot.press("j", "j")
        assert screen.table.cursor == 2
        await pilot.press("slash", *"jkgG")
        assert screen.query_one("#search", Input).value == "jkgG"  # text, not moves
        assert screen.table.row_count == 0  # and searched for
        await pilot.press("escape", "enter", "n", *"Gjkg")
        assert isinstance(app.screen, ContactForm)
        assert app.screen.query_one("#name", Input).value == "Gjkg"


# --- 13.12: the search box -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_search_ignores_word_order_and_never_widens_while_typing(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"weiss chloe")
        assert names(app) == ["Chloé Weiß"]
        search = app.screen.query_one("#search", Input)
        search.value = ""
        await pilot.press(*"muller jurgen")
        assert names(app) == ["Jürgen Müller"]
        search.value = ""
        await pilot.pause()
        previous = set(names(app))
        assert len(previous) == 4
        for key in "0171":
            await pilot.press(key)
            now = set(names(app))
            assert now <= previous, search.value
            previous = now
        assert previous == {"Anna Schmidt"}


# --- 13.10: footer and dialogs at 80x24 and 100x30 ---------------------------------------------


def footer_keys(app: SealbookApp) -> list[tuple[str, int]]:
    """(key, right edge) of every key the footer shows, left to right."""
    keys = app.screen.query_one(Footer).query(FooterKey)
    return [(key.key, key.region.right) for key in sorted(keys, key=lambda k: k.region.x)]


@pytest.mark.parametrize("size", SIZES)
async def test_the_footer_fits_with_lock_first_and_the_dialogs_fit(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    width, height = size
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        shown = footer_keys(app)
        assert [key for key, _ in shown][:6] == ["ctrl+l", "slash", "n", "e", "d", "r"]
        assert {"question_mark", "ctrl+p"} <= {key for key, _ in shown}
        assert all(right <= width for _, right in shown)
        assert "palettee" not in screen_text(app)
        for keys, dialog in [
            (["question_mark"], "#help"),
            (["n"], "#form"),
            (["n", "x", "escape"], "#confirm"),
            (["d"], "#erase"),
            (["h"], ".ask"),
        ]:
            await pilot.press(*keys)
            region = app.screen.query_one(dialog).region
            assert region.x >= 0 and region.y >= 0, dialog
            assert region.right <= width and region.bottom <= height, dialog
            assert footer_keys(app)[0][0] == "ctrl+l", dialog  # Lock in every dialog's footer
            while not isinstance(app.screen, ContactsScreen):
                await pilot.press("escape")
                if isinstance(app.screen, Confirm):
                    await pilot.press("y")


async def test_a_lock_with_unsaved_settings_warns_first_and_says_they_were_discarded(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock, Config(idle_lock_minutes=5))
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        notes = said(app)
        await burst(pilot, "o")
        await settle(pilot)
        app.screen.query_one("#controller_name").focus()
        await burst(pilot, *"Kanzlei Geheim")
        app.last_activity -= 245  # under a minute left, the settings screen open with changes
        app.check_idle_lock()
        assert len(notes) == 1 and "locking in" in notes[0]
        app.last_activity -= 301
        app.check_idle_lock()
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)
        await unlock(pilot)
        discarded = [n for n in notes if "discarded" in n]
        assert len(discarded) == 1 and "the settings" in discarded[0]
        assert "Geheim" not in "\n".join(notes)
