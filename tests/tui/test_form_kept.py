"""Issue 15: `n` shows the kept blank form without restyling its ~40 widgets again.

Real app under Pilot at 80x24 and 100x30, keys in one burst.  The form's styles stay current
without it: a field marked in error is unmarked when the form is emptied, and the focused
field is styled as focused.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.conftest import FixedClock
from tests.tui.helpers import app_for, burst, people, seed, settle, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.form import ContactForm
from tui.screens.purge import PurgeScreen

SIZES = [(80, 24), (100, 30)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_n_shows_the_kept_form_without_restyling_it_and_its_marks_stay_right(
    vault_path: Path, clock: FixedClock, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    restyled: list[object] = []
    original = ContactForm.update_node_styles

    def counted(self: ContactForm, animate: bool = True) -> None:
        restyled.append(self)
        original(self, animate)

    monkeypatch.setattr(ContactForm, "update_node_styles", counted)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        app._prepare_form()  # what the tui.ahead.FORM_SECONDS timer does
        await settle(pilot)
        kept = app.get_screen(ContactForm.REUSED)
        restyled.clear()
        # A bad address marks its field; the form is left (discarding), then opened again.
        await burst(pilot, "n", *"Erika", "tab", "tab", *"not-an-address", "tab")
        assert app.screen is kept and kept.query_one("#emails", Input).has_class("-error")
        await burst(pilot, "escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        await burst(pilot, "n")
        assert app.screen is kept
        assert restyled == []  # neither showing restyled the whole form
        emails, name = kept.query_one("#emails", Input), kept.query_one("#name", Input)
        assert not emails.has_class("-error") and emails.value == ""
        assert app.focused is name and name.has_pseudo_class("focus")
        # The styles the fields show are the stylesheet's for their state now: the unmarked
        # field has the same border as a field that was never marked.
        org = kept.query_one("#org", Input)
        assert emails.styles.border == org.styles.border


async def test_a_theme_chosen_while_the_form_and_the_preview_were_kept_shows_on_them(
    vault_path: Path, clock: FixedClock
) -> None:
    """Kept screens are not restyled when shown, unless the app's CSS changed meanwhile: a
    theme chosen while they waited reaches them (Textual restyles only the screens on the stack)."""
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        app._prepare_form()
        app._prepare_purge()
        await settle(pilot)
        form, preview = app.get_screen(ContactForm.REUSED), app.get_screen(PurgeScreen.REUSED)
        dark = (form.styles.background, form.query_one("#org", Input).styles.background, preview.styles.background)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await settle(pilot)
        await burst(pilot, "n")
        assert app.screen is form
        await burst(pilot, "escape", "p")
        assert app.screen is preview
        light = (form.styles.background, form.query_one("#org", Input).styles.background, preview.styles.background)
        assert all(now != then for now, then in zip(light, dark, strict=True))
        await burst(pilot, "escape")
        # What a screen built now in the new theme shows.
        assert isinstance(app.screen, ContactsScreen) and app.screen.styles.background == light[0]
