"""Local folder target (a mounted drive, a folder a sync client watches).

Write: temp file (O_EXCL|O_NOFOLLOW, 0600) in the same folder, fsync, re-check
the version, os.replace, fsync the folder, read back and compare.  An advisory
flock on ``.sealbook.lock`` serialises pushes of processes on this machine.
The folder is never created on push: a missing mount must not turn into a
write onto the mount point.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from vault import crypto
from vault.fsutil import atomic_write
from vault.sync.blob import HEADER_TAG_READ, Progress, header_tag
from vault.sync.errors import RemoteChanged, RemoteRefused, RemoteStorageFull, RemoteVerifyFailed
from vault.sync.remote import BLOB_NAME, Fetched

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class LocalFolder:
    def __init__(self, folder: Path, name: str = BLOB_NAME) -> None:
        self.folder = Path(folder)
        self.path = self.folder / name

    def describe(self) -> str:
        return str(self.folder)

    def _check_folder(self) -> None:
        if not self.folder.is_dir():
            raise RemoteRefused(f"{self.folder} is not a folder (not mounted?)")

    def _read(self, limit: int | None = None) -> bytes | None:
        self._check_folder()
        try:
            fd = os.open(self.path, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RemoteRefused(f"{self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            return handle.read(limit) if limit is not None else handle.read()

    def version(self) -> str | None:
        start = self._read(HEADER_TAG_READ)
        return None if start is None else header_tag(start)

    def fetch(self, progress: Progress | None = None) -> Fetched | None:
        data = self._read()
        if data is None:
            return None
        if progress:
            progress("download", len(data), len(data))
        tag = header_tag(data)
        assert tag is not None
        return Fetched(data, tag)

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

    def put(self, data: bytes, expected: str | None, progress: Progress | None = None) -> str:
        self._check_folder()
        try:
            with self._lock():
                self._expect(expected)
                atomic_write(self.path, _pieces(data, progress), before_replace=lambda: self._expect(expected))
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise RemoteStorageFull(str(self.folder)) from None
            raise RemoteRefused(f"{self.folder}: {exc.strerror}") from None
        landed = self._read()
        if landed is None or crypto.digest(landed) != crypto.digest(data):
            raise RemoteVerifyFailed(str(self.path))
        tag = header_tag(data)
        assert tag is not None
        return tag

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
