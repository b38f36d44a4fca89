"""First run (create a vault) and unlock: the KDF runs in a thread worker.

The passphrase travels to the worker inside a :class:`Secret`, never as a bare
string: Textual keeps a worker's arguments (and their ``repr`` in its
description) for as long as the worker lives, and a crash report would show
them.  The app also prints crash reports without local variables
(see the app's ``_fatal_error``), since the core's frames hold the passphrase too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from tui.host import VaultHost, VaultOpened
from tui.widgets.translated import Translated
from vault.errors import VaultError
from vault.i18n import N_, _


class Secret:
    """A passphrase on its way to the KDF: masked in every ``repr``, handed out once.

    ``take`` returns the passphrase and forgets it, so the object a worker was
    given no longer holds it once the key derivation has started.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def take(self) -> str:
        value, self._value = self._value, ""
        return value


@dataclass
class VaultRefused(Message):
    """Unlocking or creating failed; ``reason`` is the VaultError's sentence."""

    reason: str


def strength(passphrase: str) -> tuple[str, str]:
    """A rough indication (word, css class): length and variety, not a promise."""
    classes = sum(
        any(test(ch) for ch in passphrase)
        for test in (str.islower, str.isupper, str.isdigit, lambda ch: not ch.isalnum())
    )
    score = len(passphrase) + 3 * classes
    if len(passphrase) < 8:
        return _("too short (at least 8 characters)"), "weak"
    if score < 20:
        return _("weak: use more words"), "weak"
    if score < 30:
        return _("fair"), "fair"
    return _("strong"), "strong"


class _PassphraseScreen(Translated, Screen[None]):
    """Shared busy state and error display."""

    def __init__(self, host: VaultHost) -> None:
        super().__init__()
        self.host = host

    def set_busy(self, busy: bool, message: str = "") -> None:
        self.query_one("#busy", LoadingIndicator).display = busy
        self.query_one("#busy-label", Label).update(message if busy else "")
        for widget in self.query(Input):
            widget.disabled = busy
        for button in self.query(Button):
            button.disabled = busy
        if not busy:
            self.query(Input).first().focus()

    def show_error(self, reason: str) -> None:
        label = self.query_one("#error", Label)
        label.update(reason)
        label.display = True

    def on_vault_refused(self, message: VaultRefused) -> None:
        self.set_busy(False)
        self.show_error(message.reason)
        for widget in self.query(Input):
            widget.value = ""
        self.query(Input).first().focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # VaultErrors are turned into VaultRefused inside the worker; anything
        # else is a bug, and must crash loudly (and fail the tests).
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            raise event.worker.error


class UnlockScreen(_PassphraseScreen):
    """Ask for the passphrase of an existing vault."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "app.quit", N_("Quit")),
        Binding("question_mark", "app.help", N_("Help")),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="dialog", classes="passphrase-box"):
            yield Static(_("LOCKED · enter the passphrase to open the vault"), id="lock-state")
            yield Label(_("Vault: {path}").format(path=self.host.vault_path), id="vault-path", markup=False)
            yield Input(placeholder=_("Passphrase"), password=True, id="passphrase")
            yield Label("", id="error", classes="error", markup=False)
            yield Button(_("Unlock"), variant="primary", id="unlock")
            yield LoadingIndicator(id="busy")
            yield Label("", id="busy-label")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#error").display = False
        self.query_one("#busy").display = False
        self.query_one("#passphrase").focus()

    def ready(self) -> None:
        """Empty and waiting again: the app keeps this screen and shows it at every lock."""
        self.query_one("#error").display = False
        self.query_one("#passphrase", Input).value = ""
        self.set_busy(False)

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def submit(self) -> None:
        field = self.query_one("#passphrase", Input)
        secret = Secret(field.value)
        if not secret:
            self.show_error(_("Enter the passphrase."))
            return
        field.value = ""
        self.query_one("#error").display = False
        self.set_busy(True, _("Deriving the key and decrypting the contacts…"))
        self.unlock(secret)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kdf")
    def unlock(self, secret: Secret) -> None:
        try:
            vault = self.host.open_vault()
            vault.derive_keys(secret.take())
            try:
                vault.load_contacts()
            except BaseException:
                vault.lock()
                raise
        except VaultError as error:
            self.post_message(VaultRefused(str(error)))
        else:
            self.post_message(VaultOpened(vault))


class CreateScreen(_PassphraseScreen):
    """First run: choose the passphrase of a new vault."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "app.quit", N_("Quit"))]

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="dialog", classes="passphrase-box"):
            yield Static(_("Create a new vault"), id="create-title")
            yield Label(_("Vault: {path}").format(path=self.host.vault_path), id="vault-path", markup=False)
            yield Static(
                _(
                    "The passphrase encrypts every contact in this vault and the copies you sync. "
                    "It cannot be recovered: if you forget it, the contacts are lost. "
                    "Use several words that you do not use elsewhere."
                ),
                id="explain",
            )
            yield Input(placeholder=_("Passphrase"), password=True, id="passphrase")
            yield Label("", id="strength")
            yield Input(placeholder=_("Repeat the passphrase"), password=True, id="repeat")
            yield Label("", id="error", classes="error", markup=False)
            yield Button(_("Create vault"), variant="primary", id="create")
            yield LoadingIndicator(id="busy")
            yield Label("", id="busy-label")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#error").display = False
        self.query_one("#busy").display = False
        self.query_one("#passphrase").focus()

    @on(Input.Changed, "#passphrase")
    def rate(self, event: Input.Changed) -> None:
        label = self.query_one("#strength", Label)
        if not event.value:
            label.update("")
            return
        word, css = strength(event.value)
        label.update(_("Strength: {word}").format(word=word))
        label.set_classes(css)

    @on(Input.Submitted, "#passphrase")
    def next_field(self) -> None:
        self.query_one("#repeat", Input).focus()

    @on(Input.Submitted, "#repeat")
    @on(Button.Pressed, "#create")
    def submit(self) -> None:
        first = self.query_one("#passphrase", Input)
        repeat = self.query_one("#repeat", Input)
        if len(first.value) < 8:
            self.show_error(_("The passphrase must be at least 8 characters long."))
            return
        if first.value != repeat.value:
            self.show_error(_("The two passphrases differ; type them again."))
            repeat.value = ""
            repeat.focus()
            return
        secret = Secret(first.value)
        for widget in self.query(Input):
            widget.value = ""
        self.query_one("#error").display = False
        self.set_busy(True, _("Deriving the key and creating the vault…"))
        self.create(secret)

    @work(thread=True, exclusive=True, exit_on_error=False, group="kdf")
    def create(self, secret: Secret) -> None:
        try:
            vault = self.host.create_vault(secret.take())
        except VaultError as error:
            self.post_message(VaultRefused(str(error)))
        else:
            self.post_message(VaultOpened(vault))
