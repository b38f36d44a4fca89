"""The audit key and this device's copy of it (vault.audit explains the log's seals).

Apart from vault.audit, which needs SQLAlchemy, so that an unlock without the
store's ORM (the one-shot read path, vault.lookup) keeps the key as every
unlock does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from vault import crypto
from vault.config import data_dir
from vault.errors import VaultError
from vault.fsutil import atomic_write, private_dir
from vault.i18n import _

LABEL_AUDIT = b"auditlog"
_SAFE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def audit_key(root: bytes | bytearray) -> bytes:
    """The key that seals audit rows, from the root key."""
    return crypto.derive_subkey(root, LABEL_AUDIT)


class AuditKeyFile:
    """This device's copy of one vault's audit key (32 bytes, 0600, in the data folder)."""

    def __init__(self, vault_id: str, device_id: str, directory: Path | None = None) -> None:
        if not (_SAFE.match(vault_id) and _SAFE.match(device_id)):
            raise VaultError(_("the vault or device id is not safe as a file name"))
        self.path = (directory or data_dir() / "audit") / f"{vault_id}-{device_id}.key"

    def load(self) -> bytes | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            key = handle.read(64)
        return key if len(key) == 32 else None

    def save(self, key: bytes) -> None:
        if self.load() == key:
            return
        private_dir(self.path.parent)
        atomic_write(self.path, key)
