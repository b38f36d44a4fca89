"""The add / edit form: a modal that saves only a valid contact.

Each field is checked as it changes (with the same functions the vault uses,
so the form cannot accept what the vault would refuse); the save callback
runs only when every message is clear, and a VaultError it raises is shown
next to its field.  Escape cancels without saving.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from vault.errors import InvalidInput, VaultError
from vault.model import Contact, ContactDraft, LegalBasis, format_phone, normalise_email, normalise_phone
from vault.retention import purge_from
from vault.service import Vault

Save = Callable[[ContactDraft], Contact]


def split_values(raw: str) -> list[str]:
    """Several e-mails or phones in one field, separated by commas or semicolons."""
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


def parse_date(raw: str, what: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(what, "use the form YYYY-MM-DD, e.g. 2025-03-10") from None


class ContactForm(ModalScreen[Contact | None]):
    """Add a contact (``contact`` None) or edit one; dismisses with the saved contact."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    # field id -> the name vault.errors.InvalidInput uses for it
    _ERROR_FIELDS: ClassVar[dict[str, str]] = {
        "name": "name",
        "e-mail": "emails",
        "phone": "phones",
        "trigger": "trigger",
        "consent": "consent_given",
        "organisation": "org",
        "notes": "notes",
        "source": "source",
        "purpose": "purpose",
        "basis": "basis",
        "contact": "emails",
    }

    def __init__(self, vault: Vault, save: Save, contact: Contact | None = None) -> None:
        super().__init__()
        self.vault = vault
        self._save = save
        self.contact = contact
        self.errors: dict[str, str] = {}

    # --- layout ------------------------------------------------------------------

    def _field(self, label: str, widget: Widget, field_id: str, hint: str = "") -> ComposeResult:
        with Vertical(classes="field", id=f"field-{field_id}"):
            yield Label(label, classes="field-label")
            yield widget
            yield Label(hint, id=f"hint-{field_id}", classes="hint", markup=False)
            yield Label("", id=f"error-{field_id}", classes="error", markup=False)

    def compose(self) -> ComposeResult:
        c = self.contact
        draft = c.to_draft() if c else None
        rules = self.vault.rule_list()
        rule_key = draft.rule if draft else rules[0].key
        if rule_key not in {r.key for r in rules}:
            rule_key = rules[0].key
        basis = draft.basis if draft else LegalBasis.CONTRACT
        with Vertical(id="form", classes="dialog"):
            yield Static(Text("Edit contact" if c else "New contact", style="bold"), id="form-title")
            with VerticalScroll(id="form-body"):
                yield from self._field("Name *", Input(draft.name if draft else "", id="name"), "name")
                yield from self._field("Organisation", Input(draft.org if draft else "", id="org"), "org")
                yield from self._field(
                    "E-mail addresses (separate several with commas)",
                    Input(", ".join(draft.emails) if draft else "", id="emails"),
                    "emails",
                )
                yield from self._field(
                    f"Phone numbers (separate with commas; default country {self.vault.config.region})",
                    Input(", ".join(format_phone(p) for p in draft.phones) if draft else "", id="phones"),
                    "phones",
                )
                yield from self._field(
                    "Legal basis (Art. 6(1) GDPR)",
                    Select([(Text(b.describe()), b) for b in LegalBasis], value=basis, allow_blank=False, id="basis"),
                    "basis",
                )
                yield from self._field(
                    "Retention rule",
                    Select([(Text(r.label), r.key) for r in rules], value=rule_key, allow_blank=False, id="rule"),
                    "rule",
                )
                trigger = draft.trigger.isoformat() if draft and draft.trigger else ""
                yield from self._field(
                    "Trigger date", Input(trigger, placeholder="YYYY-MM-DD", id="trigger"), "trigger"
                )
                with Vertical(id="consent-fields"):
                    given = draft.consent_given.isoformat() if draft and draft.consent_given else ""
                    withdrawn = draft.consent_withdrawn.isoformat() if draft and draft.consent_withdrawn else ""
                    yield from self._field(
                        "Consent given on", Input(given, placeholder="YYYY-MM-DD", id="consent_given"), "consent_given"
                    )
                    yield from self._field(
                        "Consent withdrawn on",
                        Input(withdrawn, placeholder="YYYY-MM-DD", id="consent_withdrawn"),
                        "consent_withdrawn",
                    )
                yield from self._field(
                    "Source (where the data came from, Art. 14)",
                    Input(draft.source if draft else "", id="source"),
                    "source",
                )
                yield from self._field("Purpose", Input(draft.purpose if draft else "", id="purpose"), "purpose")
                yield from self._field(
                    "Notes", TextArea(draft.notes if draft else "", id="notes", soft_wrap=True), "notes"
                )
            yield Label("", id="form-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()  # this modal's keys, over the list's footer

    def on_mount(self) -> None:
        for label in self.query(".error, .hint"):
            label.display = False
        self._update_rule()
        self._update_consent()
        self._check_emails()
        self._check_phones()
        self.query_one("#name", Input).focus()

    # --- live checks -----------------------------------------------------------

    def _set_error(self, field_id: str, message: str | None) -> None:
        label = self.query_one("#form-error" if field_id == "form" else f"#error-{field_id}", Label)
        if message:
            self.errors[field_id] = message
            label.update(message)
            label.display = True
        else:
            self.errors.pop(field_id, None)
            label.update("")
            label.display = False

    def _hint(self, field_id: str, text: str) -> None:
        label = self.query_one(f"#hint-{field_id}", Label)
        label.update(text)
        label.display = bool(text)

    @on(Input.Changed, "#name")
    def _check_name(self) -> None:
        self._set_error("name", None if self.query_one("#name", Input).value.strip() else "name: must not be empty")

    @on(Input.Changed, "#emails")
    def _check_emails(self) -> None:
        found, problem = [], None
        for value in split_values(self.query_one("#emails", Input).value):
            try:
                found.append(normalise_email(value))
            except InvalidInput as error:
                problem = problem or str(error)
        self._hint("emails", " · ".join(found))
        self._set_error("emails", problem)

    @on(Input.Changed, "#phones")
    def _check_phones(self) -> None:
        found, problem = [], None
        for value in split_values(self.query_one("#phones", Input).value):
            try:
                found.append(format_phone(normalise_phone(value, self.vault.config.region)))
            except InvalidInput as error:
                problem = problem or str(error)
        self._hint("phones", " · ".join(found))
        self._set_error("phones", problem)

    @on(Select.Changed, "#basis")
    def _update_consent(self) -> None:
        is_consent = self.query_one("#basis", Select).value is LegalBasis.CONSENT
        self.query_one("#consent-fields").display = is_consent
        self._check_consent()

    @on(Input.Changed, "#consent_given")
    @on(Input.Changed, "#consent_withdrawn")
    def _check_consent(self) -> None:
        for field_id, what in (("consent_given", "consent given"), ("consent_withdrawn", "consent withdrawn")):
            try:
                parse_date(self.query_one(f"#{field_id}", Input).value, what)
            except InvalidInput as error:
                self._set_error(field_id, str(error))
            else:
                self._set_error(field_id, None)

    @on(Select.Changed, "#rule")
    @on(Input.Changed, "#trigger")
    def _update_rule(self) -> None:
        """Recompute the retention end as the rule or trigger date changes."""
        key = str(self.query_one("#rule", Select).value)
        rule = self.vault.rules.get(key)
        trigger_label = self.query_one("#field-trigger .field-label", Label)
        trigger_label.update(rule.trigger_label.capitalize() + ("" if rule.until_withdrawn else " *"))
        try:
            trigger = parse_date(self.query_one("#trigger", Input).value, "trigger")
        except InvalidInput as error:
            self._set_error("trigger", str(error))
            self._hint("rule", f"{rule.reference}")
            return
        self._set_error("trigger", None)
        end, review = self.vault.compute_dates(key, trigger)
        if rule.until_withdrawn:
            preview = "Kept until consent is withdrawn"
            if review:
                preview += f"; review on {review.isoformat()}"
        elif end is None:
            preview = f"Retention end: enter the {rule.trigger_label}"
        else:
            preview = f"Retention end: {end.isoformat()} · purge from {purge_from(end)}"
            if rule.obliges:
                preview += " · a statutory duty: kept even after an erasure request"
        self._hint("rule", f"{preview}\n{rule.reference}")

    # --- saving ------------------------------------------------------------------

    def draft(self) -> ContactDraft:
        """The form's content as a draft (raises InvalidInput for unparseable dates)."""
        basis = self.query_one("#basis", Select).value
        assert isinstance(basis, LegalBasis)
        consent = basis is LegalBasis.CONSENT
        return ContactDraft(
            name=self.query_one("#name", Input).value,
            basis=basis,
            rule=str(self.query_one("#rule", Select).value),
            trigger=parse_date(self.query_one("#trigger", Input).value, "trigger"),
            emails=tuple(split_values(self.query_one("#emails", Input).value)),
            phones=tuple(split_values(self.query_one("#phones", Input).value)),
            org=self.query_one("#org", Input).value,
            notes=self.query_one("#notes", TextArea).text,
            source=self.query_one("#source", Input).value,
            purpose=self.query_one("#purpose", Input).value,
            consent_given=parse_date(self.query_one("#consent_given", Input).value, "consent given")
            if consent
            else None,
            consent_withdrawn=parse_date(self.query_one("#consent_withdrawn", Input).value, "consent withdrawn")
            if consent
            else None,
            uid=self.contact.uid if self.contact else "",
        )

    def action_save(self) -> None:
        self._check_name()
        self._check_emails()
        self._check_phones()
        self._update_rule()
        self._update_consent()
        self._set_error("form", None)
        if self.errors:
            self._set_error("form", "Please correct the marked fields; nothing was saved.")
            self._focus_first_error()
            return
        try:
            saved = self._save(self.draft())
        except InvalidInput as error:
            field_id = self._ERROR_FIELDS.get(error.field.split()[0], "form")
            self._set_error(field_id, str(error))
            if field_id != "form":
                self._set_error("form", "Please correct the marked fields; nothing was saved.")
            self._focus_first_error()
            return
        except VaultError as error:
            self._set_error("form", str(error))
            return
        self.dismiss(saved)

    def _focus_first_error(self) -> None:
        for field_id in (
            "name",
            "emails",
            "phones",
            "trigger",
            "consent_given",
            "consent_withdrawn",
            "org",
            "source",
            "purpose",
            "notes",
        ):
            if field_id in self.errors:
                self.query_one(f"#{field_id}").focus()
                return

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
