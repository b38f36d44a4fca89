"""Issue 13.11: the list sorts by surname as well as by first name (s moves on), and names
are not cut at 15 characters when there is room (at 80x24 and 100x30).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.tui.helpers import app_for, people, screen_text, seed, unlock
from tui.screens.contacts import ContactsScreen
from tui.widgets.orders import surname
from vault.service import Vault

SIZES = [(80, 24), (100, 30)]
LONG = "Karl-Heinz Müller-Lüdenscheidt"  # 30 characters


def names(app: object) -> list[str]:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ContactsScreen)
    return [c.name for c in screen.table.rows]


def row_texts(app: object) -> list[str]:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ContactsScreen)
    return [screen.table.render_line(y).text for y in range(1, screen.table.row_count + 1)]


def test_the_surname_is_the_last_word_or_what_comes_before_a_comma() -> None:
    assert surname("Jürgen Müller") == "Müller"
    assert surname("Anna Müller-Lüdenscheidt") == "Müller-Lüdenscheidt"
    assert surname("Ludwig van Beethoven") == "Beethoven"
    assert surname("Müller, Jürgen") == "Müller"
    assert surname("Martin Luther King Jr.") == "King"
    assert surname("Cher") == "Cher"
    assert surname("") == ""


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_s_sorts_by_surname_then_by_retention_end_then_by_first_name_again(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, [*people(), draft(name="Zoë Öztürk", emails=(), phones=()), draft(name="Martin King Jr.")])
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        by_first = ["Anna Schmidt", "Bernd Becker", "Chloé Weiß", "Jürgen Müller", "Martin King Jr.", "Zoë Öztürk"]
        assert names(app) == by_first
        assert "sorted by first name" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("s")
        # Becker, King, Müller, Öztürk (with the O, not after Z), Schmidt, Weiß
        assert names(app) == [
            "Bernd Becker",
            "Martin King Jr.",
            "Jürgen Müller",
            "Zoë Öztürk",
            "Anna Schmidt",
            "Chloé Weiß",
        ]
        assert "sorted by surname" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("s")
        assert "sorted by retention end" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("s")
        assert names(app) == by_first


async def test_the_cursor_stays_on_the_contact_when_the_order_changes(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("j", "j", "s")  # Chloé Weiß, then sort by surname: she is last
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        assert screen.table.current is not None and screen.table.current.name == "Chloé Weiß"


async def test_a_long_name_is_shown_whole_at_100_columns(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [draft(name=LONG), draft(name="Ann Li", emails=("a@li.example",))])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        assert any(LONG in row for row in row_texts(app))
        assert LONG in screen_text(app)
        # The e-mail, the phone, the retention end and the state still show.
        assert any(
            "juergen.mueller" in row and "+49 30 1234567" in row and "2033-12-31" in row for row in row_texts(app)
        )


async def test_a_long_name_gets_the_spare_width_at_80_columns(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [draft(name=LONG)])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        assert any(LONG[:20] in row for row in row_texts(app))  # was cut after 16 characters
        assert any("2033-12-31" in row and "active" in row for row in row_texts(app))


async def test_short_names_leave_the_other_columns_their_width(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        header = app.screen.query_one("#table").render_line(0).text
        assert "Organisat" in header and "Basis" in header  # nothing hidden for names that fit


async def test_an_order_built_before_is_reused_only_until_the_data_changes(vault_path: Path, clock: FixedClock) -> None:
    """Sorting back to an order already built reuses it (issue 15: sorting at 100k); a change
    made elsewhere (the CLI, the purge) must show in every order afterwards."""
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        await pilot.press("s", "s", "s")  # surname, retention end, first name again
        await pilot.pause()
        assert screen.sort == "first name"
        first_order = list(screen._ordered)
        orders = screen._orders
        await pilot.press("s", "s", "s")
        await pilot.pause()
        assert screen._ordered is not first_order and screen._ordered == first_order  # same view...
        assert screen._orders is orders and orders is not None  # ...from the cache: the three orders
        assert len(orders._views) == 3  # were built once
        # Another process adds a contact; the refresh rebuilds every order.
        with Vault(vault_path, clock=clock) as other:
            other.unlock(PASSPHRASE)
            other.add(draft(name="Aaron Zzyzx", emails=("aaron@zzyzx.example",)))
        app.refresh_from_disk()
        await pilot.pause()
        assert "Aaron Zzyzx" in names(app)
        await pilot.press("s")  # surname: Zzyzx last
        await pilot.pause()
        assert names(app)[-1] == "Aaron Zzyzx"
        await pilot.press("s", "s")  # first name again: Aaron first
        await pilot.pause()
        assert names(app)[0] == "Aaron Zzyzx"
