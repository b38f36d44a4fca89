"""The one small protocol every sync target implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vault.sync.blob import Progress

BLOB_NAME = "sealbook.blob"


@dataclass(frozen=True)
class Fetched:
    data: bytes
    tag: str  # the version tag to pass back to :meth:`Remote.put` as ``expected``


class Remote(Protocol):
    """A place holding one blob.

    ``version()`` is cheap and returns the current version tag (None: no blob).
    ``put`` writes only if the remote still has ``expected`` (None: only if no
    blob exists), re-checks that just before the final write, verifies what
    landed, and returns the new tag; a lost race raises RemoteChanged and
    leaves the other device's blob in place.
    """

    def describe(self) -> str: ...

    def version(self) -> str | None: ...

    def fetch(self, progress: Progress | None = None) -> Fetched | None: ...

    def put(self, data: bytes, expected: str | None, progress: Progress | None = None) -> str: ...

    def delete(self, expected: str | None) -> None: ...

    def close(self) -> None: ...
