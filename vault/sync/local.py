"""Local folder target (a mounted drive, a folder a sync client watches).

Write: temp file (O_EXCL|O_NOFOLLOW, 0600) in the same folder, fsync, re-check
the version, os.replace, fsync the folder, read back and compare.  An advisory
flock on ``.sealbook.lock`` serialises pushes of processes on this machine.
The folder is never created on push: a missing mount must not turn into a
write onto the mount point.

There is one blob file; earlier versions are replaced, not kept.  What a push
killed midway leaves is a ``.sealbook.blob.<hex>.tmp`` file (a whole or partial
older blob); the next successful push removes those, under the same lock, so
none can be another process's write in progress on this machine.  A sync
client watching the folder may keep its own history of replaced files.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path

from vault import crypto
from vault.fsutil import atomic_write
from vault.i18n import _
from vault.sync.blob import HEADER_TAG_READ, Progress
from vault.sync.errors import RemoteChanged, RemoteRefused, RemoteStorageFull, RemoteVerifyFailed
from vault.sync.remote import BLOB_NAME, Fetched, fetched, tag_of

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class LocalFolder:
    def __init__(self, folder: Path, name: str = BLOB_NAME) -> None:
        self.folder = Path(folder)
        self.path = self.folder / name
        self.removed = 0
        self._leftover = re.compile(rf"^\.{re.escape(name)}\.[0-9a-f]+\.tmp$")  # vault.fsutil.atomic_write

    def describe(self) -> str:
        return str(self.folder)

    def _check_folder(self) -> None:
        if not self.folder.is_dir():
            raise RemoteRefused(_("{folder} is not a folder (not mounted?)").format(folder=self.folder))

    def _read(self, limit: int | None = None) -> bytes | None:
        self._check_folder()
        try:
            fd = os.open(self.path, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RemoteRefused(f"{self.path}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "rb") as handle:
                return handle.read(limit) if limit is not None else handle.read()
        except OSError as exc:  # e.g. a folder where the blob should be
            raise RemoteRefused(f"{self.path}: {exc.strerror}") from None

    def check(self) -> None:
        """For `sync setup`: the folder exists (never created here), can be written, and
        what is there at the blob's name is readable."""
        self._check_folder()
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise RemoteRefused(_("{folder}: no permission to write there").format(folder=self.folder))
        self.version()

    def version(self) -> str | None:
        start = self._read(HEADER_TAG_READ)
        return None if start is None else tag_of(start)

    def fetch(self, progress: Progress | None = None) -> Fetched | None:
        data = self._read()
        if data is None:
            return None
        if progress:
            progress("download", len(data), len(data))
        return fetched(data)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        fd = os.open(self.folder / ".sealbook.lock", os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _expect(self, expected: str | None) -> None:
        if self.version() != expected:
            raise RemoteChanged(str(self.folder))

    def put(self, data: bytes, expected: str | None, progress: Progress | None = None, *, forget: bool = False) -> str:
        """``forget`` changes nothing here: every left-over temp file is removed anyway."""
        self._check_folder()
        self.removed = 0
        try:
            with self._lock():
                self._expect(expected)
                atomic_write(self.path, _pieces(data, progress), before_replace=lambda: self._expect(expected))
                self.removed = self._remove_leftovers()
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise RemoteStorageFull(str(self.folder)) from None
            raise RemoteRefused(f"{self.folder}: {exc.strerror}") from None
        landed = self._read()
        if landed is None or crypto.digest(landed) != crypto.digest(data):
            raise RemoteVerifyFailed(str(self.path))
        return tag_of(data)

    def _remove_leftovers(self) -> int:
        """Temp files of pushes killed midway (called under the lock: none is in progress here)."""
        removed = 0
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.folder):
                if self._leftover.match(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def delete(self, expected: str | None) -> None:
        with self._lock():
            self._expect(expected)
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        return None


def _pieces(data: bytes, progress: Progress | None) -> Iterator[bytes]:
    view = memoryview(data)
    step = 1024 * 1024
    for start in range(0, len(view), step):
        yield bytes(view[start : start + step])
        if progress:
            progress("upload", min(start + step, len(view)), len(view))
    if not view and progress:
        progress("upload", 0, 0)
