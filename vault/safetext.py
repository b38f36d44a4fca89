"""Text from the vault file or a sync server, made safe to show on a terminal.

Record ids, audit fields and contact fields come from a file anyone with write
access can edit, or from a server; an ESC or a C1 control in them would let that
text move the cursor, erase lines, set the window title or write the clipboard
(OSC 52) of whoever reads a report, a log or a cron mail.  Every front end shows
such text through :func:`printable`, which makes each invisible or controlling
character visible as an escape instead of letting the terminal interpret it.
"""

from __future__ import annotations

import unicodedata

# Control (Cc: C0, DEL, C1), format (Cf: bidi overrides, zero-width joiners),
# surrogates, private use, unassigned, and line/paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

ELLIPSIS = "…"


def is_hidden(char: str) -> bool:
    """Whether a terminal would act on ``char`` (or not show it) instead of printing it."""
    return unicodedata.category(char) in _HIDDEN


def escape(char: str) -> str:
    """The visible stand-in for one hidden character: ``\\x1b``, ``\\u202e``, ``\\U000e0001``."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, limit: int | None = 200, *, multiline: bool = False) -> str:
    """``text`` with every hidden character replaced by its escape, cut to ``limit`` characters.

    A tab becomes a space (four with ``multiline``); with ``multiline`` a newline
    stays a line break, otherwise it is escaped too, so one value stays on one
    line.  Text longer than ``limit`` (counted after escaping) ends in "…";
    ``limit=None`` keeps it whole.  The result is idempotent: escapes are printable.
    """
    if not multiline and text.isprintable():
        shown = text
    else:
        out = []
        for char in text:
            if multiline and char == "\n":
                out.append(char)
            elif char == "\t":
                out.append("    " if multiline else " ")
            elif is_hidden(char):
                out.append(escape(char))
            else:
                out.append(char)
        shown = "".join(out)
    if limit is not None and len(shown) > limit:
        return shown[: max(limit - 1, 0)] + ELLIPSIS
    return shown
