"""The purge: what it reaches in the next 30 days, running it now, overdue reviews, the deletion log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Label, Static

from tui.host import VaultHost
from tui.screens.activities import Activity
from tui.screens.dialogs import Confirm, ask_hold_or_release
from tui.widgets.safe import literal, printable
from vault.errors import VaultBusy, VaultError
from vault.i18n import N_, _, format_date, format_datetime, ngettext
from vault.service import Vault

if TYPE_CHECKING:
    from vault.model import AuditEntry  # what Vault.audit_log gives
    from vault.purge import PreviewRecord, ReviewDue  # what Vault.purge_preview, overdue_reviews give

NAMES_SHOWN = 5  # the confirmation names this many records (it must fit 80x24), then counts the rest
CHUNK = 100  # rows added to a table per screen refresh once the first screenful is shown (see _Fill)
LOG_ROWS = 100  # the newest rows of the log shown (the CLI's `sealbook log` has them all)
BUSY = N_(
    "The vault is busy (another sealbook process, perhaps the scheduled purge, is writing); "
    "nothing was purged. Try again in a moment."
)


def _records(n: int) -> str:
    return ngettext("{n} record", "{n} records", n).format(n=n)


# The audit log's actions, as the log and its filter show them.
ACTIONS: tuple[str, ...] = (
    N_("purged"),
    N_("erased"),
    N_("erase-requested"),
    N_("withdrawn"),
    N_("objected"),
    N_("restricted"),
)
ACTIONS += (N_("held"), N_("exported"), N_("imported"))

Row = tuple[tuple[Text, ...], str | None]  # a table row's cells and its key


@dataclass(eq=False)  # compared by identity: a newer fill of the same table is another one
class _Fill:
    """The rows one table still has to get, added a screenful first and CHUNK per refresh after.

    Textual measures every cell added to a DataTable before the next frame (~23 ms per 100
    rows), and 1,000 due records plus 100 log rows held the preview for ~0.5 s.  Rows are made
    (names looked up, dates formatted) only as they are added.  ``cursor`` is the row the
    cursor returns to once it is there (a refill after a hold keeps the place), or -1.
    """

    table: DataTable[Any]
    items: Sequence[Any]
    row: Callable[[Any], Row]
    cursor: int = -1
    added: int = 0

    def add(self, count: int) -> bool:
        """Add up to ``count`` more rows; whether some are left."""
        start, end = self.added, min(self.added + count, len(self.items))
        for item in self.items[start:end]:
            cells, key = self.row(item)
            self.table.add_row(*cells, key=key)
        self.added = end
        if start <= self.cursor < end:
            self.table.move_cursor(row=self.cursor)
        return end < len(self.items)


class PurgeScreen(Activity):
    """Records the purge reaches in the next 30 days, the purge itself, overdue reviews and the log."""

    TITLE_TEXT = N_("Purge: records whose retention ends within 30 days")
    BINDINGS: ClassVar[list[BindingType]] = [
        *Activity.BINDINGS,
        Binding("r", "run_purge", N_("Run the purge")),
        Binding("h", "toggle_hold", N_("Hold / release")),
        Binding("a", "log_filter", N_("Log: next action")),
    ]

    def __init__(self, host: VaultHost) -> None:
        super().__init__(host)
        self._log_filter: str | None = None
        self._fills: list[_Fill] = []  # the tables still filling (see _add)
        self.changed = False  # whether a record was purged, held or released here (the list reloads)

    LOGGED = ("purged", "erased", "withdrawn", "restricted", "exported", "imported")
    # `a` steps through these: all of the above, then one action at a time (imports no longer bury erasures).
    LOG_FILTERS: tuple[str | None, ...] = (None, "purged", "erased", "erase-requested", "withdrawn", "objected",
                                           "restricted", "held", "exported", "imported")  # fmt: skip

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield DataTable(id="purge-due", cursor_type="row")
            yield Label(Text(_("Review dates that have passed (never deleted automatically)"), style="bold"))
            yield DataTable(id="purge-reviews", cursor_type="row")
            yield Label(self._log_title(), id="log-title")
            yield DataTable(id="purge-log", cursor_type="row")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button(_("Run the purge (r)"), id="run", variant="error")
                yield Button(_("Hold / release (h)"), id="hold")
                yield Button(_("Close (esc)"), id="close")

    def on_mount(self) -> None:
        self.query_one("#purge-due", DataTable).add_columns(_("Name"), _("Retention end"), _("Purged from"), _("Hold"))
        self.query_one("#purge-reviews", DataTable).add_columns(_("Name"), _("Review date"), _("Retention end"))
        self.query_one("#purge-log", DataTable).add_columns(_("When (UTC)"), _("Action"), _("Record id"), _("Detail"))
        self.fill()
        self.query_one("#purge-due", DataTable).focus()

    def fill(self, *, keep_status: bool = False) -> None:
        try:
            due = self.vault.purge_preview(30)
            reviews = self.vault.overdue_reviews()
            log = self.vault.audit_log(action=self._log_filter or self.LOGGED, last=LOG_ROWS)
        except VaultError as error:
            self.failed(error)
            return
        due_table = self.query_one("#purge-due", DataTable)
        cursor = min(due_table.cursor_row, len(due) - 1)
        self._fills = []  # a fill still running for the old contents stops (see _add)
        self._start(due_table, due, self._due_row, cursor)
        self._start(self.query_one("#purge-reviews", DataTable), reviews, self._review_row)
        self._start(self.query_one("#purge-log", DataTable), list(reversed(log)), self._log_row)
        if keep_status:
            return
        self.status(
            _(
                "{due} record(s) due within 30 days; {reviews} review(s) overdue. "
                "r purges what is due today; h holds a record past its end; edit it to change the rule or date."
            ).format(due=len(due), reviews=len(reviews))
        )

    # Every cell is a Text made by literal(): the table neither parses it as markup nor has to.
    def _due_row(self, item: PreviewRecord) -> Row:
        hold = literal(_("held") if item.hold else "")
        dates = literal(format_date(item.retention_end)), literal(format_date(item.purge_from))
        return (self.name_of(item.record_id), *dates, hold), item.record_id

    def _review_row(self, review: ReviewDue) -> Row:
        end = format_date(review.retention_end) if review.retention_end else _("open-ended")
        return (self.name_of(review.record_id), literal(format_date(review.review_at)), literal(end)), None

    def _log_row(self, entry: AuditEntry) -> Row:
        when, action = literal(format_datetime(entry.at)), literal(_(entry.action))
        return (when, action, literal(entry.record_id or "-"), literal(entry.detail)), None

    def _start(self, table: DataTable[Any], items: Sequence[Any], row: Callable[[Any], Row], cursor: int = -1) -> None:
        """Fill ``table`` anew: the rows it can show now, the rest after the screen is drawn."""
        table.clear()
        fill = _Fill(table, items, row, cursor)
        self._fills.append(fill)
        # Before the first layout a table's height is unknown; none here shows more than half
        # the terminal's lines (the due table has 2 of the 4 shares the heading, labels, status
        # and buttons leave).  A fill that falls short only completes a refresh later.
        shown = table.size.height if table.size.height else self.app.size.height // 2 + 1
        self._add(fill, shown)

    def _add(self, fill: _Fill, count: int) -> None:
        """``count`` more rows of ``fill``, then CHUNK more after each refresh until all are in.
        A newer fill (or the screen closed) stops an older one."""
        if fill not in self._fills or not fill.table.is_attached:
            return
        if fill.add(count):
            self.call_after_refresh(self._add, fill, CHUNK)
        else:
            self._fills.remove(fill)

    def _finish_fills(self) -> None:
        """Add every row still to come, so a key acts on the full table (ctrl+end reaches the last
        due record, h the row the cursor returned to), as when the fill had finished."""
        for fill in list(self._fills):
            self._add(fill, len(fill.items))

    def on_key(self, event: events.Key) -> None:
        # Runs before the key's binding (bindings are looked up once the key has bubbled to
        # the app).  Escape closes and a refills anyway: finishing first would only delay them.
        if self._fills and event.key not in ("escape", "a"):
            self._finish_fills()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        # A click picks a row: the cursor must not jump to a kept place after it.
        self._finish_fills()

    def _log_title(self) -> Text:
        log_filter = self._log_filter
        shown = _("purges, erasures, restrictions, exports, imports") if log_filter is None else _(log_filter)
        title = Text(_("Deletion log (Art. 5(2)), record ids only: "), style="bold")
        title.append(shown, style="bold reverse")
        title.append("  " + _("(a: next action)"))
        return title

    def action_log_filter(self) -> None:
        """Show the next action only (all, purged, erased, ...)."""
        filters = self.LOG_FILTERS
        self._log_filter = filters[(filters.index(self._log_filter) + 1) % len(filters)]
        self.query_one("#log-title", Label).update(self._log_title())
        self.fill(keep_status=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "hold":
            self.action_toggle_hold()
        elif event.button.id == "run":
            self.action_run_purge()
        else:
            self.dismiss(None)

    # --- running the purge --------------------------------------------------------------

    def action_run_purge(self) -> None:
        """Find what is due today (a dry run), ask naming the count, then purge in a worker."""
        if any(worker.is_running for worker in self.workers):
            return
        self.status(_("Checking which records are due..."))
        self._check_due()

    @work(thread=True, exclusive=True, exit_on_error=False, group="purge")
    def _check_due(self) -> None:
        try:
            vault = self.vault
            report = vault.purge(dry_run=True)
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        ids = [record.record_id for record in report.purged]
        self.app.call_from_thread(self._confirm, vault, report.today, ids, list(report.refused))

    def _confirm(self, vault: Vault, today: date, ids: list[str], refused: list[str]) -> None:
        alert = (
            " "
            + _(
                "ALERT: {records} failed the signature check and will NOT be deleted "
                "(its retention date or hold may have been tampered with)."
            ).format(records=_records(len(refused)))
            if refused
            else ""
        )
        if not ids:
            self.status(_("Nothing to purge today: no record without a hold has reached its purge date.") + alert,
                        error=bool(refused))  # fmt: skip
            return
        body = Text()
        body.append(_("{records} will be deleted for good").format(records=_records(len(ids))), style="bold")
        body.append(_(" (retention ended before {date}, no hold):").format(date=format_date(today)) + "\n")
        for record_id in ids[:NAMES_SHOWN]:
            body.append("  ")
            body.append_text(self.name_of(record_id))
            body.append("\n")
        if len(ids) > NAMES_SHOWN:
            body.append("  " + _("and {n} more").format(n=len(ids) - NAMES_SHOWN) + "\n")
        body.append(
            _(
                "The file is scrubbed so nothing remains, and the deletion log records each by id. "
                "This cannot be undone."
            )
        )
        if alert:
            body.append("\n" + alert.strip(), style="bold red")

        def answered(yes: bool | None) -> None:
            if yes:
                self.changed = True
                self.status(_("Purging {records}...").format(records=_records(len(ids))))
                self._run_purge()
            else:
                self.status(_("Nothing was purged."))

        self.app.push_screen(
            Confirm(
                _("Purge {records} now?").format(records=_records(len(ids))),
                body,
                yes=_("Purge {n}").format(n=len(ids)),
                danger=True,
            ),
            answered,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="purge")
    def _run_purge(self) -> None:
        try:
            report = self.vault.purge()
        except VaultBusy:
            self.app.call_from_thread(self.status, _(BUSY), error=True)
            return
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        purged = _records(len(report.purged))
        lines = [
            _("Purged {records} whose retention ended before {date}.").format(
                records=purged, date=format_date(report.today)
            )
        ]
        if report.scrubbed:
            lines.append(_("The file was scrubbed: no remnants of them remain."))
        else:
            lines.append(_("The vault was busy when scrubbing: the next purge overwrites the freed space."))
        if report.refused:
            lines.append(
                _("ALERT: {records} failed the signature check and were NOT deleted.").format(
                    records=_records(len(report.refused))
                )
            )
        if report.push_error:
            lines.append(_("The copy on the webspace was not updated: {error}").format(error=report.push_error))
        elif report.push_pending and report.purged and self._sync_configured():
            lines.append(_("The synced copy still holds them until the next push."))
        lines.extend(report.push_notes)
        self.app.call_from_thread(self._purged, " ".join(lines), len(report.purged), bool(report.refused))

    def _sync_configured(self) -> bool:
        try:
            return self.vault.sync_configured
        except VaultError:
            return False

    def _purged(self, summary: str, count: int, alert: bool) -> None:
        self.fill(keep_status=True)
        self.status(summary, error=alert)
        self.notify(
            _("Purge done: {records} deleted.").format(records=_records(count)),
            severity="error" if alert else "information",
        )

    # --- holds ----------------------------------------------------------------------------

    def action_toggle_hold(self) -> None:
        """Ask before holding (with a reason) or releasing the selected record, naming it."""
        table = self.query_one("#purge-due", DataTable)
        if table.row_count == 0:
            return
        record_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        try:
            vault = self.vault
            contact = vault.get(record_id)
        except VaultError as error:
            self.failed(error)
            return
        ask_hold_or_release(
            self.app,
            contact,
            vault.today(),
            hold=lambda why, requested: vault.hold(record_id, reason=why, requested=requested),
            held=lambda done: self._held(done, contact.name),
            release=lambda informed: self._release(record_id, informed),
        )

    def _held(self, done: bool | None, name: str) -> None:
        if done:
            self.changed = True
            self.fill(keep_status=True)
            self.status(
                _("{name} is on hold: the purge keeps the record until it is released.").format(name=printable(name))
            )

    @work(thread=True, exclusive=True, exit_on_error=False, group="release")
    def _release(self, record_id: str, informed: date | None) -> None:
        # A release may complete a waiting erasure, which scrubs the file: not on the event loop.
        self.changed = True
        try:
            kept = self.vault.release(record_id, informed=informed)
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        self.app.call_from_thread(self._released, kept is None)

    def _released(self, erased: bool) -> None:
        self.fill(keep_status=True)
        self.status(
            _("Hold released: the erasure that was waiting for it is done, the record was erased.")
            if erased
            else _("Hold released: the purge deletes the record once its retention has ended.")
        )
