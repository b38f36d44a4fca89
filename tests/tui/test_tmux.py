"""The installed `sealbook` in a real terminal: tests/tui/tmux_drive.sh under tmux."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("tmux_drive.sh")
SEALBOOK = Path(sys.executable).with_name("sealbook")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not SEALBOOK.exists(), reason="the sealbook entry point is not installed")
def test_the_installed_app_works_in_a_real_terminal() -> None:
    """The everyday flow, then (issue 13) a vdir folder import, the purge, a data-subject request
    and sync to a local folder, each checked on the screen (and the blob in the folder)."""
    result = subprocess.run(
        ["bash", str(SCRIPT), str(SEALBOOK)], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("PASS")
    for step in ("ok: Imported: 2 added", "ok: Purge done: 2 records deleted.", "ok: 1 request OVERDUE (q)",
                 "bytes in the sync folder"):  # fmt: skip
        assert step in result.stdout, result.stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not SEALBOOK.exists(), reason="the sealbook entry point is not installed")
def test_the_installed_app_speaks_german_with_a_german_locale() -> None:
    """Issue 14: once with LANG=de_DE.UTF-8, German on every screen of the flow, no English words."""
    script = Path(__file__).with_name("tmux_drive_de.sh")
    result = subprocess.run(
        ["bash", str(script), str(SEALBOOK)], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("PASS")
