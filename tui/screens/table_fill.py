"""A DataTable filled a screenful first and the rest later (issue 15), used by the purge preview."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

Row = tuple[tuple[Text, ...], str | None]  # a table row's cells and its key


@dataclass(eq=False)  # compared by identity: a newer fill of the same table is another one
class TableFill:
    """The rows one table still has to get, added a screenful first and CHUNK per refresh after.

    Textual measures every cell added to a DataTable before the next frame (~23 ms per 100
    rows), and 1,000 due records plus 100 log rows held the preview for ~0.5 s.  Rows are made
    (names looked up, dates formatted) only as they are added.  ``cursor`` is the row the
    cursor returns to once it is there (a refill after a hold keeps the place), or -1.
    """

    table: DataTable[Any]
    items: Sequence[Any]
    row: Callable[[Any], Row]
    cursor: int = -1
    added: int = 0
    shows: tuple[object, ...] = ()  # what the rows show: the items and their names (see PurgeScreen.fill)
    chain: int = 0  # the adding that goes on (see PurgeScreen._add): a resumed fill stops an older one

    def add(self, count: int) -> bool:
        """Add up to ``count`` more rows; whether some are left."""
        start, end = self.added, min(self.added + count, len(self.items))
        for item in self.items[start:end]:
            cells, key = self.row(item)
            self.table.add_row(*cells, key=key)
        self.added = end
        if start <= self.cursor < end:
            self.table.move_cursor(row=self.cursor)
        return end < len(self.items)
