"""What the owner typed into a screen: the contact form and the settings compare it with the
values they opened with, to tell unsaved work apart (Escape asks, a lock names it)."""

from __future__ import annotations

from textual.dom import DOMNode
from textual.widgets import Input, Select, TextArea


def field_values(root: DOMNode) -> tuple[object, ...]:
    """The value of every Input and Select and the text of every TextArea under ``root``, in order."""
    values: list[object] = []
    for widget in root.query("Input, Select, TextArea"):
        if isinstance(widget, (Input, Select)):
            values.append(widget.value)
        elif isinstance(widget, TextArea):
            values.append(widget.text)
    return tuple(values)
