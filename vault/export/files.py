"""Putting an export folder on disk: folder 0700, files 0600, all or nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vault.errors import InvalidInput, VaultError
from vault.i18n import N_, _


class ExportFailed(VaultError):
    """The export could not be written; no partial export folder was left behind."""

    sentence = N_("The export could not be written; no partial export folder was left behind.")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the folder, its files and the records in it (ids only)."""

    out_dir: Path
    files: tuple[str, ...]
    record_ids: tuple[str, ...]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_export(out_dir: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` into ``out_dir`` (new or empty): folder 0700, files 0600, all or nothing.

    The files are written and fsynced in a private temporary folder next to
    ``out_dir`` that is then renamed into place, so a failure leaves nothing.
    """
    out_dir = Path(out_dir).expanduser().absolute()
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise InvalidInput("export folder", _("exists and is not a folder"))
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise InvalidInput("export folder", _("exists and is not empty; choose a new folder"))
    parent = out_dir.parent
    if not parent.is_dir():
        raise InvalidInput("export folder", _("its parent folder does not exist"))
    try:
        staging = Path(tempfile.mkdtemp(prefix=".sealbook-export-", dir=parent))  # mode 0700
    except OSError as exc:
        raise ExportFailed(exc.strerror) from None
    try:
        for name, content in files.items():
            fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(staging, 0o700)
        _fsync_dir(staging)
        os.rename(staging, out_dir)  # atomic; replaces an empty folder, refuses a non-empty one
        _fsync_dir(parent)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportFailed(exc.strerror) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def remove_export(out_dir: Path) -> None:
    """Undo :func:`write_export` (used when recording the export fails)."""
    shutil.rmtree(out_dir, ignore_errors=True)
