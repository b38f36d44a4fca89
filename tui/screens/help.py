"""The help screen: every key and what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

HELP = """\
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
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", "Lock"),
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(Text("Help", style="bold"))
            yield Static(Text(HELP))
            yield Button("Close (esc)", id="close")
        yield Footer()  # this modal's keys, over the list's footer

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
