"""An exclusive lock file beside the vault for multi-step jobs (purge + VACUUM, sync).

SQLite already serialises single writes; this lock keeps two *multi-step* jobs
(e.g. the nightly purge and a sync push) from interleaving.  It is a separate
file, never the database itself: closing any descriptor of a database file
drops the process's POSIX locks on it (see notes/security-and-sync.md, 3).

The file is opened with ``O_NOFOLLOW`` and refused unless it is a regular file
owned by us: a symlink planted at the lock path must not make us create or
truncate another file (filelock CVE-2025-68146 / CVE-2026-22701).  We never
truncate or write it; ``flock`` is released by the kernel when the process
dies, so a crashed purge leaves no stale lock.
"""

from __future__ import annotations

import fcntl
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vault.errors import VaultBusy, VaultError
from vault.i18n import N_, _

DEFAULT_WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.05


class LockFileRefused(VaultError):
    """The vault's lock file is not a plain file of this user; refusing to use it."""

    sentence = N_("The vault's lock file is not a plain file of this user; refusing to use it.")


def lock_path_for(vault_path: Path) -> Path:
    """Where the lock file of the vault at ``vault_path`` lives (``<vault>.lock``)."""
    return vault_path.with_name(vault_path.name + ".lock")


def _open_lock(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        # ELOOP: the path is a symlink.  Anything else: we cannot use it either.
        raise LockFileRefused(path.name) from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        os.close(fd)
        raise LockFileRefused(path.name)
    return fd


@contextmanager
def exclusive(path: Path, *, wait: float = DEFAULT_WAIT_SECONDS) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` for the ``with`` block.

    Waits at most ``wait`` seconds (0 = try once) for another holder, then
    raises :class:`VaultBusy`.
    """
    fd = _open_lock(path)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise VaultBusy(_("lock file held by another process")) from None
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
