"""Literal rendering of stored text.

Contact fields come from the owner, from imports and from other devices, so
they are shown as data, never interpreted: no Textual markup (``[@click=...]``),
no Rich markup, and no control characters reach the terminal (an ESC would
let a name rewrite the screen or the clipboard, OSC 52).  Everything here
returns ``rich.text.Text``, which Textual renders without parsing markup.
"""

from __future__ import annotations

import unicodedata

from rich.style import Style
from rich.text import Text

# Control (Cc), format (Cf: bidi overrides, zero-width joiners), surrogates,
# private use, unassigned, and line/paragraph separators are made visible.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every invisible or controlling character replaced by a visible escape."""
    if text.isprintable() and not multiline:
        return text
    out = []
    for ch in text:
        if multiline and ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append("    " if multiline else " ")
        elif unicodedata.category(ch) in _HIDDEN:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def literal(text: str, style: str | Style = "", *, multiline: bool = False) -> Text:
    """A ``Text`` showing ``text`` exactly as stored (made printable), never parsed as markup."""
    return Text(printable(text, multiline=multiline), style=style, no_wrap=not multiline, end="")
