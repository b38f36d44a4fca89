"""Small modal screens: a yes/no confirmation, the erase, hold/restrict and Art. 18(3)
dialogs (the help screen is in tui/screens/help.py).

Dialogs get what they show from the screen that opens them; the ones with
input fields take a callback that applies the owner's answer, so a refusal by
the vault is shown in the dialog with everything typed intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, SelectionList, Static

from tui.screens.form_input import parse_day
from tui.widgets.safe import printable
from tui.widgets.translated import Translated
from vault.errors import VaultError
from vault.i18n import N_, _, format_date
from vault.model import Contact, EraseOutcome, EraseResult, format_phone


class Confirm(Translated, ModalScreen[bool]):
    """Ask before an action; the body explains what will happen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", N_("Lock")),  # in the footer: the app's priority binding does it
        Binding("y", "answer(True)", N_("Yes")),
        Binding("n,escape", "answer(False)", N_("No")),
    ]

    def __init__(self, title: str, body: Text | str, *, yes: str = "", danger: bool = False) -> None:
        super().__init__()
        self._title = title
        self._body = body if isinstance(body, Text) else Text(body)
        self._yes = yes or _("Yes")
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog"):
            yield Static(Text(self._title, style="bold"), id="confirm-title")
            yield Static(self._body, id="confirm-body")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} (y)", variant="error" if self._danger else "primary", id="yes")
                yield Button(_("Cancel (n)"), id="no")
        yield Footer()  # this modal's keys, over the list's footer

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


# What an erasure turned into restriction may keep (vault.policy.KEEPABLE), in the order shown.
KEEP_FIELDS = (
    ("org", N_("Organisation")),
    ("email", N_("First e-mail")),
    ("phone", N_("First phone")),
    ("source", N_("Source")),
    ("purpose", N_("Purpose")),
)


def keep_values(contact: Contact) -> dict[str, str]:
    """The value each keepable field would keep ("" when the contact has none)."""
    return {
        "org": contact.org,
        "email": contact.emails[0] if contact.emails else "",
        "phone": format_phone(contact.phones[0]) if contact.phones else "",
        "source": contact.source,
        "purpose": contact.purpose,
    }


def erase_body(name: str, preview: EraseResult) -> Text:
    """What an erasure does, and why: deleted now, or restricted under a duty, a claim or a hold."""
    body = Text()
    before, _name, after = _("Erase {name} (Art. 17 GDPR)?").partition("{name}")
    body.append(before)
    body.append(printable(name), style="bold")
    body.append(after + "\n\n")
    if preview.outcome is EraseOutcome.DELETED:
        body.append(_("The record will be deleted now"), style="bold")
        body.append(_(" and cannot be recovered: {reason}.").format(reason=preview.reason))
        return body
    body.append(_("The record cannot be deleted yet: "), style="bold")
    body.append(preview.reason + ".\n\n")
    body.append(_("It will be restricted instead: hidden from the working list and kept only for that reason"))
    if preview.purge_from:
        body.append(_(", then purged automatically from "))
        body.append(format_date(preview.purge_from), style="bold")
    else:
        body.append(_(", then erased when the hold is released"))
    body.append(_(". The notes are deleted now."))
    return body


@dataclass(frozen=True)
class EraseChoice:
    """The owner's answer to the erase dialog: what stays while restricted, and Art. 17(3)(e)."""

    keep: frozenset[str]
    claims_needed: bool


class EraseDialog(Translated, ModalScreen[EraseChoice | None]):
    """Confirm an erasure; when it restricts, choose what stays besides the name and the dates,
    and when only a legal-claims ground keeps it (Art. 17(3)(e), case by case), let the owner
    say the record is not needed for claims in this case."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", N_("Lock")),  # in the footer: the app's priority binding does it
        Binding("y", "answer(True)", N_("Erase")),
        Binding("n,escape", "answer(False)", N_("Cancel")),
    ]

    DEFAULT_CSS = """
    EraseDialog { align: center middle; }
    EraseDialog #erase { width: 76; max-width: 100%; height: auto; max-height: 100%; }
    EraseDialog #erase-scroll { height: auto; max-height: 60vh; }
    EraseDialog #erase-body { margin: 1 0 0 0; }
    EraseDialog #keep-label { margin-top: 1; text-style: bold; }
    EraseDialog #keep { height: auto; }
    EraseDialog #claims { margin-top: 1; width: 100%; }
    """

    def __init__(
        self,
        contact: Contact,
        preview: EraseResult,
        without_claims: EraseResult | None,
        default_keep: frozenset[str],
    ) -> None:
        """``without_claims``: the preview with ``claims_needed=False`` when it differs (a
        legal-claims ground keeps the record), else None."""
        super().__init__()
        self._contact_name = contact.name
        self._preview = preview
        self._without_claims = without_claims
        values = keep_values(contact)
        self._options = [(key, label, values[key]) for key, label in KEEP_FIELDS if values[key]]
        self._default_keep = default_keep

    def compose(self) -> ComposeResult:
        with Vertical(id="erase", classes="dialog"):
            yield Static(Text(_("Erase contact"), style="bold"), id="erase-title")
            with VerticalScroll(id="erase-scroll", can_focus=False):
                yield Static(erase_body(self._contact_name, self._preview), id="erase-body")
                yield Label(_("Keep besides the name, the dates and the rules:"), id="keep-label")
                yield SelectionList[str](
                    *(
                        (Text(f"{_(label)}: {printable(value)}", overflow="ellipsis"), key, key in self._default_keep)
                        for key, label, value in self._options
                    ),
                    id="keep",
                )
                if self._without_claims is not None:
                    erase_now = self._without_claims.outcome is EraseOutcome.DELETED
                    yield Checkbox(
                        _("Not needed for legal claims in this case: ")
                        + (_("erase now") if erase_now else _("keep only for the statutory duty")),
                        id="claims",
                    )
            with Horizontal(classes="buttons"):
                yield Button(_("Erase (y)"), variant="error", id="yes")
                yield Button(_("Cancel (n)"), id="no")
        yield Footer()

    def on_mount(self) -> None:
        self._show()
        self.query_one("#no", Button).focus()
        # Focusing "Cancel" below the list scrolls to it; the explanation comes first.
        self.call_after_refresh(self.query_one("#erase-scroll").scroll_home, animate=False)

    @property
    def claims_needed(self) -> bool:
        return not (self._without_claims is not None and self.query_one("#claims", Checkbox).value)

    @property
    def outcome(self) -> EraseResult:
        """What the erasure does with the answers given so far."""
        return self._preview if self.claims_needed or self._without_claims is None else self._without_claims

    def _show(self) -> None:
        outcome = self.outcome
        self.query_one("#erase-body", Static).update(erase_body(self._contact_name, outcome))
        restricts = outcome.outcome is EraseOutcome.RESTRICTED and bool(self._options)
        self.query_one("#keep-label").display = restricts
        self.query_one("#keep").display = restricts

    @on(Checkbox.Changed, "#claims")
    def _claims_changed(self) -> None:
        self._show()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        if not answer:
            self.dismiss(None)
            return
        keep = frozenset(self.query_one("#keep", SelectionList).selected)
        self.dismiss(EraseChoice(keep=frozenset(str(k) for k in keep), claims_needed=self.claims_needed))


class AskDialog(Translated, ModalScreen[bool]):
    """A dialog with input fields: Enter in a field or ctrl+s applies, Escape cancels; ``y``/``n``
    answer only while no text field has the focus (a field takes the letters)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", N_("Lock")),  # in the footer: the app's priority binding does it
        Binding("ctrl+s", "ok", N_("Apply"), priority=True),
        Binding("escape,n", "cancel", N_("Cancel")),
        Binding("y", "ok", N_("Apply"), show=False),
    ]

    DEFAULT_CSS = """
    AskDialog { align: center middle; }
    AskDialog .ask { width: 72; max-width: 100%; height: auto; max-height: 100%; }
    AskDialog .ask-scroll { height: auto; max-height: 60vh; }
    AskDialog .ask-body { margin: 1 0; }
    AskDialog .ask-label { text-style: bold; }
    AskDialog .ask-error { color: $error; text-style: bold; width: 100%; }
    AskDialog Checkbox { width: 100%; }
    AskDialog .field { height: auto; }
    """

    def error(self, message: str | None) -> None:
        label = self.query_one("#ask-error", Label)
        label.update(message or "")
        label.display = bool(message)

    def action_ok(self) -> None:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_ok()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_ok()
        else:
            self.action_cancel()


Restrict = Callable[[str, date | None], object]


class RestrictionDialog(AskDialog):
    """Put a legal hold (with its reason) or a restriction on a record, and record whether the
    person asked for it (Art. 18(1)): ``apply(reason, requested)`` does it; True when done."""

    def __init__(
        self, title: str, body: str, *, today: date, apply: Restrict, ask_reason: bool, yes: str, articles: str
    ) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._today = today
        self._apply = apply
        self._ask_reason = ask_reason
        self._yes = yes
        self._articles = articles

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog ask"):
            yield Static(Text(self._title, style="bold"))
            with VerticalScroll(classes="ask-scroll", can_focus=False):
                yield Static(Text(self._body), classes="ask-body")
                if self._ask_reason:
                    yield Label(_("Reason (e.g. tax audit 2025, a legal claim)"), classes="ask-label")
                    yield Input(id="reason", placeholder=_("why the record must be kept"))
                yield Checkbox(
                    _("The person asked for it ({articles})").format(articles=self._articles), id="requested"
                )
                with Vertical(id="requested-on-field", classes="field"):
                    yield Label(_("The day they asked"), classes="ask-label")
                    yield Input(format_date(self._today), placeholder=_("YYYY-MM-DD"), id="requested-on")
            yield Label("", id="ask-error", classes="ask-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} ({'enter' if self._ask_reason else 'y'})", variant="primary", id="ok")
                yield Button(_("Cancel (esc)"), id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.error(None)
        self.query_one("#requested-on-field").display = False
        self.query_one("#reason" if self._ask_reason else "#requested").focus()

    @on(Checkbox.Changed, "#requested")
    def _requested_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#requested-on-field").display = event.value

    def action_ok(self) -> None:
        reason = self.query_one("#reason", Input).value if self._ask_reason else ""
        requested = None
        if self.query_one("#requested", Checkbox).value:
            try:
                requested = parse_day(self.query_one("#requested-on", Input).value, N_("asked on"), today=self._today)
            except ValueError as error:
                self.error(str(error))
                self.query_one("#requested-on", Input).focus()
                return
        try:
            self._apply(reason, requested)
        except VaultError as error:
            self.error(str(error))
            return
        self.dismiss(True)


def hold_dialog(today: date, apply: Restrict, *, who: str = "") -> RestrictionDialog:
    """A legal hold with its reason; restricts too when the person asked for it (Art. 18(1)(b)/(c)).
    ``who``: the contact's name, shown in the title so the owner sees whose record is held."""
    return RestrictionDialog(
        _("Put {name} on legal hold").format(name=printable(who)) if who else _("Put on legal hold"),
        _(
            "The purge will keep this record even after its retention ends, until the hold is released "
            "(e.g. an open tax audit, §147(3) AO, or a legal claim). If the person asked for it, it is "
            "also restricted (Art. 18(1)(b)/(c) GDPR)."
        ),
        today=today,
        apply=apply,
        ask_reason=True,
        yes=_("Hold"),
        articles=_("Art. 18(1)(b)/(c) GDPR"),
    )


def restrict_dialog(today: date, apply: Restrict) -> RestrictionDialog:
    """Restriction of processing, perhaps at the person's request (Art. 18(1)(a)/(d))."""
    return RestrictionDialog(
        _("Restrict processing (Art. 18 GDPR)"),
        _(
            "The record is kept but hidden from the working list and must not be used, only stored, until "
            "the restriction is lifted. The retention schedule is unchanged."
        ),
        today=today,
        apply=apply,
        ask_reason=False,
        yes=_("Restrict"),
        articles=_("Art. 18(1)(a)/(d) GDPR"),
    )


def stays_restricted(contact: Contact) -> str:
    """Why lifting this record's restriction is not the way (empty when it is)."""
    if contact.erasure_requested is not None:
        return _("An erasure was requested on {date}: the record stays restricted until its duty or hold ends.").format(
            date=format_date(contact.erasure_requested)
        )
    if contact.hold and contact.restriction_requested is not None:
        return _("The person's restriction is a legal hold: release the hold (h) to lift it.")
    return ""


def release_body(contact: Contact) -> str:
    """What releasing the hold does: the purge may delete it, or a waiting erasure completes now."""
    if contact.erasure_requested is not None:
        return _(
            "An erasure was requested on {date}: unless a retention "
            "duty still applies, releasing the hold erases the record now."
        ).format(date=format_date(contact.erasure_requested))
    return _("The purge will delete the record once its retention has ended.")


def ask_hold_or_release(
    app: App[object],
    contact: Contact,
    today: date,
    *,
    hold: Restrict,
    held: Callable[[bool | None], None],
    release: Callable[[date | None], object],
) -> None:
    """Ask before putting ``contact`` on hold (with its reason) or releasing it, naming the contact.

    ``hold(reason, requested)`` applies a hold inside its dialog; ``held`` hears whether it did.
    ``release(informed)`` runs once the owner confirmed a release (a restriction the person asked
    for needs the day they were informed, Art. 18(3)); it may complete a waiting erasure, so the
    caller runs it in a worker.
    """
    who = printable(contact.name)
    if not contact.hold:
        app.push_screen(hold_dialog(today, hold, who=contact.name), held)
        return
    if contact.restriction_requested is not None:
        # Art. 18(3): the day the person was told comes first; the release runs when given.
        def informed_then_release(informed: date) -> None:
            release(informed)

        app.push_screen(
            InformedDialog(
                _("Release the legal hold on {name}").format(name=who),
                requested=contact.restriction_requested,
                today=today,
                apply=informed_then_release,
                yes=_("Release"),
            )
        )
        return

    def answered(yes: bool | None) -> None:
        if yes:
            release(None)

    body = Text()
    if contact.hold_reason:
        body.append(_("Held because: "))
        body.append(printable(contact.hold_reason), style="bold")
        body.append("\n\n")
    body.append(release_body(contact))
    app.push_screen(Confirm(_("Release the legal hold on {name}?").format(name=who), body, yes=_("Release")), answered)


class InformedDialog(AskDialog):
    """Art. 18(3): before a restriction the person asked for is lifted, they are told; the day
    they were told is required.  Dismisses True after ``apply(informed)`` succeeded."""

    def __init__(self, title: str, *, requested: date, today: date, apply: Callable[[date], object], yes: str) -> None:
        super().__init__()
        self._title = title
        self._requested = requested
        self._today = today
        self._apply = apply
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog ask"):
            yield Static(Text(self._title, style="bold"))
            with VerticalScroll(classes="ask-scroll", can_focus=False):
                yield Static(
                    Text(
                        _(
                            "The person asked for this restriction on {date}. "
                            "Before it is lifted they must be informed (Art. 18(3) GDPR): tell them first, "
                            "then give the day you did. Without it nothing is lifted."
                        ).format(date=format_date(self._requested))
                    ),
                    classes="ask-body",
                )
                yield Label(_("The day the person was informed"), classes="ask-label")
                yield Input(format_date(self._today), placeholder=_("YYYY-MM-DD"), id="informed")
            yield Label("", id="ask-error", classes="ask-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} (enter)", variant="primary", id="ok")
                yield Button(_("Cancel (esc)"), id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.error(None)
        self.query_one("#informed", Input).focus()

    def action_ok(self) -> None:
        field = self.query_one("#informed", Input)
        try:
            informed = parse_day(field.value, N_("informed on"), today=self._today, earliest=self._requested)
        except ValueError as error:
            self.error(str(error))
            field.focus()
            return
        try:
            self._apply(informed)
        except VaultError as error:
            self.error(str(error))
            return
        self.dismiss(True)
