"""Modal screens for the owner's less frequent jobs: export (Art. 15/20), import,
the purge preview with the deletion log, data-subject requests, and sync.

Every blocking call (export, import, sync) runs in a thread worker; results and
errors come back through ``call_from_thread``.  Stored text is rendered with
``literal`` (never as markup); messages carry counts and ids, never content.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static

from tui.widgets.safe import literal
from vault.errors import VaultError
from vault.model import LegalBasis

if TYPE_CHECKING:
    from tui.app import SealbookApp
    from vault.service import Vault


class _Activity(ModalScreen[None]):
    """A modal with a title, a status line and Escape to close."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]
    TITLE_TEXT = ""

    @property
    def vault(self) -> Vault:
        vault = cast("SealbookApp", self.app).vault
        if vault is None or vault.is_locked:
            raise VaultError("the vault is locked")
        return vault

    def heading(self) -> Static:
        return Static(Text(self.TITLE_TEXT, style="bold"), classes="activity-title")

    def status(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#status", Static)
        line.update(Text(text, style="bold red" if error else ""))

    def failed(self, error: VaultError) -> None:
        self.status(str(error), error=True)

    def action_close(self) -> None:
        self.dismiss(None)

    def _name_of(self, record_id: str) -> Text:
        try:
            return literal(self.vault.get(record_id).name)
        except VaultError:
            return Text(record_id[:8])


# --- export -------------------------------------------------------------------------


class ExportScreen(_Activity):
    """Find every record of one person, confirm the set, write the answer folder."""

    TITLE_TEXT = "Export everything held about one person (Art. 15 / Art. 20 GDPR)"

    def __init__(self) -> None:
        super().__init__()
        self._ids: list[str] = []

    def compose(self) -> ComposeResult:
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield Input(placeholder="name, e-mail or phone of the person", id="export-query")
            yield DataTable(id="export-matches", cursor_type="row")
            yield Input(value=str(Path.home() / f"sealbook-export-{stamp}"), id="export-out")
            yield Select([("English", "en"), ("Deutsch", "de")], value="en", allow_blank=False, id="export-lang")
            yield Static(
                Text(
                    "The folder will hold the person's data in plain text: hand it over, then delete it.",
                    style="italic",
                )
            )
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button("Find", id="find")
                yield Button("Export", id="export", variant="primary", disabled=True)
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        table = self.query_one("#export-matches", DataTable)
        table.add_columns("Name", "E-mail", "Phone", "State")
        self.query_one("#export-query", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "export-query":
            self.find()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "find":
            self.find()
        elif event.button.id == "export":
            self.export()
        else:
            self.dismiss(None)

    def find(self) -> None:
        query = self.query_one("#export-query", Input).value.strip()
        table = self.query_one("#export-matches", DataTable)
        table.clear()
        self._ids = []
        if not query:
            self.status("Type a name, an e-mail address or a phone number.")
            return
        try:
            matches = self.vault.find_person(name=query, email=query, phone=query)
        except VaultError as error:
            self.failed(error)
            return
        for contact in matches:
            table.add_row(
                literal(contact.name),
                literal(contact.emails[0] if contact.emails else ""),
                literal(contact.phones[0] if contact.phones else ""),
                Text("restricted" if contact.is_restricted else "active"),
                key=contact.id,
            )
            self._ids.append(contact.id)
        self.query_one("#export", Button).disabled = not self._ids
        self.status(
            f"{len(self._ids)} record(s) match. Check they are all this person's, then export."
            if self._ids
            else "No record matches."
        )

    def export(self) -> None:
        out = Path(self.query_one("#export-out", Input).value.strip()).expanduser()
        lang = str(self.query_one("#export-lang", Select).value)
        self.query_one("#export", Button).disabled = True
        self.status("Exporting...")
        self._export(list(self._ids), out, lang)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _export(self, ids: list[str], out: Path, lang: str) -> None:
        try:
            result = self.vault.export_person(ids, out, lang)
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        self.app.call_from_thread(
            self.status,
            f"Exported {len(result.record_ids)} record(s) to {result.out_dir} "
            f"({', '.join(result.files)}). The folder holds plaintext personal data.",
        )


# --- import ---------------------------------------------------------------------------

_BASES = [(basis.describe(), basis.value) for basis in LegalBasis]


class ImportScreen(_Activity):
    """Import a vCard or CSV file: preview first, then one all-or-nothing transaction."""

    TITLE_TEXT = "Import contacts from a vCard or CSV file"

    def compose(self) -> ComposeResult:
        rules = [(rule.label, rule.key) for rule in self.vault.rule_list()]
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield Input(placeholder="path of the .vcf or .csv file", id="import-file")
            yield Select(_BASES, prompt="legal basis for every imported contact", id="import-basis")
            yield Select(rules, prompt="retention rule for every imported contact", id="import-rule")
            yield Input(placeholder="start date of the rule, YYYY-MM-DD (not needed for consent)", id="import-trigger")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button("Preview", id="preview")
                yield Button("Import", id="import", variant="primary", disabled=True)
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#import-file", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "preview":
            self.start(dry_run=True)
        elif event.button.id == "import":
            self.start(dry_run=False)
        else:
            self.dismiss(None)

    def _choices(self) -> tuple[Path, LegalBasis, str, date | None] | None:
        path = Path(self.query_one("#import-file", Input).value.strip()).expanduser()
        basis = self.query_one("#import-basis", Select).value
        rule = self.query_one("#import-rule", Select).value
        trigger_text = self.query_one("#import-trigger", Input).value.strip()
        if not path.name or basis is Select.BLANK or rule is Select.BLANK:
            self.status("Choose a file, a legal basis and a retention rule.", error=True)
            return None
        try:
            trigger = date.fromisoformat(trigger_text) if trigger_text else None
        except ValueError:
            self.status("The start date must be YYYY-MM-DD.", error=True)
            return None
        return path, LegalBasis(str(basis)), str(rule), trigger

    def start(self, *, dry_run: bool) -> None:
        choices = self._choices()
        if choices is None:
            return
        self.query_one("#import", Button).disabled = True
        self.status("Reading the file..." if dry_run else "Importing...")
        self._run(*choices, dry_run)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _run(self, path: Path, basis: LegalBasis, rule: str, trigger: date | None, dry_run: bool) -> None:
        try:
            report = self.vault.import_file(path, basis, rule, trigger, dry_run)
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        self.app.call_from_thread(self.reported, report, dry_run)

    def reported(self, report: Any, dry_run: bool) -> None:
        counts = f"{report.added} to add, {report.merged} to merge, {report.skipped} already there"
        errors = report.errors
        if errors:
            lines = "; ".join(f"entry {e.index} (line {e.line}): {e.message}" for e in errors[:5])
            more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
            self.status(
                f"{len(errors)} entr{'y' if len(errors) == 1 else 'ies'} cannot be imported, so nothing "
                f"will be: {lines}{more}.",
                error=True,
            )
            return
        if dry_run:
            self.status(f"Preview: {counts}. Press Import to write them in one transaction.")
            self.query_one("#import", Button).disabled = False
            return
        self.status(f"Imported: {report.added} added, {report.merged} merged, {report.skipped} skipped.")
        reload = getattr(self.app.screen_stack[-2], "reload", None)
        if callable(reload):
            reload()


# --- purge preview and deletion log -----------------------------------------------


class PurgeScreen(_Activity):
    """Records the purge reaches in the next 30 days, overdue reviews, and the deletion log."""

    TITLE_TEXT = "Purge preview: records whose retention ends within 30 days"
    BINDINGS: ClassVar[list[BindingType]] = [*_Activity.BINDINGS, Binding("h", "toggle_hold", "Hold / release")]
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
                self._name_of(item.record_id),
                item.retention_end.isoformat(),
                item.purge_from.isoformat(),
                "held" if item.hold else "",
                key=item.record_id,
            )
        reviews_table = self.query_one("#purge-reviews", DataTable)
        reviews_table.clear()
        for review in reviews:
            reviews_table.add_row(
                self._name_of(review.record_id),
                review.review_at.isoformat(),
                review.retention_end.isoformat() if review.retention_end else "open-ended",
            )
        log_table = self.query_one("#purge-log", DataTable)
        log_table.clear()
        for entry in reversed(log):
            log_table.add_row(
                entry.at.strftime("%Y-%m-%d %H:%M"), entry.action, entry.record_id or "-", literal(entry.detail)
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


# --- data-subject requests ----------------------------------------------------------


class RequestsScreen(_Activity):
    """Open requests with their Art. 12(3) deadlines; close the selected one."""

    TITLE_TEXT = "Data-subject requests (Art. 12(3): answer within one month)"
    BINDINGS: ClassVar[list[BindingType]] = [*_Activity.BINDINGS, Binding("c", "close_request", "Mark answered")]

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


# --- sync ---------------------------------------------------------------------------------


class SyncScreen(_Activity):
    """Sync state, and push/pull with a progress bar."""

    TITLE_TEXT = "Encrypted copy on webspace"
    BINDINGS: ClassVar[list[BindingType]] = [
        *_Activity.BINDINGS,
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
