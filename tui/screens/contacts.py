"""The working screen: search box, contact table, detail pane, status line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Static

from tui.host import ListBuilt, VaultHost
from tui.screens.dialogs import (
    Confirm,
    EraseChoice,
    EraseDialog,
    InformedDialog,
    ask_hold_or_release,
    restrict_dialog,
    stays_restricted,
)
from tui.screens.exchange import ExportScreen, ImportScreen
from tui.screens.form import ContactForm
from tui.screens.help import ACTION_HELP
from tui.screens.purge import PurgeScreen
from tui.screens.requests import RequestsScreen
from tui.screens.settings import SettingsHost, SettingsScreen
from tui.screens.sync import SyncScreen
from tui.widgets.contact_table import ContactTable, Picked
from tui.widgets.detail import DetailPane
from tui.widgets.orders import ListOrders, prepare_step
from tui.widgets.search_box import SearchBox
from tui.widgets.translated import FittingFooter, Translated
from vault.errors import VaultError
from vault.i18n import N_, _, format_date, ngettext
from vault.model import Contact, ContactDraft, EraseOutcome, EraseResult
from vault.policy import DEFAULT_KEEP
from vault.search import IncrementalSearch

SORTS = (N_("first name"), N_("surname"), N_("retention end"))  # s moves to the next
DETAIL_DELAY = 0.08  # seconds of quiet before the detail pane follows the cursor
ORDER_STEP, ORDER_PAUSE = 0.003, 0.012  # seconds of work on the other orders, then of rest (ListOrders)


class ContactsScreen(Translated, Screen[None]):
    """Find, read and change contacts."""

    # The footer shows the most used keys first and fits 80 columns; Lock comes first so it
    # is never cut off (the app's priority binding does the work).  The rest are in the
    # help (?) and the command palette (ctrl+p).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", N_("Lock")),
        Binding("slash", "focus_search", N_("Search")),
        Binding("n", "add", N_("New")),
        Binding("e", "edit", N_("Edit")),
        Binding("d,delete", "erase", N_("Erase")),
        Binding("r", "restrict", N_("Restrict")),
        Binding("h", "hold", N_("Hold")),
        Binding("question_mark", "app.help", N_("Help")),
        Binding("s", "sort", N_("Sort"), show=False),
        Binding("t", "toggle_restricted", N_("Restricted"), show=False),
        Binding("v", "reviewed", N_("Consent reviewed"), show=False),
        Binding("x", "export", N_("Export"), show=False),
        Binding("i", "import", N_("Import"), show=False),
        Binding("p", "purge_preview", N_("Purge"), show=False),
        Binding("q", "requests", N_("Requests"), show=False),
        Binding("y", "sync_status", N_("Sync"), show=False),
        Binding("o", "settings", N_("Settings"), show=False),
    ]

    # What each action does, for the command palette (ctrl+p), which shows it with the key.
    DESCRIPTIONS: ClassVar[dict[str, str]] = ACTION_HELP

    def __init__(self, host: VaultHost) -> None:
        super().__init__()
        self.host = host
        self.show_restricted = False
        self.sort = SORTS[0]
        self._ordered: Sequence[Contact] = []
        self._search: IncrementalSearch | None = None
        self._restricted_count = 0
        self._detail_timer: Timer | None = None
        self._detail_shown: Contact | None = None
        self._detail_dirty = False
        self._overdue = 0  # open data-subject requests past their deadline (counted on reload)
        self._orders: ListOrders | None = None  # every order of the data shown (reload)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status")
        yield SearchBox(placeholder=_("Search names, e-mails, phones, organisations  ( / )"), id="search")
        with Horizontal(id="main"):
            yield ContactTable(id="table")
            with VerticalScroll(id="detail-scroll"):
                yield DetailPane(id="detail")
        yield FittingFooter(compact=True)

    def on_resize(self, event: events.Resize) -> None:
        # On a narrow terminal the detail pane moves below the list.
        self.query_one("#main").set_class(event.size.width < 110, "narrow")

    def on_mount(self) -> None:
        self.reload()
        self.query_one(ContactTable).focus()
        if self._overdue:
            deadline = _(
                "{n} data-subject request(s) are past their one-month deadline (Art. 12(3) GDPR); q shows them."
            )
            self.notify(deadline.format(n=self._overdue), severity="warning", timeout=10)

    # --- data ---------------------------------------------------------------------

    @property
    def table(self) -> ContactTable:
        return self.query_one(ContactTable)

    def reload(self, *, same_data: bool = False) -> None:
        """Rebuild the list from the vault (orders: see ListOrders.following); ``same_data``: only sort or filter."""
        vault = self.host.vault
        if vault is None or vault.is_locked:
            return
        keep = self.table.current.id if self.table.current else None
        if not same_data or self._orders is None:
            orders = ListOrders.following(self._orders, vault.contacts(), vault.search_keys(), self.show_restricted)
            self._orders = orders
            self.set_timer(ORDER_PAUSE, partial(self._prepare_orders, orders))
        contacts, self._search = self._orders.view(self.sort, self.show_restricted)
        self.table.fit_names(self._orders.longest_name(self.show_restricted))
        self._ordered = contacts
        self._restricted_count = self._orders.restricted if self.show_restricted else len(vault) - len(contacts)
        try:
            self._overdue = vault.overdue_request_count()  # plaintext dates: one cheap query
        except VaultError:
            self._overdue = 0
        self.apply_search(keep=keep)

    def _prepare_orders(self, orders: ListOrders) -> None:
        """Work out the other orders a few milliseconds at a time, between keystrokes."""
        vault = self.host.vault
        if orders is not self._orders or vault is None or vault.is_locked:
            orders.close()  # replaced or locked: its steps go, and with them the cycle they make
            return
        if prepare_step(orders, ORDER_STEP):
            self.set_timer(ORDER_PAUSE, partial(self._prepare_orders, orders))
        else:
            self.post_message(ListBuilt())

    def apply_search(self, *, keep: str | None = None) -> None:
        """Filter by the search box and show the result (the per-keystroke path)."""
        if self._search is None:
            return
        positions = self._search.filter(self.query_one("#search", Input).value)
        self.table.set_rows(Picked(self._ordered, positions), keep=keep)
        self._update_status()

    def _update_status(self) -> None:
        vault = self.host.vault
        if vault is None or vault.is_locked:
            return
        restricted = self._restricted_count
        parts = [
            _("{shown} of {total} shown").format(shown=self.table.row_count, total=len(self._ordered)),
            _("sorted by {sort}").format(sort=_(self.sort)),
            (_("{n} restricted shown") if self.show_restricted else _("{n} restricted hidden (t)")).format(
                n=restricted
            ),
        ]
        if vault.damaged_ids:
            parts.append(_("{n} damaged record(s) not shown").format(n=len(vault.damaged_ids)))
        line = Text(_("UNLOCKED") + " · ")
        if self._overdue:
            # Second, so it is never cut off at 80 columns: a missed deadline is a breach of Art. 12(3).
            overdue = ngettext("{n} request OVERDUE (q)", "{n} requests OVERDUE (q)", self._overdue)
            line.append(overdue.format(n=self._overdue), style="bold red")
            line.append(" · ")
        line.append(" · ".join(parts))
        # One line of fixed height: no layout pass needed (it would cost a frame).
        self.query_one("#status", Static).update(line, layout=False)

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.apply_search()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        # Down from the search box goes to the list.
        if event.key == "down" and self.focused is self.query_one("#search"):
            self.table.focus()

    @on(ContactTable.Highlighted)
    def _show_detail(self, message: ContactTable.Highlighted) -> None:
        # The pane follows the list's cursor at once (then every DETAIL_DELAY), a search after a pause (issue 15).
        if self.focused is self.query_one("#search") and self._detail_timer is not None:
            self._detail_dirty = True
            self._detail_timer.reset()
        elif self.focused is self.query_one("#search"):
            self._detail_dirty, self._detail_timer = True, self.set_timer(DETAIL_DELAY, self._detail_cooled)
        elif self._detail_timer is None:
            self.update_detail()
            self._detail_timer = self.set_timer(DETAIL_DELAY, self._detail_cooled)
        else:
            self._detail_dirty = True

    def _detail_cooled(self) -> None:
        self._detail_timer = None
        if self._detail_dirty:
            self._detail_dirty = False
            self.update_detail()

    def update_detail(self) -> None:
        vault = self.host.vault
        if vault is None or vault.is_locked:
            return
        contact = self.table.current
        if contact is self._detail_shown and contact is not None:
            return
        self._detail_shown = contact
        rule = vault.rules.get(contact.rule) if contact and contact.rule in vault.rules else None
        self.query_one(DetailPane).show(contact, rule, vault.today())

    def _selected(self) -> Contact | None:
        contact = self.table.current
        if contact is None:
            self.notify(_("No contact selected."), severity="warning")
        return contact

    def _saved(self, contact: Contact | None) -> None:
        if contact is None:
            return
        self.reload()
        self._move_to(contact.id)

    def _move_to(self, record_id: str) -> None:
        rows = self.table.rows
        for index in range(len(rows)):
            if rows[index].id == record_id:
                self.table.cursor = index
                return

    # --- actions ------------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_add(self) -> None:
        vault = self.host.vault
        if vault is None:
            return

        def save(draft: ContactDraft, *, allow_suppressed: bool = False) -> Contact:
            return vault.add(draft, allow_suppressed=allow_suppressed)

        self.app.push_screen(ContactForm.for_new(self.app, vault, save), self._after_add)

    def _after_add(self, contact: Contact | None) -> None:
        if contact is not None:
            # Clear a search that would hide the new contact.
            self.query_one("#search", Input).value = ""
            self.notify(_("Contact saved."))
        self._saved(contact)

    def action_edit(self) -> None:
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        record_id = contact.id

        def save(draft: ContactDraft, *, allow_suppressed: bool = False) -> Contact:
            # An e-mail or phone the edit adds is looked up on the suppression list too.
            return vault.update(record_id, draft, allow_suppressed=allow_suppressed)

        self.app.push_screen(ContactForm(vault, save, contact), self._after_edit)

    def _after_edit(self, contact: Contact | None) -> None:
        if contact is not None:
            self.notify(_("Contact updated.") + self._hidden_note(contact))
        self._saved(contact)

    def _hidden_note(self, contact: Contact) -> str:
        """A restricted record leaves the working list unless restricted ones are shown."""
        if contact.is_restricted and not self.show_restricted:
            return " " + _("It is restricted now: hidden from the list (t shows restricted records).")
        return ""

    def action_erase(self) -> None:
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        try:
            preview = vault.erase_preview(contact.id)
            # Art. 17(3)(e) is decided case by case: offer the other answer when it changes the outcome.
            without_claims = vault.erase_preview(contact.id, claims_needed=False)
        except VaultError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        record_id = contact.id

        def answered(choice: EraseChoice | None) -> None:
            if choice is not None:
                self._erase(record_id, choice)

        dialog = EraseDialog(contact, preview, without_claims if without_claims != preview else None, DEFAULT_KEEP)
        self.app.push_screen(dialog, answered)

    def _erase(self, record_id: str, choice: EraseChoice) -> None:
        # The erasure scrubs the database (checkpoint, VACUUM): seconds on a large
        # vault, so it runs in a worker and the list updates when it is done.
        self.notify(_("Erasing..."))
        self._erase_in_worker(record_id, choice.keep, choice.claims_needed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="erase")
    def _erase_in_worker(self, record_id: str, keep: frozenset[str], claims_needed: bool) -> None:
        vault = self.host.vault
        if vault is None:
            return
        try:
            result = vault.erase(record_id, keep=keep, claims_needed=claims_needed)
        except VaultError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
            return
        self.app.call_from_thread(self._erased, result)

    def _erased(self, result: EraseResult) -> None:
        if result.outcome is EraseOutcome.DELETED:
            self.notify(_("Contact erased."))
        else:
            when = format_date(result.purge_from) if result.purge_from else _("the hold is released")
            text = _("Contact restricted until {date}: a retention duty, legal claims or a hold keep it.")
            self.notify(text.format(date=when))
        self.reload()

    def action_restrict(self) -> None:
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        record_id = contact.id
        if not contact.is_restricted:
            self.app.push_screen(
                restrict_dialog(vault.today(), lambda _, requested: vault.restrict(record_id, requested=requested)),
                lambda done: self._done(done, record_id, _("Contact restricted.")),
            )
            return
        stays = stays_restricted(contact)
        if stays:
            self.notify(stays, severity="warning")
            return
        if contact.restriction_requested is not None:
            self.app.push_screen(
                InformedDialog(
                    _("Lift the restriction"),
                    requested=contact.restriction_requested,
                    today=vault.today(),
                    apply=lambda informed: vault.unrestrict(record_id, informed=informed),
                    yes=_("Lift"),
                ),
                lambda done: self._done(done, record_id, _("Restriction lifted.")),
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._apply(lambda: vault.unrestrict(record_id), record_id, _("Restriction lifted."))

        body = _("The record returns to the working list and may be processed again (Art. 18(3)).")
        self.app.push_screen(Confirm(_("Lift the restriction"), body), answered)

    def action_hold(self) -> None:
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        record_id = contact.id
        ask_hold_or_release(
            self.app,
            contact,
            vault.today(),
            hold=lambda why, requested: vault.hold(record_id, reason=why, requested=requested),
            held=lambda done: self._done(done, record_id, _("Contact on hold.")),
            release=lambda informed: self._release(record_id, informed),
        )

    def _release(self, record_id: str, informed: date | None) -> None:
        # A release may complete a pending erasure, which scrubs the file: in a worker.
        self._release_in_worker(record_id, informed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="release")
    def _release_in_worker(self, record_id: str, informed: date | None) -> None:
        vault = self.host.vault
        if vault is None:
            return
        try:
            kept = vault.release(record_id, informed=informed)
        except VaultError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
            return
        self.app.call_from_thread(self._released, record_id, kept is None)

    def _released(self, record_id: str, erased: bool) -> None:
        if erased:
            self.notify(_("Hold released: the erasure that was waiting for it is done, the record was erased."))
        else:
            self.notify(_("Hold released."))
        self.reload()
        self._move_to(record_id)

    def action_reviewed(self) -> None:
        """A consent record is still needed: the owner reviewed it, the next review moves on."""
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        if contact.review_at is None:
            self.notify(
                _("Nothing to review: only consent records have a review date (this one is kept under {rule}).").format(
                    rule=contact.rule
                ),
                severity="warning",
                markup=False,
            )
            return
        try:
            reviewed = vault.reviewed(contact.id)
        except VaultError as error:
            self.notify(str(error), severity="warning", markup=False)
            return
        after = format_date(reviewed.review_at) if reviewed.review_at else _("none")
        self.notify(_("Consent reviewed; next review on {date}.").format(date=after))
        self.reload()
        self._move_to(contact.id)

    def _done(self, done: bool | None, record_id: str, message: str) -> None:
        """After a dialog applied a change: tell, show it (restricted ones are hidden: t shows them)."""
        if not done:
            return
        vault = self.host.vault
        try:
            note = self._hidden_note(vault.get(record_id)) if vault is not None else ""
        except VaultError:
            note = ""
        self.notify(message + note)
        self.reload()
        self._move_to(record_id)

    def _apply(self, act: Callable[[], object], record_id: str, done: str) -> None:
        try:
            act()
        except VaultError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.notify(done)
        self.reload()
        self._move_to(record_id)

    def action_toggle_restricted(self) -> None:
        self.show_restricted = not self.show_restricted
        self.reload(same_data=True)

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.reload(same_data=True)

    # The less frequent jobs live in their own modals (tui/screens/activities.py); the list is rebuilt after.
    def _activity(self, screen: Screen[None]) -> None:
        self.app.push_screen(screen, lambda _: self.reload())

    def action_export(self) -> None:
        self._activity(ExportScreen(self.host, self.table.current))

    def action_import(self) -> None:
        self._activity(ImportScreen(self.host))

    def action_purge_preview(self) -> None:
        # The preview changes nothing unless a record was purged, held or released there: then the
        # orders built for the data stay (a rebuild takes a second at 100k contacts; issue 15).
        PurgeScreen.show(self.app, self.host, lambda changed: self.reload(same_data=not changed))

    def action_requests(self) -> None:
        self._activity(RequestsScreen(self.host, self.table.current))

    def action_sync_status(self) -> None:
        self._activity(SyncScreen(self.host))

    def action_settings(self) -> None:
        if isinstance(self.host, SettingsHost):  # a test's small host app keeps no config file
            self.app.push_screen(SettingsScreen(self.host))
        else:
            self.notify(_("Settings cannot be changed here."), severity="warning")
