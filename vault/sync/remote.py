"""The one small protocol every sync target implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vault.i18n import _
from vault.sync.blob import Progress, header_tag
from vault.sync.errors import BlobDamaged

BLOB_NAME = "sealbook.blob"
EMPTY_TAG = "empty"  # the version tag of an empty file where the blob should be


@dataclass(frozen=True)
class Fetched:
    data: bytes
    tag: str  # the version tag to pass back to :meth:`Remote.put` as ``expected``


class Remote(Protocol):
    """A place holding one blob.

    ``version()`` is cheap and returns the current version tag (None: no blob;
    an empty or foreign file there still has a tag, so it is never mistaken for
    "no blob" and silently replaced).  ``fetch`` refuses an empty file as
    damaged.  ``put`` writes only if the remote still has ``expected`` (None:
    only if no blob exists), re-checks that just before the final write,
    verifies what landed, and returns the new tag; a lost race raises
    RemoteChanged and leaves the other device's blob in place.  After a
    successful write ``put`` removes stale copies it can see (generation or
    temp files of earlier, cut-off pushes): with ``forget`` every one of them,
    also one another device may be writing right now (after a purge, older
    copies hold the purged records); without it, only those no other device
    can still be using.  ``removed`` says how many the last ``put`` removed.
    """

    removed: int

    def describe(self) -> str: ...

    def check(self) -> None:
        """The target is usable: reachable, credentials accepted, folder present (for setup)."""
        ...

    def version(self) -> str | None: ...

    def fetch(self, progress: Progress | None = None) -> Fetched | None: ...

    def put(
        self, data: bytes, expected: str | None, progress: Progress | None = None, *, forget: bool = False
    ) -> str: ...

    def delete(self, expected: str | None) -> None: ...

    def close(self) -> None: ...


def tag_of(start: bytes) -> str:
    """The version tag of a file present on the remote, from its first bytes."""
    return header_tag(start) or EMPTY_TAG


def fetched(data: bytes) -> Fetched:
    """A whole blob read from the remote; an empty one is refused as damaged (never a traceback)."""
    if not data:
        raise BlobDamaged(_("remote copy is empty"))
    return Fetched(data, tag_of(data))
