"""Screens built ahead while the owner reads the list, and dropped with the keys.

Composing, styling and laying out a screen's widgets is most of the time its key takes: the
blank new-contact form (``n``, issue 13.2) and the purge preview (``p``, issue 15) are built
once per unlock, a moment after the list shows, pushed and popped in one step (composed, never
drawn), and kept installed.  ``n`` and ``p`` only show them (the preview reads the vault anew
each time); the first one builds the screen if it was not built ahead.  The lock drops them
with every other decrypted thing.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import Screen

from tui.host import VaultHost
from tui.screens.contacts import ContactsScreen
from tui.screens.form import ContactForm
from tui.screens.purge import PurgeScreen
from vault.model import Contact, ContactDraft
from vault.service import Vault

FORM_SECONDS = 0.5  # after an unlock, the blank form is built this much later
PURGE_SECONDS = 1.2  # and the purge preview this much later (each keeps the loop ~0.1-0.2 s)


def _listing(app: App[Any], vault: Vault | None) -> bool:
    """Whether the unlocked list is on top, with nothing else going on (then a screen is built)."""
    stack = app.screen_stack  # (empty while the app closes)
    return (
        app.is_running
        and vault is not None
        and not vault.is_locked
        and bool(stack)
        and isinstance(stack[-1], ContactsScreen)
    )


def _compose(app: App[Any], screen: Screen[Any]) -> None:
    app.push_screen(screen)
    app.pop_screen()


def build_form(app: App[Any], vault: Vault | None) -> None:
    """Build the blank new-contact form, unless it is there (``n`` then only shows it)."""
    if vault is None or not _listing(app, vault) or app.is_screen_installed(ContactForm.REUSED):
        return

    def save(draft: ContactDraft, *, allow_suppressed: bool = False) -> Contact:
        return vault.add(draft, allow_suppressed=allow_suppressed)

    _compose(app, ContactForm.for_new(app, vault, save))


def build_purge(app: App[Any], host: VaultHost) -> None:
    """Build the purge preview, unless it is there (``p`` then fills and shows it)."""
    if _listing(app, host.vault) and not app.is_screen_installed(PurgeScreen.REUSED):
        _compose(app, PurgeScreen.kept(app, host))


def drop(app: App[Any], popped: list[Screen[Any]]) -> None:
    """Drop every screen kept for the unlock (the lock); ``popped``: the screens just popped."""
    ContactForm.discard(app, popped=popped)
    PurgeScreen.discard(app, popped=popped)
