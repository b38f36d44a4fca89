"""The purge preview: what the purge reaches in the next 30 days, overdue reviews, the deletion log."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label, Static

from tui.screens.activities import Activity
from tui.widgets.safe import literal
from vault.errors import VaultError


class PurgeScreen(Activity):
    """Records the purge reaches in the next 30 days, overdue reviews, and the deletion log."""

    TITLE_TEXT = "Purge preview: records whose retention ends within 30 days"
    BINDINGS: ClassVar[list[BindingType]] = [*Activity.BINDINGS, Binding("h", "toggle_hold", "Hold / release")]
    LOGGED = ("purged", "erased", "withdrawn", "restricted", "exported", "imported")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield DataTable(id="purge-due", cursor_type="row")
            yield Label(Text("Review dates that have passed (never deleted automatically)", style="bold"))
            yield DataTable(id="purge-reviews", cursor_type="row")
            yield Label(Text("Deletion log (Art. 5(2)): record ids only", style="bold"))
            yield DataTable(id="purge-log", cursor_type="row")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button("Hold / release (h)", id="hold")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#purge-due", DataTable).add_columns("Name", "Retention end", "Purged from", "Hold")
        self.query_one("#purge-reviews", DataTable).add_columns("Name", "Review date", "Retention end")
        self.query_one("#purge-log", DataTable).add_columns("When (UTC)", "Action", "Record id", "Detail")
        self.fill()
        self.query_one("#purge-due", DataTable).focus()

    def fill(self) -> None:
        try:
            due = self.vault.purge_preview(30)
            reviews = self.vault.overdue_reviews()
            log = [e for e in self.vault.audit_log() if e.action in self.LOGGED][-200:]
        except VaultError as error:
            self.failed(error)
            return
        table = self.query_one("#purge-due", DataTable)
        table.clear()
        for item in due:
            table.add_row(
                self.name_of(item.record_id),
                item.retention_end.isoformat(),
                item.purge_from.isoformat(),
                "held" if item.hold else "",
                key=item.record_id,
            )
        reviews_table = self.query_one("#purge-reviews", DataTable)
        reviews_table.clear()
        for review in reviews:
            reviews_table.add_row(
                self.name_of(review.record_id),
                review.review_at.isoformat(),
                review.retention_end.isoformat() if review.retention_end else "open-ended",
            )
        log_table = self.query_one("#purge-log", DataTable)
        log_table.clear()
        for entry in reversed(log):
            log_table.add_row(
                entry.at.strftime("%Y-%m-%d %H:%M"),
                literal(entry.action),
                literal(entry.record_id or "-"),
                literal(entry.detail),
            )
        self.status(
            f"{len(due)} record(s) due within 30 days; {len(reviews)} review(s) overdue. "
            "Hold a record to keep it past its end; edit it to change the rule or trigger date."
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "hold":
            self.action_toggle_hold()
        else:
            self.dismiss(None)

    def action_toggle_hold(self) -> None:
        table = self.query_one("#purge-due", DataTable)
        if table.row_count == 0:
            return
        record_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        try:
            contact = self.vault.get(record_id)
            (self.vault.release if contact.hold else self.vault.hold)(record_id)
        except VaultError as error:
            self.failed(error)
            return
        self.fill()
