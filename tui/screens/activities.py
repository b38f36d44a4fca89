"""What the modal screens for the owner's less frequent jobs share.

The jobs themselves live beside it, one module per part of the core:
``exchange`` (export, Art. 15/20, and import), ``purge`` (the preview and the
deletion log), ``requests`` (data-subject requests) and ``sync``.

Every blocking call (export, import, sync) runs in a thread worker; results and
errors come back through ``call_from_thread``.  Stored text is rendered with
``literal`` (never as markup); messages carry counts and ids, never content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.host import VaultHost
from tui.widgets.safe import literal
from tui.widgets.translated import Translated
from vault.errors import VaultError
from vault.i18n import N_, _

if TYPE_CHECKING:
    from vault.service import Vault


class Activity(Translated, ModalScreen[None]):
    """A modal with a title, a status line and Escape to close.  Opaque: it covers the screen,
    and a see-through modal would redraw the list beneath at every refresh."""

    DEFAULT_CSS = "Activity { background: $background; }"

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", N_("Close"))]
    TITLE_TEXT = ""  # marked with N_() in each screen, translated in heading()

    def __init__(self, host: VaultHost) -> None:
        super().__init__()
        self.host = host

    @property
    def vault(self) -> Vault:
        vault = self.host.vault
        if vault is None or vault.is_locked:
            raise VaultError(_("the vault is locked"))
        return vault

    def heading(self) -> Static:
        return Static(Text(_(self.TITLE_TEXT), style="bold"), classes="activity-title")

    def status(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#status", Static)
        # Error texts and sync summaries may carry record ids from the file or the server.
        line.update(literal(text, "bold red" if error else "", multiline=True))

    def failed(self, error: VaultError) -> None:
        self.status(str(error), error=True)

    def action_close(self) -> None:
        self.dismiss(None)

    def name_of(self, record_id: str) -> Text:
        """The record's name, or the start of its id when it cannot be read."""
        try:
            return literal(self.vault.get(record_id).name)
        except VaultError:
            return literal(record_id[:8])
