"""The parts of the contact form that are not about contacts: the line under each field
(its hint and its error, mounted only once there is something to say), reuse of the blank
form for new contacts (issue 13.2: building the widgets is most of the time ``n`` takes),
and the question before a person on the suppression list is added again."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, Self

from rich.text import Text
from textual.app import App
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from tui.screens.dialogs import Confirm
from tui.widgets.kept import discard, kept
from vault.errors import SuppressedDetail, SuppressedPerson
from vault.i18n import _, language
from vault.model import Contact, ContactDraft
from vault.service import Vault


class Save(Protocol):
    """Stores the form's draft; ``allow_suppressed`` once the owner confirmed a listed person."""

    def __call__(self, draft: ContactDraft, *, allow_suppressed: bool = False) -> Contact: ...


class FormBase(ModalScreen[Contact | None]):
    """A form screen over a vault: field messages, reuse, the suppression question.  Modal (the
    app's own keys stay out of the form) but opaque: a see-through modal redraws the list
    beneath at every refresh (a third of the time the form took to open)."""

    DEFAULT_CSS = "FormBase { background: $background; }"

    def __init__(self, vault: Vault, save: Save) -> None:
        super().__init__()
        self.vault = vault
        self._save = save
        self.errors: dict[str, str] = {}
        self._hints: dict[str, str] = {}
        self.built_for = (vault, language(), vault.config.region)  # see tui.widgets.kept

    REUSED = "blank-contact-form"  # the installed form for new contacts (see for_new)

    @classmethod
    def for_new(cls, app: App[Any], vault: Vault, save: Save) -> Self:
        """The blank form for a new contact.  It is built once per unlock and reused: building
        its widgets is most of the time ``n`` takes (issue 13.2); a used one empties itself."""
        form = kept(app, cls.REUSED, cls, (vault, language(), vault.config.region), lambda: cls(vault, save))
        form._save = save
        return form

    @classmethod
    def discard(cls, app: App[Any], popped: Iterable[Screen[object]] = ()) -> None:
        """Drop the reused blank form (lock, another vault, language or region); see tui.widgets.kept."""
        discard(app, cls.REUSED, popped)

    def _set_error(self, field_id: str, message: str | None) -> None:
        if field_id == "form":
            label = self.query_one("#form-error", Label)
            label.update(message or "")
            label.display = bool(message)
        elif (self.errors.get(field_id) or None) == (message or None):
            return
        if message:
            self.errors[field_id] = message
        else:
            self.errors.pop(field_id, None)
        if field_id != "form":
            self.query_one(f"#{field_id}").set_class(bool(message), "-error")
            self._show_message(field_id)

    def _hint(self, field_id: str, text: str) -> None:
        if self._hints.get(field_id, "") != text:
            self._hints[field_id] = text
            self._show_message(field_id)

    def _show_message(self, field_id: str) -> None:
        """The line under a field: its hint (muted) and its error (the full sentence)."""
        hint, error = self._hints.get(field_id, ""), self.errors.get(field_id, "")
        text = Text(hint, style="dim")
        if error:
            text.append(("\n" if hint else "") + error, style="bold red")
        found = self.query(f"#msg-{field_id}")
        if found:
            message = found.first(Static)
            message.update(text)
            message.display = bool(text)
        elif text:
            widget = self.query_one(f"#{field_id}")
            message = Static(text, id=f"msg-{field_id}", classes="message", markup=False)
            message.display = widget.display
            widget.parent.mount(message, after=widget)  # type: ignore[union-attr]

    def _show_field(self, field_id: str, shown: bool) -> None:
        """Show or hide a field with its label and message line."""
        for part in self.query(f"#{field_id}, #label-{field_id}, #msg-{field_id}"):
            part.display = shown

    def _ask_suppressed(self, draft: ContactDraft, error: SuppressedPerson) -> None:
        """The person withdrew consent, objected or was erased: add them again only if the owner says so."""
        body = Text()
        said = str(error)
        body.append(said[:1].upper() + said[1:] + ".\n\n", style="bold")
        editing = isinstance(error, SuppressedDetail)
        if editing:
            advice = _(
                "They must not be added back quietly (Art. 7(3), 17 and 21 GDPR). Save anyway only if you "
                "have a new legal basis, e.g. they gave consent again or a new contract."
            )
        else:
            advice = _(
                "They must not be added back quietly (Art. 7(3), 17 and 21 GDPR). Add them anyway only if you "
                "have a new legal basis, e.g. they gave consent again or a new contract."
            )
        body.append(advice)

        def answered(yes: bool | None) -> None:
            if yes:
                self._store(draft, allow_suppressed=True)
            elif editing:
                self._set_error("form", _("Not saved: a detail added belongs to a person on the suppression list."))
            else:
                self._set_error("form", _("Not added: the person is on the suppression list. Nothing was saved."))

        yes = _("Save anyway") if editing else _("Add anyway")
        self.app.push_screen(Confirm(_("Person on the suppression list"), body, yes=yes), answered)

    def _store(self, draft: ContactDraft, *, allow_suppressed: bool = False) -> None:
        raise NotImplementedError
