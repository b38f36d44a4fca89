"""Literal rendering of stored text.

Contact fields come from the owner, from imports and from other devices, so
they are shown as data, never interpreted: no Textual markup (``[@click=...]``),
no Rich markup, and no control characters reach the terminal (an ESC would
let a name rewrite the screen or the clipboard, OSC 52).  Everything here
returns ``rich.text.Text``, which Textual renders without parsing markup.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from vault import safetext


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every invisible or controlling character replaced by a visible escape.

    The same rule as the command line's (:func:`vault.safetext.printable`), without a
    length limit: the screen clips or wraps long text itself.
    """
    return safetext.printable(text, None, multiline=multiline)


def literal(text: str, style: str | Style = "", *, multiline: bool = False) -> Text:
    """A ``Text`` showing ``text`` exactly as stored (made printable), never parsed as markup."""
    return Text(printable(text, multiline=multiline), style=style, no_wrap=not multiline, end="")
