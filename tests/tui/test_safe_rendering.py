"""Contact text is data: markup, escapes and control characters are shown literally."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from textual.app import App, ComposeResult

from tests.conftest import FixedClock
from tests.tui.helpers import SIZE, app_for, draft, screen_text, seed, unlock
from tui.screens.contacts import ContactsScreen
from tui.widgets.contact_table import ContactTable
from tui.widgets.detail import DetailPane, describe
from tui.widgets.safe import literal, printable
from vault.model import Contact, LegalBasis

HOSTILE = [
    "[bold red]Mallory[/]",
    "[@click=app.quit]click me[/]",
    "[link=https://evil.example]x[/link]",
    "\x1b[2J\x1b[31mred\x1b[0m",
    "\x1b]52;c;ZXZpbA==\x07clip",
    "nul\x00bell\x07back\x08",
    "rtl\u202eevil",
    "[/]unbalanced[",
]


def hostile_contact(index: int, name: str) -> Contact:
    return Contact(
        id=f"00000000-0000-4000-8000-{index:012d}",
        name=name,
        basis=LegalBasis.CONTRACT,
        rule="invoices-8y",
        trigger=date(2025, 3, 10),
        retention_end=date(2033, 12, 31),
        review_at=None,
        emails=(f"{name}@example.org",),
        phones=("+49301234567",),
        org=name,
        notes=f"{name}\nsecond line {name}",
        source=name,
        purpose=name,
        created=datetime(2026, 6, 15, 12),
        updated=datetime(2026, 6, 15, 12),
    )


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield ContactTable()
        yield DetailPane()


def test_printable_makes_every_control_character_visible() -> None:
    for name in HOSTILE:
        shown = printable(name, multiline=True)
        assert all(ch.isprintable() or ch == "\n" for ch in shown)
    assert printable("\x1b[31m") == "\\x1b[31m"
    assert printable("a\nb") == "a\\x0ab"
    assert printable("a\nb", multiline=True) == "a\nb"
    assert literal("[b]x[/b]").plain == "[b]x[/b]"


async def test_hostile_names_render_literally_in_table_and_detail_pane() -> None:
    contacts = [hostile_contact(i, name) for i, name in enumerate(HOSTILE)]
    app = Harness()
    async with app.run_test(size=(200, 60)) as pilot:
        table = app.query_one(ContactTable)
        table.set_rows(contacts)
        pane = app.query_one(DetailPane)
        for contact in contacts:
            pane.show(contact, None, date(2026, 6, 15))
            await pilot.pause()
            assert app.is_running
            assert printable(contact.name) in describe(contact, None, date(2026, 6, 15)).plain
        lines = [table.render_line(y).text for y in range(1, len(contacts) + 1)]
        assert lines[0].startswith("[bold red]Mallory[/]")
        assert lines[1].startswith("[@click=app.quit]click me[/]")
        assert lines[3].startswith("\\x1b[2J\\x1b[31mred")
        for line in lines:
            assert "\x1b" not in line and "\x07" not in line and "\x00" not in line
        text = screen_text(app)
        assert "[@click=app.quit]click me[/]" in text
        assert "\x1b" not in text
        await pilot.click(ContactTable, offset=(3, 2))  # the [@click=app.quit] row
        await pilot.pause()
        assert app.is_running


async def test_markup_stored_in_the_vault_is_shown_as_typed(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [draft(name="[@click=app.quit]Quit[/]", org="[b]Bold[/b] & [red]", notes="[i]x")])
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert isinstance(app.screen, ContactsScreen)
        text = screen_text(app)
        assert "[@click=app.quit]Quit[/]" in text
        assert "[b]Bold[/b] & [red]" in text
        await pilot.click("#detail", offset=(2, 0))
        await pilot.press("e")  # the edit form shows it literally too
        await pilot.pause()
        assert "[@click=app.quit]Quit[/]" in screen_text(app)
        assert app.is_running
