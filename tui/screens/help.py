"""The help screen: every key and what it does."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from tui.widgets.safe import literal
from tui.widgets.translated import Translated
from vault.i18n import N_, _

HELP = N_("""\
sealbook keeps your contacts encrypted. Every action has a key; the
footer shows the most used ones, and ctrl+p (the command palette)
lists them all.

Contact list
  /          search: type part of a name, e-mail, phone or organisation
             (case and accents do not matter: "muller" finds "Müller")
  enter      from the search box: go to the list
  up/down    move (or j/k); pgup/pgdn page
  home/end   first / last (or g/G)
  n          new contact          e  edit the selected contact
  d          erase (Art. 17): deleted now, or restricted while a
             retention duty (Art. 17(3)(b)), legal claims (17(3)(e)) or
             a legal hold keep it; you choose what stays until then
  r          restrict / lift the restriction (Art. 18)
  h          put on / release a legal hold, with its reason (the purge
             skips held records); lifting what the person asked for
             needs the day you informed them (Art. 18(3))
  v          consent reviewed: still needed, the next review moves on
  t          show or hide restricted records (hidden by default)
  s          sort by first name, surname or retention end

Everywhere
  ctrl+l     lock now: decrypted data is dropped from memory
  ?          this help         ctrl+p  command palette      ctrl+q  quit

Other jobs
  x          export everything about one person (Art. 15/20), starting
             with the selected contact; ctrl+s exports
  i          import vCard or CSV: a preview lists every problem;
             ctrl+s imports all, ctrl+r the rest without them
  p          purge: what is due within 30 days, the deletion log;
             r runs the purge (asks first), h holds or releases,
             a filters the log by action
  q          data-subject requests: o opens, e extends (two months,
             with the reason and the day the person was told),
             c marks answered; overdue ones show on the status line
  y          sync: s sets up the target (checked at once), u pushes,
             l pulls

The vault locks itself after the idle time set in the config
(idle_lock_minutes, default 5).
""")


# What each action of the contact list does, for the command palette (ctrl+p), which shows it
# with the key (marked with N_: the palette passes them through _()).
ACTION_HELP: dict[str, str] = {
    "focus_search": N_("Find contacts by name, e-mail, phone or organisation"),
    "add": N_("Add a contact"),
    "edit": N_("Edit the selected contact"),
    "erase": N_("Erase the selected contact (Art. 17): deleted now, or restricted while a duty applies"),
    "restrict": N_("Restrict the selected contact, or lift the restriction (Art. 18)"),
    "hold": N_("Put the selected contact on legal hold (with its reason), or release it"),
    "sort": N_("Sort by first name, surname or retention end"),
    "toggle_restricted": N_("Show or hide restricted records"),
    "reviewed": N_("The selected consent record is still needed: move its next review on"),
    "export": N_("Export everything held about one person (Art. 15 / Art. 20)"),
    "import": N_("Import contacts from a vCard or CSV file, or a folder of .vcf files"),
    "purge_preview": N_("Purge: what is due, run it, hold records; the deletion log"),
    "requests": N_("Data-subject requests: open, extend, mark answered; deadlines"),
    "sync_status": N_("Encrypted copy on webspace: state, push and pull"),
    "settings": N_("Settings: auto-lock, controller, processors, phone region, languages (saved to the config file)"),
}

# Beside HELP rather than in it, so HELP's translation stays whole; {path} is the file the app uses.
SETTINGS_HELP = N_("""\
Settings
  o          auto-lock minutes, controller and supervisory authority,
             processors, default phone region, app and letter language;
             ctrl+s saves them to the config file:
  {path}""")


class HelpScreen(Translated, ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", N_("Lock")),
        Binding("escape,q,question_mark", "close", N_("Close")),
    ]

    def __init__(self, config_path: Path | None = None) -> None:
        super().__init__()
        self.config_path = config_path

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(Text(_("Help"), style="bold"))
            yield Static(Text(_(HELP)))
            if self.config_path is not None:  # a path may hold any character: shown literally
                yield Static(
                    literal(_(SETTINGS_HELP).format(path=self.config_path), multiline=True), id="help-settings"
                )
            yield Button(_("Close (esc)"), id="close")
        yield Footer()  # this modal's keys, over the list's footer

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
