"""What sync hands to front ends: small frozen dataclasses (no imports from vault)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# progress(stage, done, total): stages are snapshot, encrypt, upload, download,
# decrypt, merge.  Called from the thread doing the work.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SyncReport:
    """The outcome of a push, pull or clone.  Record ids only, never content."""

    action: str  # "pushed", "pulled", "up-to-date" (a push with nothing new uploads nothing), "cloned"
    target: str
    counter: int
    blob_bytes: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    rejected: tuple[str, ...] = ()  # remote records/tombstones that did not authenticate
    conflicts: tuple[str, ...] = ()  # records both devices changed
    pulled_first: bool = False  # a push that merged the remote's changes first
    forked: bool = False  # another device had written the same version: both were merged
    removed: int = 0  # stale copies (old generations, cut-off uploads) removed from the target
    notes: tuple[str, ...] = ()  # sentences for the owner (no record content); print each


@dataclass(frozen=True)
class SyncStatus:
    configured: bool
    target: str | None
    counter: int
    last_push: str | None
    last_pull: str | None
    pending: int  # local changes not pushed yet (audit entries since the last sync)
    blob_bytes: int
    remote_changed: bool | None = None  # None: the remote was not asked
