"""Export everything held about one person (Art. 15/20) and import a vCard or CSV file."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Select, Static

from tui.host import VaultHost
from tui.screens.activities import Activity
from tui.widgets.safe import literal
from vault.errors import VaultError
from vault.model import LegalBasis

# --- export -------------------------------------------------------------------------


class ExportScreen(Activity):
    """Find every record of one person, confirm the set, write the answer folder."""

    TITLE_TEXT = "Export everything held about one person (Art. 15 / Art. 20 GDPR)"

    def __init__(self, host: VaultHost) -> None:
        super().__init__(host)
        self._ids: list[str] = []

    def compose(self) -> ComposeResult:
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield Input(placeholder="name, e-mail or phone of the person", id="export-query")
            yield DataTable(id="export-matches", cursor_type="row")
            yield Input(value=str(Path.home() / f"sealbook-export-{stamp}"), id="export-out")
            yield Select([("English", "en"), ("Deutsch", "de")], value="en", allow_blank=False, id="export-lang")
            yield Select(
                [("Access: everything, with the Art. 15 letter", "access"),
                 ("Portability (Art. 20): only what the person provided", "portability")],
                value="access", allow_blank=False, id="export-kind",
            )  # fmt: skip
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
        self.query_one("#export", Button).disabled = True
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
        self.query_one("#export", Button).disabled = False  # no match: the negative answer (Art. 15(1))
        self.status(
            f"{len(self._ids)} record(s) match. Check they are all this person's, then export."
            if self._ids
            else "No record matches. Export writes the negative answer: a letter saying no data is held."
        )

    def export(self) -> None:
        out = Path(self.query_one("#export-out", Input).value.strip()).expanduser()
        lang = str(self.query_one("#export-lang", Select).value)
        portability = self.query_one("#export-kind", Select).value == "portability"
        self.query_one("#export", Button).disabled = True
        self.status("Exporting...")
        self._export(list(self._ids), out, lang, portability)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _export(self, ids: list[str], out: Path, lang: str, portability: bool) -> None:
        try:
            result = self.vault.export_person(ids, out, lang, portability=portability)
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        what = "the Art. 20 export of " if portability else ""
        done = f"Wrote {what}{len(result.record_ids)} record(s)" if ids else "Wrote the negative answer"
        self.app.call_from_thread(
            self.status,
            f"{done} to {result.out_dir} ({', '.join(result.files)}). The folder holds plaintext personal data.",
        )


# --- import ---------------------------------------------------------------------------

_BASES = [(basis.describe(), basis.value) for basis in LegalBasis]


class ImportScreen(Activity):
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
