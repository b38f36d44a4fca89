"""Issue 12.9: a second Vault object in the same process must not drop the first one's locks.

POSIX record locks belong to the process and every close() of any descriptor of
the file releases them all.  Reading the file's header with a plain open() and
close() did exactly that: another process's purge could then take the lock that
lets it delete ``-wal``/``-shm`` under the first object's live connection.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import FixedClock, draft
from vault.service import Vault

PURGE_ELSEWHERE = (
    "import sys, pathlib; from vault.service import Vault; v = Vault(pathlib.Path(sys.argv[1])); v.purge(); v.close()"
)


def test_opening_and_closing_a_second_vault_object_keeps_the_first_one_working(
    vault: Vault, vault_path: Path, clock: FixedClock
) -> None:
    vault.add(draft(name="Before"))
    for _ in range(3):
        second = Vault(vault_path, clock=clock)
        second.close()
        done = subprocess.run(
            [sys.executable, "-c", PURGE_ELSEWHERE, str(vault_path)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert vault.refresh() in (True, False)
        vault.add(draft(name="After", emails=(), phones=()))
    names = sorted(c.name for c in vault.contacts())
    assert names == ["After", "After", "After", "Before"]
    vault.close()
    again = Vault(vault_path, clock=clock)
    try:
        from tests.conftest import PASSPHRASE

        again.unlock(PASSPHRASE)
        assert len(again) == 4
    finally:
        again.close()
