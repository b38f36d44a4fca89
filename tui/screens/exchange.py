"""Export everything held about one person (Art. 15/20) and import a vCard or CSV file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static

from tui.host import VaultHost
from tui.screens.activities import Activity
from tui.widgets.safe import literal
from vault.errors import VaultError
from vault.model import LegalBasis

if TYPE_CHECKING:  # the importers load only when a file is imported
    from vault.importers import ImportEntry, ImportReport

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


@dataclass(frozen=True)
class _Batch:
    """What the owner chose for every contact of the file."""

    path: Path
    basis: LegalBasis
    rule: str
    trigger: date | None
    consent_given: date | None
    consent_method: str
    include_suppressed: bool


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


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
            yield Input(
                placeholder="basis consent: the day these people gave consent, YYYY-MM-DD (required)",
                id="import-consent-given",
            )
            yield Input(
                placeholder="basis consent: how they gave it, e.g. web form, e-mail, in person (required)",
                id="import-consent-method",
            )
            yield Checkbox(
                "Also import people on the suppression list (only if they agreed again)",
                id="import-include-suppressed",
            )
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

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#import", Button).disabled = True  # a changed batch needs a new preview

    def on_select_changed(self, event: Select.Changed) -> None:
        self.query_one("#import", Button).disabled = True

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#import", Button).disabled = True

    def _text(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _choices(self) -> _Batch | None:
        path = Path(self._text("#import-file")).expanduser()
        basis = self.query_one("#import-basis", Select).value
        rule = self.query_one("#import-rule", Select).value
        if not path.name or basis is Select.BLANK or rule is Select.BLANK:
            self.status("Choose a file, a legal basis and a retention rule.", error=True)
            return None
        try:
            trigger = _day(self._text("#import-trigger"))
            consent_given = _day(self._text("#import-consent-given"))
        except ValueError:
            self.status("Dates must be YYYY-MM-DD.", error=True)
            return None
        return _Batch(
            path,
            LegalBasis(str(basis)),
            str(rule),
            trigger,
            consent_given,
            self._text("#import-consent-method"),
            self.query_one("#import-include-suppressed", Checkbox).value,
        )

    def start(self, *, dry_run: bool) -> None:
        choices = self._choices()
        if choices is None:
            return
        self.query_one("#import", Button).disabled = True
        self.status("Reading the file..." if dry_run else "Importing...")
        self._run(choices, dry_run)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _run(self, batch: _Batch, dry_run: bool) -> None:
        try:
            report = self.vault.import_file(
                batch.path,
                batch.basis,
                batch.rule,
                batch.trigger,
                dry_run,
                consent_given=batch.consent_given,
                consent_method=batch.consent_method,
                include_suppressed=batch.include_suppressed,
            )
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        self.app.call_from_thread(self.reported, report, dry_run)

    def reported(self, report: ImportReport, dry_run: bool) -> None:
        added = f" ({report.rules_added} with the rule added)" if report.rules_added else ""
        counts = f"{report.added} to add, {report.merged} to merge{added}, {report.skipped} already there"
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
        listed = _listed(report.suppressed)
        if dry_run:
            self.status(f"Preview: {counts}. Press Import to write them in one transaction.{listed}")
            self.query_one("#import", Button).disabled = False
            return
        self.status(f"Imported: {report.added} added, {report.merged} merged{added}, {report.skipped} skipped.{listed}")
        reload = getattr(self.app.screen_stack[-2], "reload", None)
        if callable(reload):
            reload()


def _listed(entries: tuple[ImportEntry, ...]) -> str:
    """The preview's own section for people on the suppression list: entry, name, reason and day."""
    if not entries:
        return ""
    shown = "; ".join(
        f"entry {e.index} (line {e.line}) {e.name}: {e.message.removeprefix('on the suppression list: ')}"
        for e in entries[:5]
    )
    more = f"; and {len(entries) - 5} more" if len(entries) > 5 else ""
    return (
        f"\nOn the suppression list, left out ({len(entries)}); they withdrew consent, objected or were erased. "
        f"Tick the box above only if they agreed again: {shown}{more}."
    )
