"""Sync: set up the target (checked at once), the state in local time, push and pull with progress."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, ProgressBar, Static

from tui.screens.activities import Activity
from tui.screens.unlock import Secret
from tui.widgets.safe import literal
from tui.widgets.translated import Translated
from vault.errors import VaultError
from vault.i18n import N_, _, format_datetime, format_number

if TYPE_CHECKING:
    from vault.service import Vault


# What a sync did (vault.sync.report.SyncReport.action), as the status line says it.
SYNC_ACTIONS = {"pushed": N_("pushed"), "pulled": N_("pulled"), "up-to-date": N_("up to date"), "cloned": N_("cloned")}


class SyncScreen(Activity):
    """Sync state, and push/pull with a progress bar."""

    TITLE_TEXT = N_("Encrypted copy on webspace")
    BINDINGS: ClassVar[list[BindingType]] = [
        *Activity.BINDINGS,
        Binding("s", "setup", N_("Set up")),
        Binding("u", "push", N_("Push")),
        Binding("l", "pull", N_("Pull")),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog activity"):
            yield self.heading()
            yield Static("", id="sync-state")
            yield ProgressBar(total=100, show_eta=False, id="sync-progress")
            yield Static("", id="status")
            with Horizontal(classes="buttons"):
                yield Button(_("Set up (s)"), id="setup")
                yield Button(_("Push (u)"), id="push", variant="primary")
                yield Button(_("Pull (l)"), id="pull")
                yield Button(_("Close (esc)"), id="close")

    def on_mount(self) -> None:
        self.show_state()

    def show_state(self) -> None:
        try:
            state = self.vault.sync_status()
        except VaultError as error:
            self.failed(error)
            return
        if not state.configured:
            text = _("Sync is not set up. s sets it up: a folder, Nextcloud/WebDAV or SFTP.")
        else:
            text = _(
                "Target: {target}\nLast push: {push}   Last pull: {pull}\nCounter: {counter}   "
                "Changes not pushed yet: {pending}   Last blob: {size} bytes"
            ).format(
                target=state.target,
                push=local_time(state.last_push),
                pull=local_time(state.last_pull),
                counter=state.counter,
                pending=state.pending,
                size=format_number(state.blob_bytes),
            )
        self.query_one("#sync-state", Static).update(literal(text, multiline=True))
        for button in ("#push", "#pull"):
            self.query_one(button, Button).disabled = not state.configured

    def action_setup(self) -> None:
        try:
            vault = self.vault
        except VaultError as error:
            self.failed(error)
            return

        def done(target: str | None) -> None:
            if target:
                self.status(_("Sync set up: {target}. u pushes the first copy.").format(target=target))
                self.show_state()

        self.app.push_screen(SyncSetupDialog(vault), done)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "setup":
            self.action_setup()
        elif event.button.id == "push":
            self.action_push()
        elif event.button.id == "pull":
            self.action_pull()
        else:
            self.dismiss(None)

    def action_push(self) -> None:
        self.status(_("Pushing..."))
        self._sync("push")

    def action_pull(self) -> None:
        self.status(_("Pulling..."))
        self._sync("pull")

    def progress(self, stage: str, done: int, total: int) -> None:
        bar = self.query_one("#sync-progress", ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        self.status(
            _("{stage}: {done} of {total}").format(stage=_(stage), done=format_number(done), total=format_number(total))
        )

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _sync(self, direction: str) -> None:
        def report(stage: str, done: int, total: int) -> None:
            self.app.call_from_thread(self.progress, stage, done, total)

        try:
            operation = self.vault.sync_push if direction == "push" else self.vault.sync_pull
            result = operation(progress=report)
        except VaultError as error:
            self.app.call_from_thread(self.failed, error)
            return
        summary = _("{action}: counter {counter}, {added} added, {updated} updated, {deleted} deleted").format(
            action=_(SYNC_ACTIONS.get(result.action, result.action)),
            counter=result.counter,
            added=result.added,
            updated=result.updated,
            deleted=result.deleted,
        )
        if result.conflicts:
            conflicts = _("{n} record(s) changed on both devices: {ids}")
            summary += "; " + conflicts.format(n=len(result.conflicts), ids=", ".join(result.conflicts))
        if result.rejected:
            rejected = _("{n} remote item(s) rejected (did not authenticate)")
            summary += "; " + rejected.format(n=len(result.rejected))
        self.app.call_from_thread(self.status, summary + ".")
        self.app.call_from_thread(self.show_state)


def local_time(stamp: str | None) -> str:
    """A stored time (ISO 8601, UTC when it names no zone) in the local time zone, to the minute."""
    if not stamp:
        return _("never")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment.astimezone())


class SyncSetupDialog(Translated, ModalScreen[str | None]):
    """Where the encrypted copy goes: the target is checked at once (the folder exists, the server
    answers, the credentials and the host key are accepted) and saved only then."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", N_("Lock")),  # in the footer: the app's priority binding does it
        Binding("ctrl+s", "ok", N_("Check and save"), priority=True),
        Binding("escape", "cancel", N_("Cancel")),
    ]
    DEFAULT_CSS = """
    SyncSetupDialog { align: center middle; }
    SyncSetupDialog .ask { width: 76; max-width: 100%; height: auto; max-height: 100%; }
    SyncSetupDialog .ask-label { text-style: bold; }
    SyncSetupDialog .hint { color: $text-muted; }
    SyncSetupDialog #setup-error { color: $error; text-style: bold; width: 100%; }
    SyncSetupDialog #sftp { height: auto; }
    """

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.vault = vault

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog ask"):
            yield Static(Text(_("Set up the encrypted copy"), style="bold"))
            yield Label(
                _(
                    "A folder (a mounted drive, a folder a sync client watches), Nextcloud/WebDAV "
                    "(https://cloud.example/remote.php/dav/files/USER/sealbook) or sftp://host/folder."
                ),
                classes="hint",
            )
            yield Label(_("Where"), classes="ask-label")
            yield Input(placeholder=_("folder path or URL"), id="sync-url", compact=True)
            yield Label(_("User (WebDAV, SFTP)"), classes="ask-label")
            yield Input(id="sync-user", compact=True)
            yield Label(
                _("App password (kept in the OS keyring or a 0600 file, never in the copy)"), classes="ask-label"
            )
            yield Input(password=True, id="sync-password", compact=True)
            with Vertical(id="sftp"):
                yield Label(_("SFTP: known_hosts file and key file (optional)"), classes="ask-label")
                yield Input(placeholder="~/.ssh/known_hosts", id="sync-known-hosts", compact=True)
                yield Input(placeholder="~/.ssh/id_ed25519", id="sync-identity", compact=True)
            yield Label("", id="setup-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Check and save (enter)"), variant="primary", id="ok", compact=True)
                yield Button(_("Cancel (esc)"), id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#setup-error").display = False
        self.query_one("#sftp").display = False
        self.query_one("#sync-url", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "sync-url":
            self.query_one("#sftp").display = event.value.strip().lower().startswith("sftp://")

    def on_input_submitted(self) -> None:
        self.action_ok()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_ok()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def error(self, message: str | None) -> None:
        label = self.query_one("#setup-error", Label)
        label.update(message or "")
        label.display = bool(message)

    def _busy(self, busy: bool) -> None:
        for widget in self.query("Input, Button"):
            widget.disabled = busy

    def action_ok(self) -> None:
        url = self.query_one("#sync-url", Input).value.strip()
        if not url:
            self.error(_("Where: give a folder path or a URL."))
            return
        if "://" not in url:
            url = str(Path(url).expanduser())
        user = self.query_one("#sync-user", Input).value.strip()
        secret = Secret(self.query_one("#sync-password", Input).value)
        known_hosts = self.query_one("#sync-known-hosts", Input).value.strip()
        identity = self.query_one("#sync-identity", Input).value.strip()
        self.error(_("Checking the target..."))
        self._busy(True)
        self._check(url, user, secret, known_hosts, identity)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync-setup")
    def _check(self, url: str, user: str, secret: Secret, known_hosts: str, identity: str) -> None:
        # The password travels in a Secret: a worker keeps its arguments (and their repr).
        try:
            password = secret.take() or None
            target = self.vault.sync_setup(url, user=user, password=password, known_hosts=known_hosts,
                                           identity=identity)  # fmt: skip
        except VaultError as error:
            self.app.call_from_thread(self._refused, str(error))
            return
        self.app.call_from_thread(self.dismiss, target)

    def _refused(self, reason: str) -> None:
        self._busy(False)
        self.query_one("#sync-password", Input).value = ""
        self.error(_("Not saved: {reason}").format(reason=reason))
        self.query_one("#sync-url", Input).focus()
