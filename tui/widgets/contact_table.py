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
from typing import ClassVar, overload

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.safe import printable
from tui.widgets.translated import Translated
from vault.i18n import N_, _, format_date, ngettext
from vault.model import Contact, LegalBasis, format_phone

_BASIS_SHORT = {
    LegalBasis.CONSENT: N_("(a) consent"),
    LegalBasis.CONTRACT: N_("(b) contract"),
    LegalBasis.LEGAL_OBLIGATION: N_("(c) legal ob"),
    LegalBasis.VITAL_INTERESTS: N_("(d) vital"),
    LegalBasis.PUBLIC_TASK: N_("(e) public"),
    LegalBasis.LEGITIMATE_INTERESTS: N_("(f) legit."),
}


@lru_cache(maxsize=4096)
def _phone(e164: str) -> str:
    return format_phone(e164)


def clear_caches() -> None:
    """Forget cached phone numbers (they are personal data): called when the vault locks."""
    _phone.cache_clear()  # (the sort keys' cache is vault.search's, cleared with it)


def state_word(contact: Contact) -> str:
    if contact.is_restricted:
        return _("restr.+hold") if contact.hold else _("RESTRICTED")
    return _("active+hold") if contact.hold else _("active")


@dataclass(frozen=True)
class Column:
    title: str
    width: int  # the narrowest it gets
    grow: int = 0  # share of spare width
    drop: int = 0  # on a narrow terminal, columns with a higher number go first


NAME_WIDEST = 32  # a whole name up to this width is worth hiding a column the detail pane repeats
COLUMNS = (
    Column(N_("Name"), 14, 3),
    Column(N_("Organisation"), 10, 2, drop=2),
    Column(N_("E-mail"), 16, 3),
    Column(N_("Phone"), 15, drop=1),
    Column(N_("Basis"), 12, drop=3),
    Column(N_("Retention"), 10),
    Column(N_("State"), 11),
)


def cells(contact: Contact) -> tuple[str, ...]:
    return (
        contact.name,
        contact.org,
        contact.emails[0] if contact.emails else "",
        _phone(contact.phones[0]) if contact.phones else "",
        _(_BASIS_SHORT[contact.basis]),
        format_date(contact.retention_end) if contact.retention_end else _("open"),
        state_word(contact),
    )


class Picked(Sequence[Contact]):
    """A view of ``contacts`` at ``positions``: no copy per keystroke."""

    def __init__(self, contacts: Sequence[Contact], positions: Sequence[int]) -> None:
        self._contacts = contacts
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> Contact: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Contact]: ...
    def __getitem__(self, index: int | slice) -> Contact | Sequence[Contact]:
        if isinstance(index, slice):
            return [self._contacts[p] for p in self._positions[index]]
        return self._contacts[self._positions[index]]


class ContactTable(Translated, ScrollView, can_focus=True):
    """A keyboard-driven list of contacts with a cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", N_("Up"), show=False),
        Binding("down", "cursor(1)", N_("Down"), show=False),
        Binding("pageup", "page(-1)", N_("Page up"), show=False),
        Binding("pagedown", "page(1)", N_("Page down"), show=False),
        Binding("home", "jump(0)", N_("First"), show=False),
        Binding("end", "jump(-1)", N_("Last"), show=False),
        # As in mutt, abook, khard and aerc; only while the list has the focus (never in a text field).
        Binding("j", "cursor(1)", N_("Down"), show=False),
        Binding("k", "cursor(-1)", N_("Up"), show=False),
        Binding("g", "jump(0)", N_("First"), show=False),
        Binding("G", "jump(-1)", N_("Last"), show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
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
        self._columns: tuple[Column, ...] = COLUMNS
        self._line_cache: dict[tuple[object, ...], Strip] = {}
        self._style_key: tuple[object, ...] | None = None
        self._style_set: tuple[Style, Style, Style, Style] = (Style(), Style(), Style(), Style())
        self._widths = [c.width for c in COLUMNS]
        self._longest_name = 0

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
        self._set_virtual_size(Size(self._table_width(), len(rows) + 1))
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

    def fit_names(self, longest: int) -> None:
        """Make room for names up to ``longest`` characters (the longest in the vault) when there is room."""
        if longest != self._longest_name:
            self._longest_name = longest
            self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        """Fit the columns.  On a narrow terminal the least important columns are hidden (the
        detail pane has them); then, so that names are not cut, the columns the detail pane
        repeats (basis, organisation) give way to whole names (up to NAME_WIDEST); spare width
        goes first to the names, then to the growing columns."""
        available = self.scrollable_content_region.width
        name = COLUMNS[0]
        wanted = max(name.width, min(self._longest_name, NAME_WIDEST))
        shown = list(COLUMNS)
        victims = sorted((c for c in COLUMNS if c.drop), key=lambda c: -c.drop)
        for victim in victims:
            if sum(c.width + 1 for c in shown) <= available:
                break
            shown.remove(victim)
        for victim in victims:
            if victim.drop < 2 or victim not in shown:
                continue
            if sum(c.width + 1 for c in shown) + wanted - name.width <= available:
                break
            shown.remove(victim)
        self._columns = tuple(shown)
        spare = max(0, available - sum(c.width + 1 for c in shown))
        to_names = min(spare, wanted - name.width)
        spare -= to_names
        shares = sum(c.grow for c in shown)
        self._widths = [c.width + (to_names if c is name else 0) + spare * c.grow // shares for c in shown]
        self._line_cache.clear()
        self._set_virtual_size(Size(self._table_width(), len(self._rows) + 1))
        self.refresh()

    def _set_virtual_size(self, size: Size) -> None:
        """``virtual_size = size`` without the screen layout Textual does for every change of it.

        The table's own size is fixed by its CSS (1fr), so a new row count only moves the
        scrollbar; a full layout of the screen cost a keystroke about 14 ms at 100k contacts
        (issue 15).  Where a scrollbar appears or goes, setting it (``show_*_scrollbar``, a
        layout reactive) asks for the layout still.  Textual 8.2's ``_scroll_update`` is what
        ``_size_updated`` calls for a new virtual size; tests/tui/test_table_layout.py guards it.
        """
        if size == self.virtual_size:
            return
        self.set_reactive(ContactTable.virtual_size, size)
        if self.is_mounted and self.container_size:
            self._scroll_update(size)
        else:
            self.refresh(layout=True)

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
        if len(values) != len(self._columns):
            values = [v for v, c in zip(values, COLUMNS, strict=True) if c in self._columns]
        for value, width in zip(values, self._widths, strict=True):
            text = Text(printable(value), style=style, no_wrap=True, end="")
            text.truncate(width, overflow="ellipsis", pad=True)
            segments.extend(text.render(self.app.console))
            segments.append(Segment(" ", style))
        return segments

    def _styles(self) -> tuple[Style, Style, Style, Style]:
        """(base, header, restricted, cursor) styles; computing them is costly, so
        they are kept until focus or the theme changes."""
        key = (self.has_focus, self.app.theme)
        if self._style_key != key:
            base = self.rich_style
            self._style_set = (
                base,
                base + self.get_component_rich_style("contact-table--header"),
                self.get_component_rich_style("contact-table--restricted"),
                self.get_component_rich_style("contact-table--cursor"),
            )
            self._style_key = key
            self._line_cache.clear()
        return self._style_set

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_key = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base, header, restricted, cursor = self._styles()
        if y == 0:
            title = Strip(self._line([_(c.title) for c in self._columns], header), self._table_width())
            return title.crop_extend(scroll_x, scroll_x + width, base)
        index = scroll_y + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, base)
        contact = self._rows[index]
        is_cursor = index == self.cursor
        # Rows repeat from keystroke to keystroke; render each one once.
        key = (contact.id, contact.meta_version, contact.is_restricted, contact.hold, is_cursor, tuple(self._widths))
        cached = self._line_cache.get(key)
        if cached is None:
            style = base
            if contact.is_restricted:
                style = style + restricted
            if is_cursor:
                style = style + cursor
            cached = Strip(self._line(cells(contact), style), self._table_width())
            if len(self._line_cache) > 2000:
                self._line_cache.clear()
            self._line_cache[key] = cached
        return cached.crop_extend(scroll_x, scroll_x + width, base)


def days_left_text(end: date | None, today: date) -> str:
    if end is None:
        return _("open-ended")
    days = (end - today).days
    if days >= 0:
        return ngettext("{n} day left", "{n} days left", days).format(n=days)
    return ngettext("ended {n} day ago", "ended {n} days ago", -days).format(n=-days)
