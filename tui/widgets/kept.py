"""Screens kept installed between showings (tui.ahead): kept, dropped, shown again without restyling.

Textual restyles every widget of a screen each time it is shown (ScreenResume).  For the
screens sealbook keeps built (the blank new-contact form, the purge preview) that was a good
part of their key's time at 100k contacts (issue 15), and their styles are current anyway,
unless the app's CSS changed while they were hidden: a theme chosen meanwhile reaches only
the screens on the stack.  Textual counts CSS changes; a kept screen is restyled when it
missed one, and otherwise not.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from textual import events
from textual.app import App
from textual.screen import Screen

S = TypeVar("S", bound=Screen[Any])


def kept(app: App[Any], name: str, kind: type[S], built_for: Hashable, build: Callable[[], S]) -> S:
    """The screen installed as ``name`` if it is a ``kind`` built for ``built_for`` (its
    ``built_for`` attribute: the vault, language...), else a new one from ``build``, installed."""
    if app.is_screen_installed(name):
        screen = app.get_screen(name)
        if isinstance(screen, kind) and getattr(screen, "built_for", None) == built_for:
            return screen
        discard(app, name)
    made = build()
    app.install_screen(made, name)
    return made


def discard(app: App[Any], name: str, popped: Iterable[Screen[Any]] = ()) -> None:
    """Drop the screen installed as ``name`` (lock, another vault, language).  Call it once it is
    off the stack; ``popped``: screens just popped (Textual removes those itself)."""
    if app.is_screen_installed(name):
        screen = app.get_screen(name)
        app.uninstall_screen(name)
        if screen.is_attached and screen not in popped:
            screen.remove()


def resume_styles(screen: Screen[Any], event: events.ScreenResume) -> None:
    """Call from the screen's ``on_screen_resume`` (it runs before Screen's own handler):
    skip the restyle when the screen's styles are as current as the app's CSS.

    Relies on Textual's CSS change count (``_css_update_count``, Textual 8.2): a fresh screen
    starts at -1, so its first showing restyles; a theme change raises the app's count."""
    current = screen.app._css_update_count
    if screen._css_update_count == current:
        event.refresh_styles = False
    else:
        screen._css_update_count = current  # Textual's handler restyles it now
