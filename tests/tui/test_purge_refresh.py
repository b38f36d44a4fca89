"""The scheduled purge runs while the app is open: the list drops the purged people."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from tests.conftest import FixedClock, draft
from tests.tui.helpers import SIZE, app_for, seed, unlock
from tui.screens.contacts import ContactsScreen

SEALBOOK = str(Path(sys.executable).parent / "sealbook")


async def test_a_purge_by_another_process_disappears_from_the_open_list(
    vault_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    expired, kept = seed(
        vault_path, clock, [draft(name="Long Gone", trigger=date(2010, 5, 1)), draft(name="Still Here")]
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        assert {c.name for c in screen.table.rows} == {"Long Gone", "Still Here"}
        env = {**os.environ, "SEALBOOK_CONFIG": str(tmp_path / "none.toml")}
        purge = subprocess.run(
            [SEALBOOK, "purge", "--vault", str(vault_path), "--today", "2026-06-15", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert purge.returncode == 0, purge.stderr
        assert expired in purge.stdout and kept not in purge.stdout
        app.refresh_from_disk()
        await pilot.pause()
        assert [c.name for c in screen.table.rows] == ["Still Here"]
