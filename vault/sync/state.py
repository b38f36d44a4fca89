"""Per-device sync state: the rollback high-water mark and what was last seen.

Kept outside the synced data (a blob never carries it) in the platform data
folder, one JSON file per (vault, device), 0600, written atomically and
fsynced.  ``vault_meta.sync_counter/sync_hash`` mirror the mark inside the
vault; the higher of the two counts, so restoring either one from an old
backup does not reopen the door to a rollback.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from vault.config import data_dir
from vault.fsutil import atomic_write, private_dir
from vault.i18n import _
from vault.sync.errors import SyncStateDamaged

_SAFE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


@dataclass(frozen=True)
class SyncState:
    counter: int = 0  # highest blob counter seen (pushed or pulled)
    blob_hash: str = ""  # hex BLAKE2b-256 of that blob
    tag: str | None = None  # the remote's version tag when we last saw it
    last_push: str | None = None  # ISO times, UTC
    last_pull: str | None = None
    last_sync: str | None = None  # either of the two: edits after it are "pending"
    blob_bytes: int = 0
    # A push under way (issue 12.6): saved before the upload, cleared by the bookkeeping after
    # it.  When the push is cut off between the two, the remote holds exactly this blob: the
    # next push (even a locked one, the purge's) recognises it by its hash and takes it as pushed.
    pushing_counter: int = 0
    pushing_hash: str = ""  # hex BLAKE2b-256 of the blob being uploaded; "" when none is
    pushing_at: str | None = None  # ISO time, UTC: becomes last_push/last_sync once it counts as pushed

    def advanced(self, **changes: object) -> SyncState:
        return replace(self, **changes)  # type: ignore[arg-type]

    def pushing(self, counter: int, blob_hash: str, at: str) -> SyncState:
        """This state with the intent to upload the blob ``blob_hash`` as version ``counter``."""
        return replace(self, pushing_counter=counter, pushing_hash=blob_hash, pushing_at=at)

    def pushed(self, tag: str | None, blob_bytes: int) -> SyncState:
        """The intended blob is on the remote (version tag ``tag``): it is the newest this device saw."""
        if not self.pushing_hash:
            raise ValueError("no push under way")
        return replace(
            self,
            counter=self.pushing_counter,
            blob_hash=self.pushing_hash,
            tag=tag,
            last_push=self.pushing_at,
            last_sync=self.pushing_at,
            blob_bytes=blob_bytes,
            pushing_counter=0,
            pushing_hash="",
            pushing_at=None,
        )

    def is_own_upload(self, blob_hash: str) -> bool:
        """Whether a blob found on the remote is the one this device was uploading when its push
        was cut off (the intent is there and names that blob's hash)."""
        return bool(self.pushing_hash) and blob_hash == self.pushing_hash and self.pushing_counter > self.counter


def state_dir() -> Path:
    return data_dir() / "sync"


class StateFile:
    """The state of one local vault (vault id + device id)."""

    def __init__(self, vault_id: str, device_id: str, directory: Path | None = None) -> None:
        if not (_SAFE.match(vault_id) and _SAFE.match(device_id)):
            raise SyncStateDamaged(_("ids"))
        self.path = (directory or state_dir()) / f"{vault_id}-{device_id}.json"

    def load(self) -> SyncState:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return SyncState()
        except OSError:
            raise SyncStateDamaged(str(self.path)) from None
        try:
            with os.fdopen(fd, "rb") as handle:
                data = json.loads(handle.read(64 * 1024).decode("utf-8"))
            state = SyncState(**data)
            if type(state.counter) is not int or state.counter < 0 or not isinstance(state.blob_hash, str):
                raise ValueError
            if type(state.pushing_counter) is not int or not isinstance(state.pushing_hash, str):
                raise ValueError
            if state.pushing_at is not None and not isinstance(state.pushing_at, str):
                raise ValueError
        except (ValueError, TypeError, UnicodeDecodeError):
            raise SyncStateDamaged(str(self.path)) from None
        return state

    def save(self, state: SyncState) -> None:
        private_dir(self.path.parent)
        atomic_write(self.path, json.dumps(asdict(state), indent=1, sort_keys=True).encode("utf-8"))


class PushKeyFile:
    """The push key of one local vault (vault id + device id), for pushes without the passphrase.

    32 bytes, 0600, beside the state file; written at unlock while sync is set
    up.  Whoever steals it can authenticate blobs of their own making, but not
    records (the record key) nor tombstones and metadata (the signing key): at
    worst they can raise the counter and make devices refuse the remote copy.
    """

    def __init__(self, vault_id: str, device_id: str, directory: Path | None = None) -> None:
        if not (_SAFE.match(vault_id) and _SAFE.match(device_id)):
            raise SyncStateDamaged(_("ids"))
        self.path = (directory or state_dir()) / f"{vault_id}-{device_id}.push"

    def load(self) -> bytes | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError:
            raise SyncStateDamaged(str(self.path)) from None
        with os.fdopen(fd, "rb") as handle:
            key = handle.read(64)
        if len(key) != 32:
            raise SyncStateDamaged(str(self.path))
        return key

    def save(self, key: bytes | bytearray) -> None:
        if self.load() == bytes(key):
            return
        private_dir(self.path.parent)
        atomic_write(self.path, bytes(key))
