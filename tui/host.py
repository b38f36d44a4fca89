"""What the screens need from the app, and the facts they tell it.

Screens and widgets never import ``tui.app`` (an import-linter contract holds
them to it): the app hands each screen a :class:`VaultHost` when it creates it,
and screens report what happened with messages that bubble up to the app.
Any object with these members can host the screens, so a test can mount one
in a small app of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from textual.message import Message

from vault.service import Vault


class VaultHost(Protocol):
    """The app as the screens see it: one vault file, opened at most once."""

    @property
    def vault(self) -> Vault | None:
        """The open vault (locked or not), or None before the first unlock."""
        ...

    @property
    def vault_path(self) -> Path:
        """The vault file the app works on."""
        ...

    def open_vault(self) -> Vault:
        """The vault object, opened locked on first use (safe to call from a thread worker)."""
        ...

    def create_vault(self, passphrase: str) -> Vault:
        """Create the vault file and return it unlocked (safe to call from a thread worker)."""
        ...


@dataclass
class VaultOpened(Message):
    """The KDF finished and the contacts are decrypted (the vault carries no passphrase).

    Posted by the unlock and create screens; it bubbles up to the app, which
    shows the contact list.
    """

    vault: Vault


class ListBuilt(Message):
    """The list screen finished building what it keeps while the vault is unlocked (every
    order of the data and its search): the app moves it out of the cyclic collector's way."""
