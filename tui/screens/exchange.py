"""Export everything held about one person (Art. 15/20) and import a vCard or CSV file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static

from tui.host import VaultHost
from tui.screens.activities import Activity
from tui.screens.dialogs import Confirm
from tui.screens.form_input import read_day
from tui.widgets.safe import literal
from tui.widgets.translated import shown
from vault.config import Config
from vault.errors import VaultError
from vault.i18n import N_, _, language, ngettext
from vault.model import Contact, LegalBasis, format_phone

if TYPE_CHECKING:  # the importers load only when a file is imported
    from vault.importers import ImportEntry, ImportReport

# --- export -------------------------------------------------------------------------


LANGUAGES = (("English", "en"), ("Deutsch", "de"))


def letter_language(config: Config) -> str:
    """The configured language of the answer letter (``letter_language`` in the config file), else the
    language the app speaks."""
    configured = getattr(config, "letter_language", "") or config.extra.get("letter_language", "")
    return configured if configured in {code for _, code in LANGUAGES} else language()


def missing_controller(config: Config) -> list[str]:
    """What the letter needs about the controller (Art. 15(1), 13(1)(a)) and the config lacks."""
    wanted = ((N_("name"), config.controller_name), (N_("address"), config.controller_address))
    return [what for what, value in wanted if not value.strip()]


class ExportScreen(Activity):
    """Find every record of one person, confirm the set, write the answer folder."""

    TITLE_TEXT = N_("Export everything held about one person (Art. 15 / Art. 20 GDPR)")
    BINDINGS: ClassVar[list[BindingType]] = [
        *Activity.BINDINGS,
        Binding("ctrl+s", "export", N_("Export"), priority=True),
    ]

    def __init__(self, host: VaultHost, selected: Contact | None = None) -> None:
        """``selected``: the contact selected in the list; its name fills the search and is looked up."""
        super().__init__(host)
        self._ids: list[str] = []
        self._query = selected.name if selected is not None else ""

    def compose(self) -> ComposeResult:
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        lang = letter_language(self.vault.config)
        with Vertical(classes="dialog activity"):
            yield self.heading()
            # One line per field (compact), so the dialog with its result fits 80x24.
            with Horizontal(classes="row"):
                yield Label(_("Person") + " ", classes="row-label")
                yield Input(self._query, placeholder=_("name, e-mail or phone"), id="export-query", compact=True)
            yield DataTable(id="export-matches", cursor_type="row")
            with Horizontal(classes="row"):
                yield Label(_("Folder") + " ", classes="row-label")
                yield Input(value=str(Path.home() / f"sealbook-export-{stamp}"), id="export-out", compact=True)
            with Horizontal(classes="row"):
                yield Label(_("Letter") + " ", classes="row-label")
                yield Select(LANGUAGES, value=lang, allow_blank=False, id="export-lang", compact=True)
                yield Select(
                    [(_("Access: everything, with the Art. 15 letter"), "access"),
                     (_("Portability (Art. 20): what the person provided"), "portability")],
                    value="access", allow_blank=False, id="export-kind", compact=True,
                )  # fmt: skip
            yield Static(
                Text(
                    _("The folder holds the person's data in plain text: hand it over, then delete it."), style="italic"
                )
            )
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button(_("Find (enter)"), id="find", compact=True)
                yield Button(_("Export (ctrl+s)"), id="export", variant="primary", disabled=True, compact=True)
                yield Button(_("Close (esc)"), id="close", compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#export-matches", DataTable)
        table.add_columns(_("Name"), _("E-mail"), _("Phone"), _("State"))
        self.query_one("#export-query", Input).focus()
        if self._query:
            self.find()  # the selected contact's records are listed at once

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

    def action_export(self) -> None:
        if not self.query_one("#export", Button).disabled:  # enabled once a search ran
            self.export()

    def find(self) -> None:
        query = self.query_one("#export-query", Input).value.strip()
        table = self.query_one("#export-matches", DataTable)
        table.clear()
        self._ids = []
        self.query_one("#export", Button).disabled = True
        if not query:
            self.status(_("Type a name, an e-mail address or a phone number."))
            return
        try:
            vault = self.vault
            matches = vault.find_person(name=query, email=query, phone=query)
            # The list's search too: it finds parts of names ("anna müller" -> "Anna Müller-Lüdenscheidt")
            # and ignores word order; the owner checks the set before exporting.
            found = {contact.id for contact in matches}
            matches += [c for c in vault.search(query, include_restricted=True) if c.id not in found]
        except VaultError as error:
            self.failed(error)
            return
        for contact in matches:
            table.add_row(
                literal(contact.name),
                literal(contact.emails[0] if contact.emails else ""),
                literal(format_phone(contact.phones[0]) if contact.phones else ""),
                Text(_("restricted") if contact.is_restricted else _("active")),
                key=contact.id,
            )
            self._ids.append(contact.id)
        self.query_one("#export", Button).disabled = False  # no match: the negative answer (Art. 15(1))
        self.status(
            _("{n} record(s) match. Check they are all this person's, then export.").format(n=len(self._ids))
            if self._ids
            else _("No record matches. Export writes the negative answer: a letter saying no data is held.")
        )

    def export(self) -> None:
        missing = missing_controller(self.vault.config)
        if not missing:
            self._start_export()
            return
        gap = (_("The controller's name and address are not configured.") if len(missing) > 1
               else _("The controller's {what} is not configured.").format(what=_(missing[0])))  # fmt: skip
        body = (
            gap
            + " "
            + _(
                "The answer must say who is responsible for the data (Art. 15(1), 13(1)(a) GDPR); without it the "
                'letter says "not configured" where the name and address belong.\n\n'
                "Set them in the [controller] table of the config file (name, address, email, "
                "supervisory_authority), or export anyway and complete the letter by hand."
            )
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._start_export()
            else:
                self.status(_("Nothing was exported. Configure the controller, then export again."))

        self.app.push_screen(Confirm(_("No controller configured"), body, yes=_("Export anyway")), answered)

    def _start_export(self) -> None:
        out = Path(self.query_one("#export-out", Input).value.strip()).expanduser()
        lang = str(self.query_one("#export-lang", Select).value)
        portability = self.query_one("#export-kind", Select).value == "portability"
        self.query_one("#export", Button).disabled = True
        self.status(_("Exporting..."))
        self._export(list(self._ids), out, lang, portability)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _export(self, ids: list[str], out: Path, lang: str, portability: bool) -> None:
        try:
            result = self.vault.export_person(ids, out, lang, portability=portability)
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        count = len(result.record_ids)
        if not ids:
            done = _("Wrote the negative answer")
        elif portability:
            done = _("Wrote the Art. 20 export of {n} record(s)").format(n=count)
        else:
            done = _("Wrote {n} record(s)").format(n=count)
        text = _("{done} to {folder} ({files}). The folder holds plaintext personal data.")
        self.app.call_from_thread(
            self.status, text.format(done=done, folder=result.out_dir, files=", ".join(result.files))
        )


# --- import ---------------------------------------------------------------------------


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
    return read_day(text) if text else None


class ImportScreen(Activity):
    """Import a vCard or CSV file, or a folder of .vcf files (khard, vdirsyncer): preview first, then one
    all-or-nothing transaction, or, when the preview found entries that cannot be imported, the rest
    without them (``--skip-invalid``)."""

    TITLE_TEXT = N_("Import contacts from a vCard or CSV file, or a folder of .vcf files")
    BINDINGS: ClassVar[list[BindingType]] = [
        *Activity.BINDINGS,
        Binding("ctrl+s", "run_import", N_("Import"), priority=True),
        Binding("ctrl+r", "import_rest", N_("Import the rest"), priority=True),
    ]

    def compose(self) -> ComposeResult:
        rules = [(shown(rule.label), rule.key) for rule in self.vault.rule_list()]
        with Vertical(classes="dialog activity"):
            yield self.heading()
            # One line per field (compact), so the form, the problem list and the result fit 80x24.
            with Horizontal(classes="row tight"):
                yield Label(_("File").ljust(8), classes="row-label")
                yield Input(placeholder=_("a .vcf or .csv file, or a folder of .vcf files"), id="import-file",
                            compact=True)  # fmt: skip
            with Horizontal(classes="row tight"):
                yield Label(_("Basis").ljust(8), classes="row-label")
                yield Select(
                    [(b.describe(language()), b.value) for b in LegalBasis],
                    prompt=_("legal basis for every contact"),
                    id="import-basis",
                    compact=True,
                )
            with Horizontal(classes="row tight"):
                yield Label(_("Rule").ljust(8), classes="row-label")
                yield Select(rules, prompt=_("retention rule for every contact"), id="import-rule", compact=True)
            with Horizontal(classes="row tight"):
                yield Label(_("Start").ljust(8), classes="row-label")
                yield Input(placeholder=_("start date of the rule, YYYY-MM-DD (not for consent)"), id="import-trigger",
                            compact=True)  # fmt: skip
            with Horizontal(classes="row tight", id="import-consent-row"):
                yield Label(_("Consent").ljust(8), classes="row-label")
                yield Input(placeholder=_("given on YYYY-MM-DD"), id="import-consent-given", compact=True)
                yield Input(placeholder=_("how: web form, e-mail, in person"), id="import-consent-method", compact=True)
            yield Checkbox(
                _("Also import people on the suppression list (only if they agreed again)"),
                id="import-include-suppressed",
                compact=True,
            )
            yield DataTable(id="import-problems", cursor_type="row")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button(_("Preview (enter)"), id="preview", compact=True)
                yield Button(_("Import (ctrl+s)"), id="import", variant="primary", disabled=True, compact=True)
                yield Button(_("Import rest (ctrl+r)"), id="import-rest", disabled=True, compact=True)
                yield Button(_("Close (esc)"), id="close", compact=True)

    def on_mount(self) -> None:
        problems = self.query_one("#import-problems", DataTable)
        problems.add_columns(_("Entry"), _("Line"), _("Why it cannot be imported"))
        problems.display = False
        self.query_one("#import-consent-row").display = False
        self.query_one("#import-file", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "preview":
            self.start(dry_run=True)
        elif event.button.id == "import":
            self.action_run_import()
        elif event.button.id == "import-rest":
            self.action_import_rest()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.start(dry_run=True)

    def action_run_import(self) -> None:
        if not self.query_one("#import", Button).disabled:  # only after a clean preview of this batch
            self.start(dry_run=False)

    def action_import_rest(self) -> None:
        if not self.query_one("#import-rest", Button).disabled:  # only after a preview that found problems
            self.start(dry_run=False, skip_invalid=True)

    def _changed(self) -> None:
        # A changed batch needs a new preview.
        self.query_one("#import", Button).disabled = True
        self.query_one("#import-rest", Button).disabled = True

    def on_input_changed(self, event: Input.Changed) -> None:
        self._changed()

    def on_select_changed(self, event: Select.Changed) -> None:
        self._changed()
        if event.select.id == "import-basis":
            self.query_one("#import-consent-row").display = event.value == LegalBasis.CONSENT.value

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._changed()

    def _text(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _choices(self) -> _Batch | None:
        path = Path(self._text("#import-file")).expanduser()
        basis = self.query_one("#import-basis", Select).value
        rule = self.query_one("#import-rule", Select).value
        if not path.name or basis is Select.BLANK or rule is Select.BLANK:
            self.status(_("Choose a file, a legal basis and a retention rule."), error=True)
            return None
        try:
            trigger = _day(self._text("#import-trigger"))
            consent_given = _day(self._text("#import-consent-given"))
        except (ValueError, TypeError):
            self.status(_("Dates must be YYYY-MM-DD."), error=True)
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

    def start(self, *, dry_run: bool, skip_invalid: bool = False) -> None:
        choices = self._choices()
        if choices is None:
            return
        self._changed()
        self.status(_("Reading the file...") if dry_run else _("Importing..."))
        self._run(choices, dry_run, skip_invalid)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _run(self, batch: _Batch, dry_run: bool, skip_invalid: bool) -> None:
        try:
            report = self.vault.import_file(
                batch.path,
                batch.basis,
                batch.rule,
                batch.trigger,
                dry_run,
                skip_invalid=skip_invalid,
                consent_given=batch.consent_given,
                consent_method=batch.consent_method,
                include_suppressed=batch.include_suppressed,
            )
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        self.app.call_from_thread(self.reported, report, dry_run)

    def _show_problems(self, errors: tuple[ImportEntry, ...], folder: bool = False) -> None:
        """Every entry that cannot be imported, in a list that scrolls (never only the first few);
        from a folder, each with the file it comes from, file by file."""
        table = self.query_one("#import-problems", DataTable)
        table.clear(columns=True)
        if folder:
            table.add_column(_("File"))
        table.add_columns(_("Entry"), _("Line"), _("Why it cannot be imported"))
        for entry in errors:
            why = literal(entry.message.removeprefix(_("{file}: {problem}").format(file=entry.file, problem="")))
            table.add_row(*([literal(entry.file)] if folder else []), str(entry.index), str(entry.line), why)
        table.display = bool(errors)

    def reported(self, report: ImportReport, dry_run: bool) -> None:
        added = " " + _("({n} with the rule added)").format(n=report.rules_added) if report.rules_added else ""
        counts = _("{added} to add, {merged} to merge{rules}, {skipped} already there").format(
            added=report.added, merged=report.merged, rules=added, skipped=report.skipped
        )
        errors = report.errors
        self._show_problems(errors, report.folder)
        listed = _listed(report.suppressed)
        problems = ngettext("{n} entry", "{n} entries", len(errors)).format(n=len(errors))
        if dry_run and errors:
            rest = report.added + report.merged
            offer = (
                _("ctrl+r imports the rest ({counts}) and leaves these out.").format(counts=counts)
                if rest
                else _("No other entry would be imported.")
            )
            text = (
                _("{problems} cannot be imported (listed above), so the folder as a whole will not be.")
                if report.folder
                else _("{problems} cannot be imported (listed above), so the file as a whole will not be.")
            )
            self.status(text.format(problems=problems) + " " + offer, error=True)
            self.query_one("#import-rest", Button).disabled = not rest
            return
        if dry_run:
            self.status(_("Preview: {counts}. ctrl+s writes them in one transaction.").format(counts=counts) + listed)
            self.query_one("#import", Button).disabled = False
            return
        left_out = " " + _("{problems} left out (listed above).").format(problems=problems) if errors else ""
        done = _("Imported: {added} added, {merged} merged{rules}, {skipped} skipped.").format(
            added=report.added, merged=report.merged, rules=added, skipped=report.skipped
        )
        self.status(done + left_out + listed)
        reload = getattr(self.app.screen_stack[-2], "reload", None)
        if callable(reload):
            reload()


def _listed(entries: tuple[ImportEntry, ...]) -> str:
    """The preview's own section for people on the suppression list: entry, name, reason and day."""
    if not entries:
        return ""
    shown = "; ".join(
        _("entry {index} (line {line}) {name}: {why}").format(
            index=e.index, line=e.line, name=e.name, why=e.message.removeprefix(_("on the suppression list: "))
        )
        for e in entries[:5]
    )
    more = "; " + _("and {n} more").format(n=len(entries) - 5) if len(entries) > 5 else ""
    return "\n" + _(
        "On the suppression list, left out ({n}); they withdrew consent, objected or were erased. "
        "Tick the box above only if they agreed again: {shown}{more}."
    ).format(n=len(entries), shown=shown, more=more)
