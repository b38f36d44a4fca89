"""The Textual app.  (Placeholder until the TUI issue lands.)"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from vault.config import Config


class SealbookApp(App[None]):
    TITLE = "sealbook"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, vault_path: Path, config: Config) -> None:
        super().__init__()
        self.vault_path = vault_path
        self.config = config

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("sealbook: the terminal app is not yet available; use the `sealbook` commands.",
                     markup=False)
        yield Footer()


def make_app(vault_path: Path, config: Config) -> SealbookApp:
    return SealbookApp(vault_path, config)


def run_app(vault_path: Path, config: Config) -> int:
    make_app(vault_path, config).run()
    return 0
