"""Small modal screens: a yes/no confirmation and the help screen."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class Confirm(ModalScreen[bool]):
    """Ask before an action; the body explains what will happen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, body: Text | str, *, yes: str = "Yes", danger: bool = False) -> None:
        super().__init__()
        self._title = title
        self._body = body if isinstance(body, Text) else Text(body)
        self._yes = yes
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog"):
            yield Static(Text(self._title, style="bold"), id="confirm-title")
            yield Static(self._body, id="confirm-body")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} (y)", variant="error" if self._danger else "primary", id="yes")
                yield Button("Cancel (n)", id="no")
        yield Footer()  # this modal's keys, over the list's footer

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


HELP = """\
sealbook keeps your contacts encrypted. Every action has a key, shown in the
footer; ctrl+p opens the command palette, which lists them all.

Contact list
  /          search: type part of a name, e-mail, phone or organisation
             (case and accents do not matter: "muller" finds "Müller")
  enter      from the search box: go to the list
  up/down    move; pgup/pgdn, home/end jump
  n          new contact          e  edit the selected contact
  d          erase (Art. 17): deleted now, or restricted while a
             retention duty or legal hold applies (Art. 17(3)(b))
  r          restrict / lift the restriction (Art. 18)
  h          put on / release a legal hold (the purge skips held records)
  t          show or hide restricted records (hidden by default)
  s          sort by name or by retention end

Everywhere
  ctrl+l     lock now: decrypted data is dropped from memory
  ?          this help         ctrl+p  command palette      ctrl+q  quit

Other jobs
  x          export everything about one person (Art. 15/20)
  i          import vCard or CSV        p  purge preview and deletion log
  q          data-subject requests      y  sync status, push and pull

The vault locks itself after the idle time set in the config
(idle_lock_minutes, default 5).
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

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
