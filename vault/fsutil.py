"""Durable file writes: temp file (O_EXCL|O_NOFOLLOW, 0600), fsync, rename, fsync dir.

An fsync error is fatal and never retried ("fsyncgate": Linux may mark the
failed pages clean, so a retried fsync would falsely succeed).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    pieces: bytes | Iterable[bytes],
    *,
    mode: int = 0o600,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Replace ``path`` with ``pieces`` atomically and durably.

    ``before_replace`` runs after the data is on disk and just before the
    rename (the local backend re-checks the remote version there); if it
    raises, the temp file is removed and the old file stays.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb", closefd=True) as handle:
            for piece in [pieces] if isinstance(pieces, (bytes, bytearray, memoryview)) else pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700 if missing; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
