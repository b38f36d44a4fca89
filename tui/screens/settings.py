"""Settings: the owner's config file, edited in the app (issue 13, point 7).

Auto-lock minutes, the controller's name and address, the supervisory authority,
the processors, the default phone region and the languages; ctrl+s writes what
changed into the config file (:func:`vault.settings.save_settings`: comments and
other keys stay as they are) and the running app uses it at once.  A refused value
is shown at its field and in the message line, and nothing typed is lost.  Escape
asks before it drops changes.  The screen names the file it writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from tui.widgets.safe import literal
from tui.widgets.translated import Translated
from tui.widgets.unsaved import confirm_cancel, field_values
from vault.config import Config
from vault.errors import VaultError
from vault.i18n import N_, _
from vault.settings import SettingRefused, Settings, parse_processor_lines, processor_lines, save_settings


@runtime_checkable
class SettingsHost(Protocol):
    """What the settings screen needs from the app: the config in use, its file, and a way to
    put a new one into effect."""

    @property
    def config(self) -> Config: ...

    @property
    def config_path(self) -> Path: ...

    def apply_config(self, config: Config) -> None: ...


IDLE_REFUSED = N_("idle_lock_minutes must be 0..1440 (0 = never)")  # vault.config's sentence
PROCESSORS_HINT = N_(
    "One a line: name | purpose | country | role | transfer | adequacy decision. Name and country "
    "(two letters) are needed; role is processor (Art. 28 GDPR, the default) or controller. Outside "
    "the EU/EEA give the transfer: adequacy (with the decision), scc or bcr. "
    "E.g. Hetzner Online GmbH | web hosting | DE"
)
# The order the fields appear in (and Tab visits them); a refused one gets the focus.
FIELDS = (
    "idle_lock_minutes",
    "controller_name",
    "controller_address",
    "supervisory_authority",
    "processors",
    "region",
    "language",
    "letter_language",
)


class SettingsScreen(Translated, ModalScreen[Config | None]):
    """Edit the settings; dismisses with the config now in effect (None: nothing saved)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "app.lock", N_("Lock")),  # in the footer: the app's priority binding does it
        Binding("ctrl+s", "save", N_("Save"), priority=True),
        Binding("escape", "cancel", N_("Cancel")),
    ]
    AUTO_FOCUS = ""  # the first field gets it in on_mount, before keys typed right after `o` arrive

    # All of it here: the app's stylesheet belongs to the other screens, and changes with them.
    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen #settings { width: 96; max-width: 100%; height: 95%; max-height: 100%; }
    SettingsScreen #settings-body { height: 1fr; }
    SettingsScreen #settings-path { color: $text-muted; margin-bottom: 1; }
    SettingsScreen .setting { height: auto; }
    SettingsScreen .setting-label { text-style: bold; width: 100%; padding-left: 1; }
    SettingsScreen .setting-hint { color: $text-muted; width: 100%; padding-left: 1; }
    SettingsScreen .setting-error { color: $error; text-style: bold; width: 100%; padding-left: 1; }
    SettingsScreen #controller_address { height: 4; }
    SettingsScreen #processors { height: 6; }
    SettingsScreen #settings-error { color: $error; text-style: bold; width: 100%; margin-top: 1; }
    SettingsScreen .buttons { height: auto; margin-top: 1; }
    SettingsScreen .buttons Button { margin-right: 2; }
    """

    def __init__(self, host: SettingsHost) -> None:
        super().__init__()
        self.host = host
        self.path = host.config_path
        self.before = Settings.of(host.config)  # what the fields show: only what differs is written
        self._initial: tuple[object, ...] | None = None
        self.errors: dict[str, str] = {}

    # --- layout ------------------------------------------------------------------

    def _field(self, label: str, widget: Widget, field_id: str, hint: str = "") -> ComposeResult:
        with Vertical(classes="setting", id=f"field-{field_id}"):
            yield Label(label, classes="setting-label")
            yield widget
            if hint:
                yield Label(hint, classes="setting-hint", markup=False)
            yield Label("", id=f"error-{field_id}", classes="setting-error", markup=False)

    def compose(self) -> ComposeResult:
        s = self.before
        languages = [(_("as the environment says (LANG)"), ""), ("English", "en"), ("Deutsch", "de")]
        letter_languages = [(_("the app's language"), ""), ("English", "en"), ("Deutsch", "de")]
        with Vertical(id="settings", classes="dialog"):
            yield Static(Text(_("Settings"), style="bold"), id="settings-title")
            with VerticalScroll(id="settings-body"):
                yield Static(
                    literal(_("Saved to the config file {path}").format(path=self.path), multiline=True),
                    id="settings-path",
                )
                yield from self._field(
                    _("Lock after this many idle minutes (0 = never)"),
                    Input(str(s.idle_lock_minutes), id="idle_lock_minutes"),
                    "idle_lock_minutes",
                )
                yield from self._field(
                    _("Controller: your name or your business's (Art. 4(7) GDPR)"),
                    Input(s.controller_name, id="controller_name"),
                    "controller_name",
                )
                yield from self._field(
                    _("Controller's postal address"),
                    TextArea(s.controller_address, id="controller_address", soft_wrap=True),
                    "controller_address",
                )
                yield from self._field(
                    _("Supervisory authority (named in the answer letter, Art. 15(1)(f) GDPR)"),
                    Input(s.supervisory_authority, id="supervisory_authority"),
                    "supervisory_authority",
                )
                yield from self._field(
                    _("Processors and other recipients (Art. 15(1)(c) GDPR)"),
                    TextArea(processor_lines(s.processors), id="processors", soft_wrap=True),
                    "processors",
                    _(PROCESSORS_HINT),
                )
                yield from self._field(
                    _("Default phone region (two letters, e.g. DE): for numbers typed without +country code"),
                    Input(s.region, id="region"),
                    "region",
                )
                yield from self._field(
                    _("Language of the app (takes effect at the next start)"),
                    Select(languages, value=s.language or "", allow_blank=False, id="language"),
                    "language",
                )
                yield from self._field(
                    _("Language of the answer letter"),
                    Select(letter_languages, value=s.letter_language or "", allow_blank=False, id="letter_language"),
                    "letter_language",
                )
            yield Label("", id="settings-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(_("Save (ctrl+s)"), variant="primary", id="save")
                yield Button(_("Cancel (esc)"), id="cancel")
        yield Footer()  # this modal's keys, over the list's footer

    def on_mount(self) -> None:
        for label in self.query(".setting-error, #settings-error"):
            label.display = False
        self._initial = self._values()
        # At once (not via the app's queue): keys typed right after `o` must find this field focused.
        self.set_focus(self.query_one("#idle_lock_minutes", Input), scroll_visible=False)

    # --- values ------------------------------------------------------------------

    def _values(self) -> tuple[object, ...]:
        return field_values(self)

    @property
    def has_changes(self) -> bool:
        """Whether anything differs from the screen as it was opened (unsaved work)."""
        return self._initial is not None and self._values() != self._initial

    def describe(self) -> str:
        """What a lock discarded, without its content."""
        return _("the settings")

    def _text(self, field_id: str) -> str:
        widget = self.query_one(f"#{field_id}")
        if isinstance(widget, TextArea):
            return widget.text
        assert isinstance(widget, Input)
        return widget.value

    def _choice(self, field_id: str) -> str | None:
        value = self.query_one(f"#{field_id}", Select).value
        return value if isinstance(value, str) and value else None

    def settings(self) -> Settings:
        """The fields as settings (raises SettingRefused for a value that is not even a number)."""
        try:
            idle = int(self._text("idle_lock_minutes").strip())
        except ValueError:
            raise SettingRefused("idle_lock_minutes", _(IDLE_REFUSED)) from None
        return Settings(
            idle_lock_minutes=idle,
            controller_name=self._text("controller_name").strip(),
            controller_address=self._text("controller_address").strip(),
            supervisory_authority=self._text("supervisory_authority").strip(),
            processors=parse_processor_lines(self._text("processors")),
            region=self._text("region").strip().upper(),
            language=self._choice("language"),
            letter_language=self._choice("letter_language"),
        )

    # --- saving --------------------------------------------------------------------

    def _set_error(self, field_id: str, message: str | None) -> None:
        label = self.query_one(f"#error-{field_id}" if field_id in FIELDS else "#settings-error", Label)
        label.update(message or "")
        label.display = bool(message)
        if message:
            self.errors[field_id] = message
        else:
            self.errors.pop(field_id, None)

    def action_save(self) -> None:
        for field_id in (*FIELDS, "form"):
            self._set_error(field_id, None)
        try:
            settings = self.settings()
            config = save_settings(self.path, settings, before=self.before)
        except SettingRefused as error:
            field_id = error.setting if error.setting in FIELDS else "form"
            self._set_error(field_id, error.detail or str(error))
            self._set_error("form", _("Not saved: {reason}").format(reason=str(error)))
            if field_id in FIELDS:
                self.query_one(f"#{field_id}").focus()  # scrolls it, its label and its message into view
            return
        except VaultError as error:  # the file cannot be read or written: everything typed stays
            self._set_error("form", _("Not saved: {reason}").format(reason=str(error)))
            return
        self.host.apply_config(config)
        self.notify(_("Settings saved to {path}.").format(path=self.path), markup=False)
        self.dismiss(config)

    def action_cancel(self) -> None:
        confirm_cancel(
            self,
            changed=self.has_changes,
            body=_("The settings you changed have not been saved. y discards the changes, n returns to the settings."),
        )

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
