"""What the owner typed into a screen: the contact form and the settings compare it with the
values they opened with, to tell unsaved work apart (Escape asks, a lock names it)."""

from __future__ import annotations

from typing import Any

from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input, Select, TextArea

from tui.screens.dialogs import Confirm
from vault.i18n import _


def field_values(root: DOMNode) -> tuple[object, ...]:
    """The value of every Input and Select and the text of every TextArea under ``root``, in order."""
    values: list[object] = []
    for widget in root.query("Input, Select, TextArea"):
        if isinstance(widget, (Input, Select)):
            values.append(widget.value)
        elif isinstance(widget, TextArea):
            values.append(widget.text)
    return tuple(values)


def confirm_cancel(screen: Screen[Any], *, changed: bool, body: str) -> None:
    """Cancel an editing screen: dismiss it with None at once when nothing ``changed``, else ask
    "Discard the changes? y/n" first (``body`` says what would be lost and where n returns to);
    y dismisses, n or escape leave the screen as it was."""
    if not changed:
        screen.dismiss(None)
        return

    def answered(discard: bool | None) -> None:
        if discard:
            screen.dismiss(None)

    screen.app.push_screen(Confirm(_("Discard the changes? y/n"), body, yes=_("Discard")), answered)
