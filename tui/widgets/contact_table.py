"""The contact list: a virtual table that renders only the rows on screen.

A ``DataTable`` builds a row object per record; at 100,000 contacts that alone
costs seconds on every search.  This widget takes any ``Sequence[Contact]``
(usually a cheap view over the search result) and draws only the visible lines
through Textual's line API, so a new result costs O(rows on screen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.safe import printable
from vault.model import Contact, LegalBasis, format_phone

_BASIS_SHORT = {
    LegalBasis.CONSENT: "consent (a)",
    LegalBasis.CONTRACT: "contract (b)",
    LegalBasis.LEGAL_OBLIGATION: "legal obl. (c)",
    LegalBasis.VITAL_INTERESTS: "vital int. (d)",
    LegalBasis.PUBLIC_TASK: "public task (e)",
    LegalBasis.LEGITIMATE_INTERESTS: "legit. int. (f)",
}


@lru_cache(maxsize=4096)
def _phone(e164: str) -> str:
    return format_phone(e164)


def state_word(contact: Contact) -> str:
    words = ["RESTRICTED" if contact.is_restricted else "active"]
    if contact.hold:
        words.append("HOLD")
    return " ".join(words)


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    grow: int = 0  # share of spare width


COLUMNS = (
    Column("Name", 22, 3),
    Column("Organisation", 16, 2),
    Column("E-mail", 22, 3),
    Column("Phone", 16),
    Column("Legal basis", 15),
    Column("Retention end", 13),
    Column("State", 15),
)


def cells(contact: Contact) -> tuple[str, ...]:
    return (
        contact.name,
        contact.org,
        contact.emails[0] if contact.emails else "",
        _phone(contact.phones[0]) if contact.phones else "",
        _BASIS_SHORT[contact.basis],
        contact.retention_end.isoformat() if contact.retention_end else "open-ended",
        state_word(contact),
    )


class ContactTable(ScrollView, can_focus=True):
    """A keyboard-driven list of contacts with a cursor."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]
    COMPONENT_CLASSES = {
        "contact-table--header",
        "contact-table--cursor",
        "contact-table--restricted",
    }
    DEFAULT_CSS = """
    ContactTable { height: 1fr; }
    ContactTable > .contact-table--header { text-style: bold; background: $panel; }
    ContactTable > .contact-table--cursor { background: $accent 40%; }
    ContactTable:focus > .contact-table--cursor { background: $accent; color: $text; }
    ContactTable > .contact-table--restricted { color: $warning; text-style: italic; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class Highlighted(Message):
        """The cursor moved onto a contact (``None``: the list is empty)."""

        contact_id: str | None

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._rows: Sequence[Contact] = ()
        self._widths = [c.width for c in COLUMNS]

    # --- data --------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def rows(self) -> Sequence[Contact]:
        return self._rows

    @property
    def current(self) -> Contact | None:
        if 0 <= self.cursor < len(self._rows):
            return self._rows[self.cursor]
        return None

    def set_rows(self, rows: Sequence[Contact], *, keep: str | None = None) -> None:
        """Show ``rows``; keep the cursor on the contact ``keep`` if it is still there."""
        self._rows = rows
        self.virtual_size = Size(self._table_width(), len(rows) + 1)
        position = 0
        if keep is not None:
            # Only look near the top: a full scan would cost O(n) per keystroke.
            for index in range(min(len(rows), 2000)):
                if rows[index].id == keep:
                    position = index
                    break
        self.cursor = position
        self.refresh()

    def _table_width(self) -> int:
        return sum(self._widths) + len(self._widths)

    def on_resize(self, event: events.Resize) -> None:
        base = sum(c.width for c in COLUMNS) + len(COLUMNS)
        spare = max(0, self.size.width - base - 1)
        shares = sum(c.grow for c in COLUMNS)
        self._widths = [c.width + spare * c.grow // shares for c in COLUMNS]
        self.virtual_size = Size(self._table_width(), len(self._rows) + 1)
        self.refresh()

    # --- cursor ------------------------------------------------------------------

    def watch_cursor(self, value: int) -> None:
        clamped = max(0, min(value, len(self._rows) - 1))
        if clamped != value:
            self.cursor = clamped
            return
        self._scroll_cursor_into_view()
        self.refresh()
        current = self.current
        self.post_message(self.Highlighted(current.id if current else None))

    def _scroll_cursor_into_view(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.cursor = self.cursor + delta

    def action_page(self, direction: int) -> None:
        self.cursor = self.cursor + direction * max(1, self.scrollable_content_region.height - 2)

    def action_jump(self, where: int) -> None:
        self.cursor = len(self._rows) - 1 if where < 0 else 0

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.cursor = int(self.scroll_y) + event.y - 1

    # --- rendering -------------------------------------------------------------

    def _line(self, values: Sequence[str], style: Style) -> list[Segment]:
        segments: list[Segment] = []
        for value, width in zip(values, self._widths, strict=True):
            text = Text(printable(value), style=style, no_wrap=True, end="")
            text.truncate(width, overflow="ellipsis", pad=True)
            segments.extend(text.render(self.app.console))
            segments.append(Segment(" ", style))
        return segments

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("contact-table--header")
            segments = self._line([c.title for c in COLUMNS], style)
        else:
            index = scroll_y + y - 1
            if index >= len(self._rows):
                return Strip.blank(width, base)
            contact = self._rows[index]
            style = base
            if contact.is_restricted:
                style = style + self.get_component_rich_style("contact-table--restricted")
            if index == self.cursor:
                style = style + self.get_component_rich_style("contact-table--cursor")
            segments = self._line(cells(contact), style)
        strip = Strip(segments, self._table_width())
        return strip.crop_extend(scroll_x, scroll_x + width, base)


def days_left_text(end: date | None, today: date) -> str:
    if end is None:
        return "open-ended"
    days = (end - today).days
    return f"{days} days left" if days >= 0 else f"ended {-days} days ago"
