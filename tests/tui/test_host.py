"""Screens talk to the app through ``tui.host`` only (issue 9): any ``VaultHost`` can run them."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.app import App

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock
from tests.tui.helpers import SIZE, seed, unlock
from tui.host import VaultOpened
from tui.screens.unlock import UnlockScreen
from vault.service import Vault

TUI = Path(__file__).parents[2] / "tui"


class TinyHost(App[None]):
    """Not sealbook's app: just the members of ``tui.host.VaultHost``, and a record of what it hears."""

    def __init__(self, path: Path, clock: FixedClock) -> None:
        super().__init__()
        self.vault: Vault | None = None
        self.vault_path = path
        self.clock = clock
        self.opened: list[Vault] = []

    def open_vault(self) -> Vault:
        if self.vault is None:
            self.vault = Vault(self.vault_path, clock=self.clock)
        return self.vault

    def create_vault(self, passphrase: str) -> Vault:
        return Vault.create(self.vault_path, passphrase, kdf=WEAK_KDF, allow_weak_kdf=True, clock=self.clock)

    def on_mount(self) -> None:
        self.push_screen(UnlockScreen(self))

    def on_vault_opened(self, message: VaultOpened) -> None:
        self.opened.append(message.vault)


async def test_the_unlock_screen_runs_in_any_host_and_reports_the_opened_vault(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock)
    app = TinyHost(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, PASSPHRASE)
        assert [vault is app.vault for vault in app.opened] == [True]
        assert not app.opened[0].is_locked
    app.opened[0].close()


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (``if TYPE_CHECKING:`` blocks included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_screen_or_widget_imports_the_app() -> None:
    offenders = [
        f"{path.relative_to(TUI.parent)}: {name}"
        for folder in ("screens", "widgets")
        for path in sorted((TUI / folder).rglob("*.py"))
        for name in _imported_modules(path)
        if name == "tui.app" or name.startswith("tui.app.") or name == "tui.cli" or name.startswith("tui.cli.")
    ]
    assert offenders == []
