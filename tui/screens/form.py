"""The add / edit form: a modal that saves only a valid contact.

Each field is checked as it changes (with the same functions the vault uses,
so the form cannot accept what the vault would refuse); the save callback
runs only when every message is clear, and a VaultError it raises is shown
next to its field.  A person on the suppression list (they withdrew consent,
objected or were erased) is added only after the owner confirms it.  Escape
cancels, after asking when something was typed; a busy vault (another process
writing) keeps the form open with everything in it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from tui.screens.form_base import FormBase, Save
from tui.screens.form_input import (
    BUSY,
    CONSENT_RULE_HINT,
    CORRECT,
    ERROR_FIELDS,
    FIELD_ORDER,
    METHOD_MISSING,
    METHOD_REFUSED,
    fixed_rules,
    parse_date,
    parse_duties,
    split_values,
)
from tui.widgets.kept import resume_styles
from tui.widgets.translated import Translated, first_upper, shown
from tui.widgets.unsaved import confirm_cancel, field_values
from vault.errors import InvalidInput, SuppressedPerson, VaultBusy, VaultError
from vault.i18n import N_, _, format_date, language
from vault.model import Contact, ContactDraft, LegalBasis, format_phone, normalise_email, normalise_phone
from vault.retention import purge_from
from vault.service import Vault


class ContactForm(Translated, FormBase):
    """Add a contact (``contact`` None) or edit one; dismisses with the saved contact."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", N_("Lock")),  # in the footer: the app's priority binding does it
        Binding("ctrl+s", "save", N_("Save"), priority=True),
        Binding("escape", "cancel", N_("Cancel")),
    ]
    # Every focus change restyles the whole form: Textual's default would first focus the
    # scrolling body, then on_mount the name field.  The name field gets it once, in on_mount.
    AUTO_FOCUS = ""

    DEFAULT_CSS = """
    ContactForm #form { max-width: 100%; max-height: 100%; }
    ContactForm #consent-fields, ContactForm #consent-row { height: auto; }
    ContactForm #column-consent_given { width: 30; height: auto; margin-right: 2; }
    ContactForm #column-consent_method { width: 1fr; height: auto; }
    ContactForm #consent-explain { color: $text-muted; }
    """

    def __init__(self, vault: Vault, save: Save, contact: Contact | None = None) -> None:
        super().__init__(vault, save)
        self.contact = contact
        self._consent_required = False  # set once a save found the consent fields empty
        self._initial: tuple[object, ...] | None = None  # the fields as opened (see has_changes)
        self._basis_shown: object = None  # the basis last seen, to tell the owner's change from the first value

    # --- layout ------------------------------------------------------------------

    def _field(self, label: str, widget: Widget, field_id: str) -> ComposeResult:
        """One field: its label is the widget's border title (a Select gets a label line); the
        line with its hint and error is mounted only once there is something to say (see
        _show_message): every widget the form composes costs time when ``n`` opens it."""
        if isinstance(widget, Select):
            yield Label(label, classes="field-label", id=f"label-{field_id}")
        else:
            widget.border_title = label
        yield widget

    def compose(self) -> ComposeResult:
        c = self.contact
        draft = c.to_draft() if c else None
        rules = self.vault.rule_list()
        rule_key = draft.rule if draft else rules[0].key
        if rule_key not in {r.key for r in rules}:
            rule_key = rules[0].key
        basis = draft.basis if draft else LegalBasis.CONTRACT
        self._basis_shown = basis
        with Vertical(id="form", classes="dialog"):
            yield Static(Text(_("Edit contact") if c else _("New contact"), style="bold"), id="form-title")
            with VerticalScroll(id="form-body"):
                yield from self._field(_("Name *"), Input(draft.name if draft else "", id="name"), "name")
                yield from self._field(_("Organisation"), Input(draft.org if draft else "", id="org"), "org")
                yield from self._field(
                    _("E-mail addresses (separate several with commas)"),
                    Input(", ".join(draft.emails) if draft else "", id="emails"),
                    "emails",
                )
                yield from self._field(
                    _("Phone numbers (separate with commas; default country {region})").format(
                        region=self.vault.config.region
                    ),
                    Input(", ".join(format_phone(p) for p in draft.phones) if draft else "", id="phones"),
                    "phones",
                )
                bases = [(Text(b.describe(language())), b) for b in LegalBasis]
                basis_select = Select(bases, value=basis, allow_blank=False, id="basis")
                yield from self._field(_("Legal basis (Art. 6(1) GDPR)"), basis_select, "basis")
                # The evidence of a consent follows its basis; never filled in for the owner.
                with Vertical(id="consent-fields"):
                    yield Label(_(CONSENT_RULE_HINT), id="consent-explain", markup=False)
                    with Horizontal(id="consent-row"):
                        given = format_date(draft.consent_given) if draft else ""
                        with Vertical(id="column-consent_given"):
                            yield from self._field(
                                _("Consent given on *"),
                                Input(given, placeholder=_("YYYY-MM-DD"), id="consent_given"),
                                "consent_given",
                            )
                        with Vertical(id="column-consent_method"):
                            yield from self._field(
                                _("How consent was given *"),
                                Input(
                                    draft.consent_method if draft else "",
                                    placeholder=_("web form, e-mail, in person, ..."),
                                    id="consent_method",
                                ),
                                "consent_method",
                            )
                    withdrawn = format_date(draft.consent_withdrawn) if draft else ""
                    yield from self._field(
                        _("Consent withdrawn on"),
                        Input(withdrawn, placeholder=_("YYYY-MM-DD"), id="consent_withdrawn"),
                        "consent_withdrawn",
                    )
                labels = [(Text(shown(r.label)), r.key) for r in rules]
                rule_select = Select(labels, value=rule_key, allow_blank=False, id="rule")
                yield from self._field(_("Retention rule"), rule_select, "rule")
                trigger = format_date(draft.trigger) if draft else ""
                trigger_input = Input(trigger, placeholder=_("YYYY-MM-DD"), id="trigger")
                yield from self._field(_("Trigger date"), trigger_input, "trigger")
                duties = ", ".join(f"{d.rule}:{d.trigger.isoformat()}" for d in draft.duties) if draft else ""
                yield from self._field(
                    _("Further duties (rule:YYYY-MM-DD, separate several with commas)"),
                    Input(duties, placeholder=_("e.g. limitation-3y:2026-12-31"), id="duties"),
                    "duties",
                )
                yield from self._field(
                    _("Source (where the data came from, Art. 14)"),
                    Input(draft.source if draft else "", id="source"),
                    "source",
                )
                yield from self._field(_("Purpose"), Input(draft.purpose if draft else "", id="purpose"), "purpose")
                notes = TextArea(draft.notes if draft else "", id="notes", soft_wrap=True)
                yield from self._field(_("Notes"), notes, "notes")
            yield Label("", id="form-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Save (ctrl+s)"), variant="primary", id="save")
                yield Button(_("Cancel (esc)"), id="cancel")
        yield Footer()  # this modal's keys, over the list's footer

    def on_mount(self) -> None:
        # A lock or quit in the moment the blank form is built ahead (tui.app) removes it before
        # its Mount arrives: its widgets are gone (detached, or being pruned: then `display` is
        # False), there is nothing to check.  At the app's end Textual prunes it attached and displayed.
        if not (self.is_attached and self.display) or not self.query("#rule"):
            return
        self._checked()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # The reused blank form shown again by `n` is not restyled unless the app's CSS changed
        # meanwhile (tui.widgets.kept): restyling its ~40 widgets was a good part of `n`.
        if self.contact is None:
            resume_styles(self, event)

    def _checked(self) -> None:
        """Run every live check; what the fields hold now is "unchanged" (see has_changes)."""
        self._update_rule()
        self._update_consent()
        self._check_emails()
        self._check_phones()
        self._check_duties()
        self._initial = self._values()
        # At once, not via the app's queue (as .focus() does): keys typed right after `n` wait only
        # for the mount (tui.keyorder.KeyOrder), and must find the name field focused.
        self.set_focus(self.query_one("#name", Input), scroll_visible=False)

    def _values(self) -> tuple[object, ...]:
        return field_values(self)

    @property
    def has_changes(self) -> bool:
        """Whether anything differs from the form as it was opened (unsaved work)."""
        return self._initial is not None and self._values() != self._initial

    def describe(self) -> str:
        """Which form this is, without its content: "new contact" or "edit of <id prefix>"."""
        return _("edit of {id}").format(id=self.contact.id[:8]) if self.contact else _("new contact")

    def dismiss(self, result: Contact | None = None) -> AwaitComplete:
        if self.contact is None and self.app.is_screen_installed(self.REUSED):
            self.app.call_later(self._empty)  # the reused form forgets what was typed, off screen
        return super().dismiss(result)

    def _empty(self) -> None:
        """Back to a blank form (the reused form for new contacts, after it was dismissed)."""
        with self.prevent(Input.Changed, Select.Changed, TextArea.Changed):
            for field in self.query(Input):
                field.value = ""
            self.query_one("#notes", TextArea).text = ""
            self.query_one("#basis", Select).value = self._basis_shown = LegalBasis.CONTRACT
            self.query_one("#rule", Select).value = self.vault.rule_list()[0].key
        self._consent_required = False
        for field_id in list(self.errors):
            self._set_error(field_id, None)
        self._checked()
        self.query_one("#form-body", VerticalScroll).scroll_home(animate=False)
        self.set_focus(self.query_one("#name", Input), scroll_visible=False)

    # --- live checks -----------------------------------------------------------

    @property
    def _is_consent(self) -> bool:
        return self.query_one("#basis", Select).value is LegalBasis.CONSENT

    @on(Input.Changed, "#name")
    def _check_name(self) -> None:
        self._set_error(
            "name",
            None if self.query_one("#name", Input).value.strip() else str(InvalidInput("name", _("must not be empty"))),
        )

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
    def _basis_changed(self, event: Select.Changed) -> None:
        """Choosing the basis consent preselects the consent rule (kept until withdrawn)."""
        if event.value == self._basis_shown:
            return  # the value the form opened with, not the owner's choice
        self._basis_shown = event.value
        rule = self.query_one("#rule", Select)
        if event.value is LegalBasis.CONSENT and not self.vault.rules.get(str(rule.value)).until_withdrawn:
            consent_rules = [r.key for r in self.vault.rule_list() if r.until_withdrawn]
            if consent_rules:
                rule.value = consent_rules[0]

    @on(Select.Changed, "#basis")
    def _update_consent(self) -> None:
        self.query_one("#consent-fields").display = self._is_consent
        self._check_consent()
        self._update_rule()

    @on(Input.Changed, "#consent_given")
    @on(Input.Changed, "#consent_method")
    @on(Input.Changed, "#consent_withdrawn")
    def _check_consent(self) -> None:
        """Dates must parse and not lie ahead; with the basis consent the day and the way it was
        given are required (Art. 7(1)), shown once a save found them missing."""
        consent = self._is_consent
        today = self.vault.today()
        for field_id, what in (("consent_given", "consent given"), ("consent_withdrawn", "consent withdrawn")):
            message = None
            if consent:
                try:
                    day = parse_date(self.query_one(f"#{field_id}", Input).value, what)
                except InvalidInput as error:
                    message = str(error)
                else:
                    if day is not None and day > today:
                        message = str(InvalidInput(what, _("lies in the future")))
                    elif day is None and field_id == "consent_given" and self._consent_required:
                        message = str(InvalidInput(what, _("required with the basis consent (Art. 7(1) GDPR)")))
            self._set_error(field_id, message)
        self._hint("consent_withdrawn", self._withdrawal_note() if consent else "")
        missing_method = (
            consent and self._consent_required and not self.query_one("#consent_method", Input).value.strip()
        )
        self._set_error(
            "consent_method",
            str(InvalidInput("consent method", _(METHOD_MISSING))) if missing_method else None,
        )

    def _withdrawal_note(self) -> str:
        """What saving a newly withdrawn consent does (vault.rights, Art. 7(3))."""
        if self.contact is not None and self.contact.consent_withdrawn is not None:
            return ""
        if not self.query_one("#consent_withdrawn", Input).value.strip():
            return ""
        return _(
            "Takes effect when saved (Art. 7(3) GDPR): the record is restricted and reduced to a proof "
            "of the consent, or to what a running retention duty needs."
        )

    @property
    def _trigger_is_consent_date(self) -> bool:
        """Consent kept until withdrawn starts on the day consent was given: asked once, above."""
        return self._is_consent and self.vault.rules.get(str(self.query_one("#rule", Select).value)).until_withdrawn

    @on(Select.Changed, "#rule")
    @on(Input.Changed, "#trigger")
    @on(Input.Changed, "#consent_given")
    def _update_rule(self) -> None:
        """Recompute the retention end as the rule or trigger date changes."""
        key = str(self.query_one("#rule", Select).value)
        rule = self.vault.rules.get(key)
        trigger_input = self.query_one("#trigger", Input)
        trigger_input.border_title = first_upper(shown(rule.trigger_label)) + ("" if rule.until_withdrawn else " *")
        once = self._trigger_is_consent_date
        self._show_field("trigger", not once)
        try:
            trigger = parse_date(self.query_one("#consent_given" if once else "#trigger", Input).value, "trigger")
        except InvalidInput as error:
            # With the trigger asked once, a bad consent date is shown at the consent date field.
            self._set_error("trigger", None if once else str(error))
            self._hint("rule", shown(rule.reference))
            return
        self._set_error("trigger", None)
        end, review = self.vault.compute_dates(key, trigger)
        if rule.until_withdrawn:
            preview = _("Kept until consent is withdrawn")
            if review:
                preview += _("; review on {date}").format(date=format_date(review))
        elif end is None:
            preview = _("Retention end: enter the {trigger}").format(trigger=shown(rule.trigger_label))
        else:
            preview = _("Retention end: {end} · purge from {purge}").format(
                end=format_date(end), purge=format_date(purge_from(end))
            )
            if rule.obliges:
                preview += _(" · a statutory duty: kept even after an erasure request")
        self._hint("rule", f"{preview}\n{shown(rule.reference)}")

    @on(Input.Changed, "#duties")
    def _check_duties(self) -> None:
        """Each further (rule, date) pair with the end it keeps the record until."""
        try:
            duties = parse_duties(self.query_one("#duties", Input).value, self.vault.rules)
        except InvalidInput as error:
            self._set_error("duties", str(error))
            self._hint("duties", "")
            return
        self._set_error("duties", None)
        if not duties:
            self._hint(
                "duties", _("Fixed-period rules: {rules}").format(rules=", ".join(fixed_rules(self.vault.rule_list())))
            )
            return
        ends = []
        for duty in duties:
            end = self.vault.compute_dates(duty.rule, duty.trigger)[0]
            ends.append(_("{rule} until {date}").format(rule=duty.rule, date=format_date(end) if end else "-"))
        self._hint("duties", " · ".join(ends) + "\n" + _("The record is kept until the latest end."))

    # --- saving ------------------------------------------------------------------

    def draft(self) -> ContactDraft:
        """The form's content as a draft (raises InvalidInput for unparseable dates or duties)."""
        basis = self.query_one("#basis", Select).value
        assert isinstance(basis, LegalBasis)
        consent = basis is LegalBasis.CONSENT
        return ContactDraft(
            name=self.query_one("#name", Input).value,
            basis=basis,
            rule=str(self.query_one("#rule", Select).value),
            # With consent kept until withdrawn the vault takes the day consent was given.
            trigger=None
            if self._trigger_is_consent_date
            else parse_date(self.query_one("#trigger", Input).value, "trigger"),
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
            consent_method=self.query_one("#consent_method", Input).value if consent else "",
            duties=parse_duties(self.query_one("#duties", Input).value, self.vault.rules),
            uid=self.contact.uid if self.contact else "",
        )

    def action_save(self) -> None:
        self._check_name()
        self._check_emails()
        self._check_phones()
        self._update_rule()
        self._consent_required = True
        self._update_consent()
        self._check_duties()
        self._set_error("form", None)
        if self.errors:
            self._set_error("form", _(CORRECT))
            self._focus_first_error()
            return
        try:
            draft = self.draft()
        except InvalidInput as error:
            self._show_invalid(error)
            return
        self._store(draft)

    def _store(self, draft: ContactDraft, *, allow_suppressed: bool = False) -> None:
        try:
            saved = self._save(draft, allow_suppressed=allow_suppressed)
        except InvalidInput as error:
            self._show_invalid(error)
            return
        except SuppressedPerson as error:
            self._ask_suppressed(draft, error)
            return
        except VaultBusy:
            self._set_error("form", _(BUSY))
            return
        except VaultError as error:
            self._set_error("form", str(error))
            return
        self.dismiss(saved)

    def _show_invalid(self, error: InvalidInput) -> None:
        field_id = ERROR_FIELDS.get(error.field) or ERROR_FIELDS.get(error.field.split()[0], "form")
        if field_id == "consent_given" and error.message in (METHOD_REFUSED, _(METHOD_REFUSED)):
            field_id = "consent_method"
        self._set_error(field_id, str(error))
        if field_id != "form":
            self._set_error("form", _(CORRECT))
        self._focus_first_error()

    def _focus_first_error(self) -> None:
        for field_id in FIELD_ORDER:
            if field_id in self.errors:
                self.query_one(f"#{field_id}").focus()  # scrolls it, its label and its message into view
                return

    def action_cancel(self) -> None:
        confirm_cancel(
            self,
            changed=self.has_changes,
            body=_("What you typed in this form has not been saved. y discards it, n returns to the form."),
        )

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
