"""Data-subject requests and their Art. 12(3) deadlines: open, extend and close them.

The dialogs apply the owner's answer through the vault themselves, so a refusal
(an extension after the first month, a closing day before receipt) is shown in
the dialog with everything typed intact.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Label, Select, Static

from tui.host import VaultHost
from tui.screens.activities import Activity
from tui.screens.dialogs import AskDialog
from tui.screens.form_input import parse_day
from tui.widgets.safe import printable
from vault.errors import VaultError
from vault.i18n import N_, _, format_date, ngettext
from vault.model import Contact, RequestType

if TYPE_CHECKING:
    from vault.requests import DataRequest
    from vault.service import Vault

# What the person asked for, as the list and the messages name it.
KINDS = {
    RequestType.ACCESS: N_("access"),
    RequestType.ERASURE: N_("erasure"),
    RequestType.RECTIFICATION: N_("rectification"),
    RequestType.OBJECTION: N_("objection"),
    RequestType.PORTABILITY: N_("portability"),
}


def _kind(kind: RequestType) -> str:
    return _(KINDS[kind])


def _days(n: int) -> str:
    return ngettext("{n} day", "{n} days", n).format(n=n)


class RequestsScreen(Activity):
    """Open requests with their Art. 12(3) deadlines; open, extend and close them."""

    TITLE_TEXT = N_("Data-subject requests (Art. 12(3): answer within one month)")
    BINDINGS: ClassVar[list[BindingType]] = [
        *Activity.BINDINGS,
        Binding("o", "open_request", N_("Open a request")),
        Binding("e", "extend_request", N_("Extend")),
        Binding("c", "close_request", N_("Mark answered")),
    ]

    def __init__(self, host: VaultHost, selected: Contact | None = None) -> None:
        """``selected``: the contact selected in the list, offered as the one a new request concerns."""
        super().__init__(host)
        self._selected = selected

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield DataTable(id="requests", cursor_type="row")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button(_("Open (o)"), id="open", variant="primary")
                yield Button(_("Extend (e)"), id="extend")
                yield Button(_("Answered (c)"), id="answered")
                yield Button(_("Close (esc)"), id="close")

    def on_mount(self) -> None:
        self.query_one("#requests", DataTable).add_columns(
            _("Type"), _("Received"), _("Deadline"), _("Days left"), _("Records"), _("Extended")
        )
        self.fill()
        self.query_one("#requests", DataTable).focus()

    def fill(self, *, select: str | None = None) -> None:
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
                _kind(request.type),
                format_date(request.received),
                format_date(request.deadline),
                Text(
                    f"{left}" if left >= 0 else _("OVERDUE by {n}").format(n=-left),
                    style="" if left >= 0 else "bold red",
                ),
                str(len(request.record_ids)),
                format_date(request.informed),  # the day the person was told
                key=request.id,
            )
        if select is not None:
            for index, request in enumerate(requests):
                if request.id == select:
                    table.move_cursor(row=index)
        self.status(
            _(
                "{n} open request(s), {overdue} overdue. o opens a new one, e extends the selected "
                "one by two months, c marks it answered."
            ).format(n=len(requests), overdue=overdue)
            if requests
            else _("No open requests. o records one that came in (the deadline is one month after receipt).")
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions: dict[str | None, Callable[[], None]] = {
            "open": self.action_open_request,
            "extend": self.action_extend_request,
            "answered": self.action_close_request,
        }
        actions.get(event.button.id, lambda: self.dismiss(None))()

    def _current(self) -> str | None:
        table = self.query_one("#requests", DataTable)
        if table.row_count == 0:
            self.status(_("No request selected: o opens one."))
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _applied(
        self, message: Callable[[], str], request_id: Callable[[], str | None]
    ) -> Callable[[bool | None], None]:
        def done(ok: bool | None) -> None:
            if ok:
                self.fill(select=request_id())
                self.status(message())

        return done

    def action_open_request(self) -> None:
        try:
            vault = self.vault
        except VaultError as error:
            self.failed(error)
            return
        dialog = OpenRequestDialog(vault, self._selected)
        self.app.push_screen(dialog, self._applied(dialog.summary, lambda: dialog.opened_id))

    def _request_here(self) -> tuple[Vault, str, DataRequest] | None:
        """The vault, id and request under the cursor (None: nothing selected, or refused and said)."""
        request_id = self._current()
        if request_id is None:
            return None
        try:
            vault = self.vault
            return vault, request_id, vault.get_request(request_id)
        except VaultError as error:
            self.failed(error)
            return None

    def action_extend_request(self) -> None:
        selected = self._request_here()
        if selected is None:
            return
        vault, request_id, request = selected
        title = _("Extend the {kind} request of {date}").format(
            kind=_kind(request.type), date=format_date(request.received)
        )
        dialog = ExtendRequestDialog(
            vault, request_id, title=title, deadline=request.deadline, received=request.received
        )
        self.app.push_screen(dialog, self._applied(dialog.summary, lambda: request_id))

    def action_close_request(self) -> None:
        selected = self._request_here()
        if selected is None:
            return
        vault, request_id, request = selected
        title = _("Mark the {kind} request of {date} answered").format(
            kind=_kind(request.type), date=format_date(request.received)
        )
        dialog = CloseRequestDialog(
            vault, request_id, title=title, received=request.received, deadline=request.deadline
        )
        self.app.push_screen(dialog, self._applied(dialog.summary, lambda: None))


# --- dialogs -----------------------------------------------------------------------------


class _RequestDialog(AskDialog):
    """A request dialog: a title, an explanation, fields; Enter or ctrl+s applies, Escape cancels."""

    def __init__(self, vault: Vault, title: str, body: str) -> None:
        super().__init__()
        self.vault = vault
        self._title = title
        self._body = body
        self._summary = ""

    def summary(self) -> str:
        """What the dialog did, for the status line (empty until it applied)."""
        return self._summary

    def fields(self) -> ComposeResult:
        raise NotImplementedError
        yield  # pragma: no cover

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog ask"):
            yield Static(Text(self._title, style="bold"))
            with VerticalScroll(classes="ask-scroll", can_focus=False):
                yield Static(Text(self._body), classes="ask-body")
                yield from self.fields()
            yield Label("", id="ask-error", classes="ask-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Apply (enter)"), variant="primary", id="ok")
                yield Button(_("Cancel (esc)"), id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.error(None)
        self.first_field().focus()

    def first_field(self) -> Widget:
        """The field that has the focus when the dialog opens."""
        return self.query(Input).first()

    def day(self, field_id: str, what: str, *, earliest: date | None = None) -> date | None:
        """The day typed in ``field_id`` (not in the future); None after showing why it is refused."""
        field = self.query_one(f"#{field_id}", Input)
        try:
            return parse_day(field.value, what, today=self.vault.today(), earliest=earliest)
        except ValueError as error:
            self.error(str(error))
            field.focus()
            return None

    def attempt(self, apply: Callable[[], str]) -> None:
        """Run ``apply`` (it calls the vault and returns the summary); a refusal stays in the dialog."""
        try:
            self._summary = apply()
        except VaultError as error:
            self.error(str(error))
            return
        self.dismiss(True)


class OpenRequestDialog(_RequestDialog):
    """Record a request that came in; it concerns the contact selected in the list unless unticked."""

    def __init__(self, vault: Vault, contact: Contact | None) -> None:
        super().__init__(
            vault,
            _("Open a data-subject request"),
            _(
                "The answer is due one month after the day it came in (Art. 12(3) GDPR); "
                "the list warns before and after the deadline."
            ),
        )
        self._contact_id = contact.id if contact else None
        self._contact_name = contact.name if contact else ""
        self.opened_id: str | None = None

    def fields(self) -> ComposeResult:
        yield Label(_("What the person asked for"), classes="ask-label")
        yield Select(
            [(f"{_kind(t)} ({t.article})", t) for t in RequestType],
            value=RequestType.ACCESS,
            allow_blank=False,
            id="request-type",
        )
        if self._contact_id is not None:
            yield Checkbox(
                _("Concerns {name} (selected in the list)").format(name=printable(self._contact_name)),
                True,
                id="concerns",
            )
        yield Label(_("The day it came in"), classes="ask-label")
        yield Input(format_date(self.vault.today()), placeholder=_("YYYY-MM-DD"), id="received")
        yield Label(_("A note (stored encrypted), e.g. how it came in"), classes="ask-label")
        yield Input(placeholder=_("e.g. e-mail of 2026-06-14"), id="request-notes")

    def first_field(self) -> Widget:
        return self.query_one("#request-type", Select)

    def action_ok(self) -> None:
        received = self.day("received", N_("received on"))
        if received is None:
            return
        kind = self.query_one("#request-type", Select).value
        assert isinstance(kind, RequestType)
        concerns = self._contact_id is not None and self.query_one("#concerns", Checkbox).value
        ids = [self._contact_id] if concerns and self._contact_id else []
        notes = self.query_one("#request-notes", Input).value

        def apply() -> str:
            request = self.vault.open_request(kind, ids, received=received, notes=notes)
            self.opened_id = request.id
            about = " " + _("about {name}").format(name=printable(self._contact_name)) if ids else ""
            return _("Opened the {kind} request{about} ({article}); answer by {date}.").format(
                kind=_kind(kind), about=about, article=kind.article, date=format_date(request.deadline)
            )

        self.attempt(apply)


class ExtendRequestDialog(_RequestDialog):
    """Art. 12(3) sentence 2/3: extend by two months, with the reason and the day the person was told."""

    def __init__(self, vault: Vault, request_id: str, *, title: str, deadline: date, received: date) -> None:
        super().__init__(
            vault,
            title,
            _(
                "The deadline {date} moves by two further months, where the request is complex or "
                "there are many (Art. 12(3) GDPR). The person must be told of the extension and the reasons within "
                "one month of receipt: tell them first, then record it here."
            ).format(date=format_date(deadline)),
        )
        self._request_id = request_id
        self._received = received

    def fields(self) -> ComposeResult:
        yield Label(_("Why the answer takes longer (stored encrypted)"), classes="ask-label")
        yield Input(placeholder=_("e.g. many records in several systems"), id="extend-reason")
        yield Label(_("The day the person was informed"), classes="ask-label")
        yield Input(format_date(self.vault.today()), placeholder=_("YYYY-MM-DD"), id="informed")

    def action_ok(self) -> None:
        reason = self.query_one("#extend-reason", Input).value
        if not reason.strip():
            self.error(_("reason: say why the answer takes longer; the person must be told"))
            self.query_one("#extend-reason", Input).focus()
            return
        informed = self.day("informed", N_("informed on"), earliest=self._received)
        if informed is None:
            return

        def apply() -> str:
            request = self.vault.extend_request(self._request_id, reason=reason, informed=informed)
            return _("Extended: answer by {date}. Recorded that the person was told on {informed}.").format(
                date=format_date(request.deadline), informed=format_date(informed)
            )

        self.attempt(apply)


class CloseRequestDialog(_RequestDialog):
    """Mark a request answered on a day (default today), with an optional note."""

    def __init__(self, vault: Vault, request_id: str, *, title: str, received: date, deadline: date) -> None:
        super().__init__(
            vault,
            title,
            _(
                "Received {received}, due {deadline}. Closed requests are kept as proof "
                "for the configured log retention, then dropped by the purge."
            ).format(received=format_date(received), deadline=format_date(deadline)),
        )
        self._request_id = request_id
        self._received = received
        self._deadline = deadline

    def fields(self) -> ComposeResult:
        yield Label(_("A note, e.g. how it was answered (stored encrypted)"), classes="ask-label")
        yield Input(placeholder=_("e.g. export sent by e-mail"), id="close-notes")
        yield Label(_("The day it was answered"), classes="ask-label")
        yield Input(format_date(self.vault.today()), placeholder=_("YYYY-MM-DD"), id="closed-on")

    def action_ok(self) -> None:
        closed = self.day("closed-on", N_("answered on"), earliest=self._received)
        if closed is None:
            return
        notes = self.query_one("#close-notes", Input).value

        def apply() -> str:
            self.vault.close_request(self._request_id, closed=closed, notes=notes)
            late = ""
            if closed > self._deadline:
                late = _(", {days} after the deadline").format(days=_days((closed - self._deadline).days))
            return _("Marked answered on {date}{late}.").format(date=format_date(closed), late=late)

        self.attempt(apply)
