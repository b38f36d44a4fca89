"""Sync state, and push and pull with a progress bar."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ProgressBar, Static

from tui.screens.activities import Activity
from vault.errors import VaultError


class SyncScreen(Activity):
    """Sync state, and push/pull with a progress bar."""

    TITLE_TEXT = "Encrypted copy on webspace"
    BINDINGS: ClassVar[list[BindingType]] = [
        *Activity.BINDINGS,
        Binding("u", "push", "Push"),
        Binding("l", "pull", "Pull"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield Static("", id="sync-state")
            yield ProgressBar(total=100, show_eta=False, id="sync-progress")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button("Push (u)", id="push", variant="primary")
                yield Button("Pull (l)", id="pull")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.show_state()

    def show_state(self) -> None:
        try:
            state = self.vault.sync_status()
        except VaultError as error:
            self.failed(error)
            return
        if not state.configured:
            text = "Sync is not set up. Run `sealbook sync setup URL` (a folder, Nextcloud/WebDAV or SFTP)."
        else:
            text = (
                f"Target: {state.target}\nLast push: {state.last_push or 'never'}   "
                f"Last pull: {state.last_pull or 'never'}\nCounter: {state.counter}   "
                f"Changes not pushed yet: {state.pending}   Last blob: {state.blob_bytes:,} bytes"
            )
        self.query_one("#sync-state", Static).update(Text(text))
        for button in ("#push", "#pull"):
            self.query_one(button, Button).disabled = not state.configured

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "push":
            self.action_push()
        elif event.button.id == "pull":
            self.action_pull()
        else:
            self.dismiss(None)

    def action_push(self) -> None:
        self.status("Pushing...")
        self._sync("push")

    def action_pull(self) -> None:
        self.status("Pulling...")
        self._sync("pull")

    def progress(self, stage: str, done: int, total: int) -> None:
        bar = self.query_one("#sync-progress", ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        self.status(f"{stage}: {done:,} of {total:,}")

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _sync(self, direction: str) -> None:
        def report(stage: str, done: int, total: int) -> None:
            self.app.call_from_thread(self.progress, stage, done, total)

        try:
            operation = self.vault.sync_push if direction == "push" else self.vault.sync_pull
            result = operation(progress=report)
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        summary = (
            f"{result.action}: counter {result.counter}, {result.added} added, {result.updated} updated, "
            f"{result.deleted} deleted"
        )
        if result.conflicts:
            summary += f"; {len(result.conflicts)} record(s) changed on both devices: {', '.join(result.conflicts)}"
        if result.rejected:
            summary += f"; {len(result.rejected)} remote item(s) rejected (did not authenticate)"
        self.app.call_from_thread(self.status, summary + ".")
        self.app.call_from_thread(self.show_state)
