"""The last guard of the CLI and the app: an unexpected error (a bug) becomes one line.

The user reads the exception's type and where a report was written; the report
(0600, in the log folder) holds the frames (file, line, function) and the type
only: never the exception's message or a variable, which may hold a passphrase
or personal data.
"""

from __future__ import annotations

import os
import traceback
from datetime import datetime
from pathlib import Path

from vault.i18n import _

EXIT_INTERNAL = 70  # EX_SOFTWARE: an unexpected error


def crash_report(error: BaseException) -> Path | None:
    """Write where an unexpected error happened (file, line, function; the exception's
    type only, never its message or any variable, which may hold personal data) to a
    0600 file in the log folder; its path, or None."""
    frames = traceback.extract_tb(error.__traceback__)
    lines = [f"sealbook {type(error).__module__}.{type(error).__name__}"]
    lines += [f"  {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames]
    try:
        from vault.config import log_dir  # platformdirs: loaded only for a crash

        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"crash-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    except (OSError, ImportError):
        return None
    return path


def crash_line(error: BaseException, where: Path | None) -> str:
    """The one line the user reads."""
    report = _("Where it happened: {path}").format(path=where) if where else _("No report could be written.")
    return _("sealbook: unexpected error ({type}); nothing more was done. {report}").format(
        type=type(error).__name__, report=report
    )
