"""Process hardening a front end applies at start-up.

Python cannot guarantee that secrets leave no copies in memory (immutable
``bytes``/``str`` objects are freed, not wiped), so we at least keep them out
of core dumps and away from other processes' ptrace.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import resource
import sys

_PR_SET_DUMPABLE = 4


def harden_process() -> None:
    """No core dumps; on Linux, not dumpable (also blocks same-user ptrace)."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass
