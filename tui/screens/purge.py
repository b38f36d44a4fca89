"""The purge: what it reaches in the next 30 days, running it now, overdue reviews, the deletion log.

The screen is built once per unlock and kept installed (issue 15: composing, styling and
laying out its widgets was two thirds of the ~300 ms ``p`` took); every showing reads the
vault anew before its first frame (``PurgeScreen.show``), and the lock drops it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Label, Static

from tui.host import VaultHost
from tui.screens.activities import Activity
from tui.screens.dialogs import Confirm, ask_hold_or_release
from tui.screens.table_fill import Row, TableFill
from tui.widgets.kept import discard, kept, resume_styles
from tui.widgets.safe import literal, printable
from vault.errors import VaultBusy, VaultError
from vault.i18n import N_, _, format_date, format_datetime, language, ngettext
from vault.service import Vault

if TYPE_CHECKING:
    from vault.model import AuditEntry  # what Vault.audit_log gives
    from vault.purge import PreviewRecord, ReviewDue  # what Vault.purge_preview, overdue_reviews give

NAMES_SHOWN = 5  # the confirmation names this many records (it must fit 80x24), then counts the rest
CHUNK = 100  # rows added to a table per screen refresh once the first screenful is shown (see TableFill)
HIDDEN_CHUNK, HIDDEN_PAUSE = 25, 0.05  # rows added, and seconds between, while the screen is not on top
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
        self._fills: list[TableFill] = []  # the tables still filling (see _add)
        self._filled: dict[str | None, TableFill] = {}  # each table's last fill, finished or not
        self.changed = False  # whether a record was purged, held or released here (the list reloads)
        self.built_for = (host.vault, language())  # see tui.widgets.kept
        self._ready = False  # its tables have their columns (on_mount ran): a showing can fill them

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

    REUSED = "purge-preview"  # the installed screen (see show)

    @classmethod
    def show(cls, app: App[Any], host: VaultHost, closed: Callable[[bool], None]) -> PurgeScreen:
        """Show the preview; ``closed(changed)`` runs when it closes.  Each showing starts as on a
        new screen (the vault read anew, every action in the log, the first row) before its first frame."""
        screen = cls.kept(app, host)
        app.push_screen(screen, lambda _: closed(screen.changed))
        screen._begin()
        return screen

    @classmethod
    def kept(cls, app: App[Any], host: VaultHost) -> PurgeScreen:
        """The installed screen for ``host``'s vault in today's language, installed if need be."""
        return kept(app, cls.REUSED, cls, (host.vault, language()), lambda: cls(host))

    @classmethod
    def discard(cls, app: App[Any], popped: Iterable[Screen[object]] = ()) -> None:
        """Drop the kept screen (lock, another vault, language); see tui.widgets.kept."""
        discard(app, cls.REUSED, popped)

    def on_mount(self) -> None:
        # A lock or quit in the moment the screen is built ahead (tui.ahead) removes it before its
        # Mount arrives: its widgets are gone (detached, or being pruned: `display` is False).
        # At the app's end (a quit, a test's end) Textual prunes it attached and displayed.
        tables = self.query(DataTable)
        if not (self.is_attached and self.display) or len(tables) != 3:
            return
        self.query_one("#purge-due", DataTable).add_columns(_("Name"), _("Retention end"), _("Purged from"), _("Hold"))
        self.query_one("#purge-reviews", DataTable).add_columns(_("Name"), _("Review date"), _("Retention end"))
        self.query_one("#purge-log", DataTable).add_columns(_("When (UTC)"), _("Action"), _("Record id"), _("Detail"))
        self._ready = True
        if self in self.app.screen_stack:  # shown (not built ahead, or `p` came while it was built)
            self._begin()
        else:  # built ahead: filled while the owner reads the list, `p` then finds the rows there
            self.fill()

    def _begin(self) -> None:
        """A showing starts: what the last one left goes, the vault is read anew."""
        self.changed = False
        if not self._ready:
            return  # on_mount calls it
        if self._log_filter is not None:
            self._log_filter = None
            self.query_one("#log-title", Label).update(self._log_title())
        for table in self.query(DataTable):  # the first row of each, as on a new screen
            table.move_cursor(row=0, column=0, animate=False, scroll=False)
            table.scroll_home(animate=False, immediate=True)
        self.fill()
        self.set_focus(self.query_one("#purge-due", DataTable), scroll_visible=False)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Restyling every node on a push clears each table's rendered cells: the kept screen would
        # draw every visible cell again (~40 ms at 160x50).  Not restyled unless the app's CSS
        # changed while it was hidden (a theme chosen meanwhile; tui.widgets.kept).
        if self._ready:
            resume_styles(self, event)

    def fill(self, *, keep_status: bool = False) -> None:
        """Read the preview, the reviews and the log from the vault and show them.  A table whose
        rows would show the same (the same items, the same names) keeps the rows it has: the
        kept screen's next showing then redraws from the tables' caches (issue 15)."""
        try:
            due = self.vault.purge_preview(30)
            reviews = self.vault.overdue_reviews()
            log = self.vault.audit_log(action=self._log_filter or self.LOGGED, last=LOG_ROWS)
            shown = ((*due, *self._names(due)), (*reviews, *self._names(reviews)), tuple(log))
        except VaultError as error:
            self.failed(error)
            return
        due_table = self.query_one("#purge-due", DataTable)
        cursor = min(due_table.cursor_row, len(due) - 1)
        self._fills = []  # a fill still running for the old contents stops (see _add)
        self._show(due_table, due, self._due_row, shown[0], cursor)
        self._show(self.query_one("#purge-reviews", DataTable), reviews, self._review_row, shown[1])
        self._show(self.query_one("#purge-log", DataTable), list(reversed(log)), self._log_row, shown[2])
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

    def _names(self, items: Sequence[PreviewRecord | ReviewDue]) -> tuple[str | None, ...]:
        """The names the rows of ``items`` show (None: unreadable, the row shows the id)."""
        vault, names = self.vault, list[str | None]()
        for item in items:
            try:
                names.append(vault.get(item.record_id).name)
            except VaultError:
                names.append(None)
        return tuple(names)

    def _show(
        self, table: DataTable[Any], items: Sequence[Any], row: Callable[[Any], Row], shows: tuple[object, ...],
        cursor: int = -1,
    ) -> None:  # fmt: skip
        """Show ``items`` in ``table``: the rows it has if they show the same (the cursor stays
        where it is: ``cursor`` is its row then), else anew."""
        last = self._filled.get(table.id)
        if last is None or last.shows != shows or table.row_count != last.added:
            self._start(table, items, row, cursor, shows)
        elif last.added < len(items):  # the same rows, some still to come
            last.cursor = -1  # a place an older fill was to return to is not
            last.chain += 1
            self._fills.append(last)
            self.call_after_refresh(self._add, last, CHUNK, last.chain)

    def _start(
        self, table: DataTable[Any], items: Sequence[Any], row: Callable[[Any], Row], cursor: int = -1,
        shows: tuple[object, ...] = (),
    ) -> None:  # fmt: skip
        """Fill ``table`` anew: the rows it can show now, the rest after the screen is drawn."""
        table.clear()
        fill = TableFill(table, items, row, cursor, shows=shows)
        self._fills.append(fill)
        self._filled[table.id] = fill
        # Before the first layout a table's height is unknown; none here shows more than half
        # the terminal's lines (the due table has 2 of the 4 shares the heading, labels, status
        # and buttons leave).  A fill that falls short only completes a refresh later.
        shown = table.size.height if table.size.height else self.app.size.height // 2 + 1
        self._add(fill, shown, fill.chain)

    def _add(self, fill: TableFill, count: int, chain: int) -> None:
        """``count`` more rows of ``fill``, then CHUNK more after each refresh until all are in;
        while the screen is not on top (closed and kept, or under a dialog) HIDDEN_CHUNK rows at a
        time, HIDDEN_PAUSE apart (the list stays quick, and the next showing finds them there).
        A newer fill (or the screen dropped) stops an older one."""
        if fill not in self._fills or chain != fill.chain or not fill.table.is_attached:
            return
        if not fill.add(count):
            self._fills.remove(fill)
        elif self.is_active:
            self.call_after_refresh(self._add, fill, CHUNK, chain)
        else:
            self.set_timer(HIDDEN_PAUSE, partial(self._add, fill, HIDDEN_CHUNK, chain))

    def _finish_fills(self) -> None:
        """Add every row still to come, so a key acts on the full table (ctrl+end reaches the last
        due record, h the row the cursor returned to), as when the fill had finished."""
        for fill in list(self._fills):
            self._add(fill, len(fill.items), fill.chain)

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
