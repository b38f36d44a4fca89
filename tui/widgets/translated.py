"""Key descriptions in the language chosen at run time (vault.i18n, issue 14).

Textual's ``BINDINGS`` are class attributes, made when a module is imported, before
the CLI has chosen the language; Textual copies them into each node's ``_bindings``
when the node is created.  The descriptions are marked with ``N_()`` where they are
written, and :class:`Translated` passes them through ``_()`` once the node exists, so
the footer, the help panel and the palette speak the language set before the app was
made (and English and German apps can follow each other in one process).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.screen import Screen
from textual.widgets import Footer

from vault.i18n import N_, _


def translated(bindings: BindingsMap) -> None:
    """Replace each binding in ``bindings`` by one with translated description and tooltip."""
    for key, group in list(bindings.key_to_bindings.items()):
        bindings.key_to_bindings[key] = [
            replace(
                binding,
                description=_(binding.description) if binding.description else "",
                tooltip=_(binding.tooltip) if binding.tooltip else "",
            )
            for binding in group
        ]


class Translated:
    """Mixin for a screen, widget or app (first in the bases): its key descriptions in the current language."""

    _bindings: BindingsMap

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translated(self._bindings)


# Texts Textual itself shows (the footer's palette key, its palette entries and search
# box): marked here so the catalogue has them; the app passes them through _().
TEXTUAL_TEXTS = (
    N_("palette"),
    N_("Quit the app and return to the command prompt."),
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit"),
    N_("Quit the application as soon as possible"),
    N_("Search for commands…"),
)


class FittingFooter(Footer):
    """A compact footer that gives the palette key's room (ctrl+p, named in the help) to the
    screen's keys when they need it: German labels are longer than English ones, and no key
    (Lock first) may be cut off at 80 columns."""

    def compose(self) -> ComposeResult:
        self.set_reactive(Footer.show_command_palette, self._palette_fits())
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Under another screen (the list under the purge preview or a form) nobody sees it, and
        # rebuilding it there held that screen's next frame by 40-80 ms at 100k contacts (issue
        # 15).  Textual tells it again when its screen is back on top (ScreenResume).
        if screen.is_active:
            super().bindings_changed(screen)

    def on_resize(self) -> None:
        if self._palette_fits() != self.show_command_palette:
            self.call_after_refresh(self.recompose)

    def _palette_fits(self) -> bool:
        width = self.size.width or self.app.size.width
        bindings = self.screen.active_bindings
        shown: dict[str, Binding] = {}  # one key per action, as the footer shows them
        for _node, binding, _enabled, _tooltip in bindings.values():
            if binding.show:
                shown.setdefault(binding.action, binding)
        palette = bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None:
            shown["command_palette"] = palette[1]
        need = sum(cell_len(self.app.get_key_display(b)) + cell_len(b.description) + 2 for b in shown.values())
        return need <= width


def shown(text: str) -> str:
    """A core text marked with N_() (a rule's label, reference, trigger) in the current language;
    "" stays "" (gettext would answer the catalogue's header)."""
    return _(text) if text else ""


def first_upper(text: str) -> str:
    """``text`` with its first letter upper-case, the rest as it is (German nouns keep theirs)."""
    return text[:1].upper() + text[1:]
