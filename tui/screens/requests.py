"""Data-subject requests and their Art. 12(3) deadlines."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Static

from tui.screens.activities import Activity
from vault.errors import VaultError


class RequestsScreen(Activity):
    """Open requests with their Art. 12(3) deadlines; close the selected one."""

    TITLE_TEXT = "Data-subject requests (Art. 12(3): answer within one month)"
    BINDINGS: ClassVar[list[BindingType]] = [*Activity.BINDINGS, Binding("c", "close_request", "Mark answered")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield DataTable(id="requests", cursor_type="row")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button("Mark answered (c)", id="answered")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#requests", DataTable).add_columns("Type", "Received", "Deadline", "Days left", "Records")
        self.fill()
        self.query_one("#requests", DataTable).focus()

    def fill(self) -> None:
        table = self.query_one("#requests", DataTable)
        table.clear()
        try:
            requests = self.vault.list_requests()
        except VaultError as error:
            self.failed(error)
            return
        today = self.vault.today()
        overdue = 0
        for request in requests:
            left = request.days_left(today)
            overdue += left < 0
            table.add_row(
                f"{request.type.value} ({request.type.article})",
                request.received.isoformat(),
                request.deadline.isoformat(),
                Text(f"{left}" if left >= 0 else f"OVERDUE by {-left}", style="" if left >= 0 else "bold red"),
                str(len(request.record_ids)),
                key=request.id,
            )
        self.status(
            f"{len(requests)} open request(s), {overdue} overdue. Open new ones with `sealbook request open`."
            if requests
            else "No open requests. Record one with `sealbook request open TYPE [IDS]`."
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "answered":
            self.action_close_request()
        else:
            self.dismiss(None)

    def action_close_request(self) -> None:
        table = self.query_one("#requests", DataTable)
        if table.row_count == 0:
            return
        request_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        try:
            self.vault.close_request(request_id)
        except VaultError as error:
            self.failed(error)
            return
        self.fill()
