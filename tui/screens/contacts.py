"""The working screen: search box, contact table, detail pane, status line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, overload

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static

from tui.host import VaultHost
from tui.screens.dialogs import Confirm
from tui.screens.exchange import ExportScreen, ImportScreen
from tui.screens.form import ContactForm
from tui.screens.purge import PurgeScreen
from tui.screens.requests import RequestsScreen
from tui.screens.sync import SyncScreen
from tui.widgets.contact_table import ContactTable
from tui.widgets.detail import DetailPane
from vault.errors import VaultError
from vault.model import Contact, ContactDraft, EraseOutcome, EraseResult
from vault.search import IncrementalSearch


class Picked(Sequence[Contact]):
    """A view of ``contacts`` at ``positions``: no copy per keystroke."""

    def __init__(self, contacts: list[Contact], positions: Sequence[int]) -> None:
        self._contacts = contacts
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> Contact: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Contact]: ...
    def __getitem__(self, index: int | slice) -> Contact | Sequence[Contact]:
        if isinstance(index, slice):
            return [self._contacts[p] for p in self._positions[index]]
        return self._contacts[self._positions[index]]


SORTS = ("name", "retention end")
DETAIL_DELAY = 0.08  # seconds of quiet before the detail pane follows the cursor


def _name_key(contact: Contact) -> tuple[str, str]:
    return (contact.name.casefold(), contact.id)


def _retention_key(contact: Contact) -> tuple[int, str, str]:
    end = contact.retention_end
    return (0 if end else 1, end.isoformat() if end else "", contact.name.casefold())


class ContactsScreen(Screen[None]):
    """Find, read and change contacts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "app.help", "Help"),
        Binding("slash", "focus_search", "Search"),
        Binding("n", "add", "New"),
        Binding("e", "edit", "Edit"),
        Binding("d,delete", "erase", "Erase"),
        Binding("r", "restrict", "Restrict"),
        Binding("h", "hold", "Hold"),
        Binding("t", "toggle_restricted", "Restricted"),
        Binding("s", "sort", "Sort"),
        Binding("x", "export", "Export"),
        Binding("i", "import", "Import"),
        Binding("p", "purge_preview", "Purge"),
        Binding("q", "requests", "Requests"),
        Binding("y", "sync_status", "Sync"),
    ]

    def __init__(self, host: VaultHost) -> None:
        super().__init__()
        self.host = host
        self.show_restricted = False
        self.sort = SORTS[0]
        self._ordered: list[Contact] = []
        self._search: IncrementalSearch | None = None
        self._restricted_count = 0
        self._detail_timer: Timer | None = None
        self._detail_shown: Contact | None = None
        self._detail_dirty = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status")
        yield Input(placeholder="Search names, e-mails, phones, organisations  ( / )", id="search")
        with Horizontal(id="main"):
            yield ContactTable(id="table")
            with VerticalScroll(id="detail-scroll"):
                yield DetailPane(id="detail")
        yield Footer(compact=True)

    def on_resize(self, event: events.Resize) -> None:
        # On a narrow terminal the detail pane moves below the list.
        self.query_one("#main").set_class(event.size.width < 110, "narrow")

    def on_mount(self) -> None:
        self.reload()
        self.query_one(ContactTable).focus()

    # --- data ---------------------------------------------------------------------

    @property
    def table(self) -> ContactTable:
        return self.query_one(ContactTable)

    def reload(self) -> None:
        """Rebuild order and index from the vault (after a change, a toggle, a refresh)."""
        vault = self.host.vault
        if vault is None or vault.is_locked:
            return
        keep = self.table.current.id if self.table.current else None
        contacts = vault.contacts(include_restricted=self.show_restricted)  # sorted by name
        if self.sort == "retention end":
            contacts.sort(key=_retention_key)
        self._ordered = contacts
        self._restricted_count = (
            sum(1 for c in contacts if c.is_restricted) if self.show_restricted else len(vault) - len(contacts)
        )
        self._search = IncrementalSearch([c.id for c in contacts], vault.search_keys())
        self.apply_search(keep=keep)

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
            "UNLOCKED",
            f"{self.table.row_count} of {len(self._ordered)} shown",
            f"sorted by {self.sort}",
            f"{restricted} restricted " + ("shown" if self.show_restricted else "hidden (t)"),
        ]
        if vault.damaged_ids:
            parts.append(f"{len(vault.damaged_ids)} damaged record(s) not shown")
        # One line of fixed height: no layout pass needed (it would cost a frame).
        self.query_one("#status", Static).update(Text(" · ".join(parts)), layout=False)

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
        # The pane follows the cursor at once, then at most every DETAIL_DELAY
        # while the owner keeps typing or scrolling: rendering it on every
        # keystroke would cost more than the search itself.
        if self._detail_timer is None:
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
            self.notify("No contact selected.", severity="warning")
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

        def save(draft: ContactDraft) -> Contact:
            return vault.add(draft)

        self.app.push_screen(ContactForm(vault, save), self._after_add)

    def _after_add(self, contact: Contact | None) -> None:
        if contact is not None:
            # Clear a search that would hide the new contact.
            self.query_one("#search", Input).value = ""
            self.notify("Contact saved.")
        self._saved(contact)

    def action_edit(self) -> None:
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        record_id = contact.id

        def save(draft: ContactDraft) -> Contact:
            return vault.update(record_id, draft)

        self.app.push_screen(ContactForm(vault, save, contact), self._after_edit)

    def _after_edit(self, contact: Contact | None) -> None:
        if contact is not None:
            self.notify("Contact updated.")
        self._saved(contact)

    def action_erase(self) -> None:
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        try:
            preview = vault.erase_preview(contact.id)
        except VaultError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        body = Text()
        body.append("Erase ")
        body.append(contact.name if contact.name.isprintable() else repr(contact.name), style="bold")
        body.append(" (Art. 17 GDPR)?\n\n")
        if preview.outcome is EraseOutcome.DELETED:
            body.append("The record will be deleted now", style="bold")
            body.append(" and cannot be recovered: " + preview.reason + ".")
        else:
            body.append("The record cannot be deleted yet: ", style="bold")
            body.append(preview.reason + ".\n\n")
            body.append("It will be restricted instead: hidden from the working list, kept only to meet that duty")
            if preview.purge_from:
                body.append(", and purged automatically from ")
                body.append(preview.purge_from.isoformat(), style="bold")
            body.append(".")
        record_id = contact.id

        def answered(yes: bool | None) -> None:
            if yes:
                self._erase(record_id)

        self.app.push_screen(Confirm("Erase contact", body, yes="Erase", danger=True), answered)

    def _erase(self, record_id: str) -> None:
        # The erasure scrubs the database (checkpoint, VACUUM): seconds on a large
        # vault, so it runs in a worker and the list updates when it is done.
        self.notify("Erasing...")
        self._erase_in_worker(record_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="erase")
    def _erase_in_worker(self, record_id: str) -> None:
        vault = self.host.vault
        if vault is None:
            return
        try:
            result = vault.erase(record_id)
        except VaultError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
            return
        self.app.call_from_thread(self._erased, result)

    def _erased(self, result: EraseResult) -> None:
        if result.outcome is EraseOutcome.DELETED:
            self.notify("Contact erased.")
        else:
            until = f" until {result.purge_from.isoformat()}" if result.purge_from else ""
            self.notify(f"Contact restricted{until}: a retention duty or hold applies.")
        self.reload()

    def action_restrict(self) -> None:
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        record_id = contact.id
        if contact.is_restricted:
            title, body = (
                "Lift the restriction",
                ("The record returns to the working list and may be processed again (Art. 18(3))."),
            )
            act = vault.unrestrict
        else:
            title, body = (
                "Restrict processing (Art. 18 GDPR)",
                (
                    "The record is kept but hidden from the working list and must not be used, "
                    "only stored, until the restriction is lifted. The retention schedule is unchanged."
                ),
            )
            act = vault.restrict

        def answered(yes: bool | None) -> None:
            if yes:
                self._apply(act, record_id, "Restriction lifted." if contact.is_restricted else "Contact restricted.")

        self.app.push_screen(Confirm(title, body), answered)

    def action_hold(self) -> None:
        vault = self.host.vault
        contact = self._selected()
        if vault is None or contact is None:
            return
        record_id = contact.id
        if contact.hold:
            title, body = "Release the legal hold", ("The purge will delete the record once its retention has ended.")
            act, done = vault.release, "Hold released."
        else:
            title, body = (
                "Put on legal hold",
                (
                    "The purge will keep this record even after its retention ends, until the hold "
                    "is released (e.g. an open tax audit, §147(3) AO, or a legal claim)."
                ),
            )
            act, done = vault.hold, "Contact on hold."

        def answered(yes: bool | None) -> None:
            if yes:
                self._apply(act, record_id, done)

        self.app.push_screen(Confirm(title, body), answered)

    def _apply(self, act: object, record_id: str, done: str) -> None:
        assert callable(act)
        try:
            act(record_id)
        except VaultError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.notify(done)
        self.reload()
        self._move_to(record_id)

    def action_toggle_restricted(self) -> None:
        self.show_restricted = not self.show_restricted
        self.reload()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.reload()

    # The less frequent jobs live in their own modals (see tui/screens/activities.py);
    # the list is rebuilt when one closes, since it may have changed contacts.
    def _activity(self, screen: Screen[None]) -> None:
        self.app.push_screen(screen, lambda _: self.reload())

    def action_export(self) -> None:
        self._activity(ExportScreen(self.host))

    def action_import(self) -> None:
        self._activity(ImportScreen(self.host))

    def action_purge_preview(self) -> None:
        self._activity(PurgeScreen(self.host))

    def action_requests(self) -> None:
        self._activity(RequestsScreen(self.host))

    def action_sync_status(self) -> None:
        self._activity(SyncScreen(self.host))
