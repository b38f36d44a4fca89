"""The Textual app: create/unlock, the contact list, lock and idle auto-lock.

``make_app`` is the factory the CLI and the tests share; tests pass a fixed
clock and cheap KDF parameters through it (never a global switch).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import rich
from rich.text import Text
from rich.traceback import Traceback
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.screen import Screen

from tui import ahead
from tui.crash import EXIT_INTERNAL, crash_line, crash_report
from tui.host import ListBuilt, VaultOpened
from tui.keyorder import KeyHandled, KeyOrder
from tui.screens.contacts import ContactsScreen
from tui.screens.form import ContactForm
from tui.screens.help import HelpScreen
from tui.screens.settings import SettingsScreen
from tui.screens.unlock import CreateScreen, UnlockScreen
from tui.widgets import contact_table
from tui.widgets.translated import Translated
from vault import search
from vault.config import Config, default_config_path
from vault.errors import VaultBusy, VaultError
from vault.hardening import return_free_memory
from vault.i18n import N_, _, ngettext
from vault.service import KdfParams, Vault, utc_now

Clock = Callable[[], datetime]

REFRESH_SECONDS = 2.0
IDLE_CHECK_SECONDS = 5.0
BUSY_RETRY_SECONDS = 10.0  # after a busy vault made a refresh wait, leave it alone this long
IDLE_WARN_SECONDS = 60  # with a form open, auto-lock warns this long before (at most half the idle time)
UNLOCK_SCREEN = "unlock"  # the installed unlock screen (see SealbookApp._unlock_screen)
BUSY_NOTE = N_("the vault is busy (another sealbook process is writing); it refreshes when it can")


# Screens that hold typed, unsaved input: auto-lock warns first, and the next unlock says what was lost.
EDITORS = (ContactForm, SettingsScreen)


class SealbookApp(Translated, App[None]):
    """sealbook's terminal front end; it reaches the core only through :class:`Vault`.

    It is the :class:`tui.host.VaultHost` of its screens: it hands itself to each
    screen it creates, and the screens never import this module.
    """

    TITLE = "sealbook"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown in each screen's footer; here so they work everywhere, modals included.
        Binding("ctrl+l", "lock", N_("Lock"), priority=True),
        Binding("question_mark", "help", N_("Help"), show=False),
        Binding("ctrl+q", "quit", N_("Quit"), show=False),  # in the palette; the list's footer is full
    ]

    def __init__(
        self,
        vault_path: Path,
        config: Config,
        *,
        clock: Clock = utc_now,
        kdf: KdfParams | None = None,
        allow_weak_kdf: bool = False,
        config_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.vault_path = Path(vault_path)
        self.config = config
        self.config_path = config_path or default_config_path()  # the file the settings screen writes
        self.clock = clock
        self.kdf = kdf
        self.allow_weak_kdf = allow_weak_kdf
        self.vault: Vault | None = None
        self.last_activity = time.monotonic()
        self._idle_warned: float | None = None  # the last_activity the idle warning was given for
        self._busy_since: float | None = None  # when a refresh last found the vault busy
        self._discarded: list[str] = []  # unsaved forms a lock closed: which ones, never their content
        self._keys = KeyOrder(self)

    # --- life cycle ------------------------------------------------------------------

    def on_mount(self) -> None:
        self.sub_title = _("locked")
        self.push_screen(self._unlock_screen() if self.vault_path.exists() else CreateScreen(self))
        self.set_interval(REFRESH_SECONDS, self.refresh_from_disk, name="refresh")
        self.set_interval(IDLE_CHECK_SECONDS, self.check_idle_lock, name="idle-lock")

    def _unlock_screen(self) -> str:
        """The unlock screen, built once and kept (installed): a lock only shows it again, emptied,
        instead of composing it while the owner waits (issue 13.3).  It holds no secret: the
        passphrase field is emptied the moment it is submitted."""
        if self.is_screen_installed(UNLOCK_SCREEN):
            screen = self.get_screen(UNLOCK_SCREEN)
            assert isinstance(screen, UnlockScreen)
            if screen.is_mounted:
                screen.ready()
        else:
            self.install_screen(UnlockScreen(self), UNLOCK_SCREEN)
        return UNLOCK_SCREEN

    def on_unmount(self) -> None:
        gc.unfreeze()  # what an unlocked app froze is the process's garbage again once it ends
        if self.vault is not None:
            self.vault.close()
            self.vault = None

    def open_vault(self) -> Vault:
        """The vault object (opened locked on first use; called from the KDF worker)."""
        if self.vault is None:
            self.vault = Vault(self.vault_path, config=self.config, clock=self.clock)
        return self.vault

    def create_vault(self, passphrase: str) -> Vault:
        """Create the vault file (called from the KDF worker); returns it unlocked."""
        return Vault.create(
            self.vault_path,
            passphrase,
            kdf=self.kdf,
            allow_weak_kdf=self.allow_weak_kdf,
            config=self.config,
            clock=self.clock,
        )

    def on_vault_opened(self, message: VaultOpened) -> None:
        self.vault_opened(message.vault)

    def vault_opened(self, vault: Vault) -> None:
        """Show the contact list of the unlocked ``vault``."""
        self.vault = vault
        # 100k decrypted contacts are millions of long-lived objects; a full
        # garbage collection over them stalls a keystroke by ~200 ms.  Freezing
        # moves them out of the collector's way until the vault is locked.
        gc.collect()
        gc.freeze()
        self.sub_title = _("unlocked")
        self.last_activity = time.monotonic()
        self._busy_since = None
        if self._discarded:
            self.notify(
                _("The vault locked with unsaved changes; they were discarded: {forms}.").format(
                    forms=", ".join(self._discarded)
                ),
                severity="warning",
                timeout=12,
            )
            self._discarded = []
        if vault.kdf_below_floor:
            self.notify(
                _("This vault's key derivation is below today's safe settings; `sealbook passwd` can upgrade it."),
                severity="warning",
                timeout=8,
            )
        listed = ContactsScreen(self)
        self.switch_screen(listed)
        listed.call_later(self._freeze_long_lived)  # in its own queue: after it has loaded (on mount)
        self.set_timer(ahead.FORM_SECONDS, self._prepare_form)
        self.set_timer(ahead.PURGE_SECONDS, self._prepare_purge)

    def on_list_built(self, _message: ListBuilt) -> None:
        self._freeze_long_lived()  # the orders made between keystrokes after a reload, too

    def _freeze_long_lived(self) -> None:
        """Move what the list screen built on unlock (100k decoded contacts, orders, searches) out
        of the cyclic collector's way: every full collection walked it, one every ~25 keystrokes,
        stalling that keystroke by 150-300 ms (issue 15).  The young generations are collected
        first (cheap), so screens closed meanwhile are not frozen; older cyclic garbage is freed
        at the lock, which unfreezes before its collection."""
        if self.is_unlocked:
            gc.collect(1)
            gc.freeze()
            return_free_memory()  # what building the list made and dropped (C heap pages)

    def _prepare_form(self) -> None:
        """Build the blank new-contact form while the owner reads the list (tui.ahead); not while
        keys wait (the first `n` builds it then)."""
        if not self._keys.pending:
            ahead.build_form(self, self.vault)

    def _prepare_purge(self) -> None:
        """Build the purge preview while the owner reads the list (tui.ahead), as the form."""
        if not self._keys.pending:
            ahead.build_purge(self, self)

    def apply_config(self, config: Config) -> None:
        """Settings saved in the app take effect at once: the idle lock, the phone region of new
        contacts, the letter (the vault reads its config when it needs it)."""
        self.config = config
        if self.vault is not None:
            self.vault.config = config

    @property
    def is_unlocked(self) -> bool:
        return self.vault is not None and not self.vault.is_locked

    # --- lock -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While locked there is nothing to lock: hide the binding from the footer.
        return action != "lock" or self.is_unlocked

    def action_lock(self) -> None:
        self.lock(_("Locked."))

    def lock(self, reason: str) -> None:
        """Drop decrypted data and keys, close every screen, ask for the passphrase."""
        if not self.is_unlocked:
            return
        assert self.vault is not None
        # Say after the next unlock which forms lost typed input (their content is gone with the screens).
        self._discarded += [s.describe() for s in self.screen_stack if isinstance(s, EDITORS) and s.has_changes]
        dropped: list[object] = []  # the decrypted index, freed after the unlock screen is drawn
        self.vault.lock(free_later=dropped)
        search.clear_caches()
        contact_table.clear_caches()
        gc.unfreeze()  # let the dropped contacts be collected
        self.sub_title = _("locked")
        shown = list(self.screen_stack)
        while len(self.screen_stack) > 2:
            self.pop_screen()
        ahead.drop(self, popped=shown)  # the blank form and the purge preview go with the keys
        # The list screen still holds every contact until Textual has removed it; collect after
        # that, not before the unlock screen shows (a full collection takes ~1 s at 100k).
        switched = self.switch_screen(self._unlock_screen())
        self.notify(reason)

        async def collect() -> None:
            """Free what the locked vault and its screens held (cycles too), once they are gone and
            the unlock screen is drawn: a full collection takes ~1 s at 100k contacts."""
            await switched

            def free() -> None:
                dropped.clear()
                if not self.is_unlocked:
                    gc.collect()

            self.set_timer(0.5, free)

        self.call_later(collect)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(
            event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp, events.Paste)
        ):
            self.last_activity = time.monotonic()
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self._keys.arrived(event, super().on_event)
            return
        await super().on_event(event)

    def on_key_handled(self, message: KeyHandled) -> None:
        message.stop()
        self._keys.handled(message)

    def check_idle_lock(self) -> None:
        """Lock once the owner has been idle for ``idle_lock_minutes`` (0 = never); with a form
        open, warn first (a minute before, or halfway for shorter idle times)."""
        minutes = self.config.idle_lock_minutes
        if not minutes or not self.is_unlocked:
            return
        idle = time.monotonic() - self.last_activity
        limit = minutes * 60
        if idle >= limit:
            self.lock(
                ngettext("Locked after {n} idle minute.", "Locked after {n} idle minutes.", minutes).format(n=minutes)
            )
            return
        left = limit - idle
        if (
            left <= min(IDLE_WARN_SECONDS, limit / 2)
            and self._idle_warned != self.last_activity
            and any(isinstance(screen, EDITORS) for screen in self.screen_stack)
        ):
            self._idle_warned = self.last_activity
            warning = _("locking in {seconds} s; press any key to stay").format(seconds=math.ceil(left))
            self.notify(warning, severity="warning", timeout=left)

    def refresh_from_disk(self) -> None:
        """Show changes other processes committed (the purge job, the CLI, a sync).

        Another process holding the write lock (a long import, the purge's
        VACUUM) makes the read wait up to SQLite's busy timeout, then fail with
        VaultBusy: said once, and tried again after BUSY_RETRY_SECONDS.
        """
        if not self.is_unlocked or any(worker.is_running for worker in self.workers):
            return
        if self._busy_since is not None and time.monotonic() - self._busy_since < BUSY_RETRY_SECONDS:
            return
        assert self.vault is not None
        try:
            changed = self.vault.refresh()
        except VaultBusy:
            if self._busy_since is None:
                self.notify(_(BUSY_NOTE), severity="warning", timeout=8)
            self._busy_since = time.monotonic()
            return
        except VaultError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self._busy_since = None
        if changed:
            for screen in self.screen_stack:
                if isinstance(screen, ContactsScreen):
                    screen.reload()

    # --- crash report -----------------------------------------------------------------

    def _fatal_error(self) -> None:
        """Textual's report of an unexpected exception: one line instead (tui.crash).

        Textual renders it with Rich's ``Traceback(show_locals=True)``; the frames
        of an unlock hold the passphrase, and others hold decrypted contacts, so
        sealbook shows one line and writes where it happened, frames only, to a
        0600 report (issue 10, case 12; issue 12).  Overrides a private
        Textual hook: tests/tui/test_unlock_secrecy.py fails if it stops being called.
        """
        self.bell()
        error = self._exception
        if error is None:
            self.panic(Traceback(show_locals=False, width=None, suppress=[rich]))
            return
        self.panic(Text(crash_line(error, crash_report(error))))

    # --- help and palette -----------------------------------------------------------

    def action_command_palette(self) -> None:
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(CommandPalette(placeholder=_("Search for commands…"), id="--command-palette"))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.config_path))

    # Textual's own palette entries that do not apply: a screenshot would write decrypted
    # contacts to disk as an SVG; the keys panel and maximising duplicate the help (?).
    HIDDEN_COMMANDS = frozenset({"Screenshot", "Keys", "Maximize", "Minimize"})

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in self.HIDDEN_COMMANDS:  # Textual's texts (tui.widgets.translated)
                yield SystemCommand(_(command.title), _(command.help), command.callback, command.discover)
        yield SystemCommand(_("Lock"), _("Lock the vault now: decrypted data is dropped (ctrl+l)"), self.action_lock)
        yield SystemCommand(_("Help"), _("Every key and what it does (?)"), self.action_help)
        if isinstance(screen, ContactsScreen):
            for binding in ContactsScreen.BINDINGS:
                assert isinstance(binding, Binding)
                if binding.action.startswith("app."):
                    continue
                action = getattr(screen, f"action_{binding.action}")
                key = binding.key_display or binding.key.split(",")[0]
                key = {"slash": "/", "question_mark": "?"}.get(key, key)
                help_text = _(ContactsScreen.DESCRIPTIONS.get(binding.action, binding.description))
                yield SystemCommand(_(binding.description), f"{help_text} ({key})", action)


def make_app(
    vault_path: Path,
    config: Config,
    *,
    clock: Clock = utc_now,
    kdf: KdfParams | None = None,
    allow_weak_kdf: bool = False,
    config_path: Path | None = None,
) -> SealbookApp:
    """The app for ``vault_path``; tests pass ``clock`` and cheap ``kdf`` settings.  The settings
    screen writes ``config_path`` (default: :func:`vault.config.default_config_path`)."""
    return SealbookApp(vault_path, config, clock=clock, kdf=kdf, allow_weak_kdf=allow_weak_kdf, config_path=config_path)


def run_app(vault_path: Path, config: Config, config_path: Path | None = None) -> int:
    """Run the app; an unexpected error ends it with one line and exit code 70."""
    app = make_app(vault_path, config, config_path=config_path)
    app.run()
    return EXIT_INTERNAL if app.return_code else 0
