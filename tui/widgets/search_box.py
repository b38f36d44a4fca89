"""The list's search box: an Input whose typing does not re-lay-out the whole screen."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class SearchBox(Input):
    """Textual's Input stores the width of its text as its virtual size, a reactive that asks
    for a layout of the whole screen when it changes: every character typed re-arranged the
    list screen (issue 15: keystroke latency at 100k).  The box has a fixed size (the app's
    stylesheet gives it 100% x 3), so a repaint is all a new character needs; scrolling inside
    the box reads the virtual size directly and is unaffected."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
