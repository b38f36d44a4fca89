"""Issue 13.6: sync is set up in the app (the target checked at once, saved only then), and
its times show in local time, not raw ISO.  Typed in one burst, at 80x24 and 100x30."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.conftest import FixedClock
from tests.tui.helpers import app_for, people, screen_text, seed, settle, unlock
from tui.screens.sync import SyncScreen, SyncSetupDialog, local_time

SIZES = [(80, 24), (100, 30)]


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local time zone is Europe/Berlin (UTC+2 in June), for this test only."""
    monkeypatch.setenv("SEALBOOK_NO_KEYRING", "1")
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def status(app: object) -> str:
    return str(app.screen.query_one("#status", Static).render())  # type: ignore[attr-defined]


def test_local_time_converts_utc_stamps_and_keeps_what_it_cannot_read(berlin: None) -> None:
    assert local_time("2026-06-15T12:00:00+00:00") == "2026-06-15 14:00"
    assert local_time("2026-06-15T12:00:00") == "2026-06-15 14:00"  # no zone: UTC
    assert local_time("2026-01-15T12:00:00Z") == "2026-01-15 13:00"
    assert local_time(None) == "never"
    assert local_time("soon") == "soon"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_sync_is_set_up_to_a_folder_in_the_app_and_shows_local_times(
    vault_path: Path, clock: FixedClock, tmp_path: Path, berlin: None, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    target = tmp_path / "remote"
    target.mkdir()
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("y")
        assert isinstance(app.screen, SyncScreen)
        assert "Sync is not set up. s sets it up" in screen_text(app)
        await pilot.press("s")
        assert isinstance(app.screen, SyncSetupDialog)
        text = screen_text(app)
        assert "Check and save (enter)" in text and "Cancel (esc)" in text  # the dialog fits
        await pilot.press(*str(target), "enter")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        assert "Sync set up" in status(app)
        assert app.vault is not None and app.vault.sync_configured
        await pilot.press("u")
        await settle(pilot)
        assert "pushed" in status(app)
        pushed = app.vault.sync_status().last_push
        assert pushed
        text = screen_text(app)
        assert f"Last push: {local_time(pushed)}" in text
        assert pushed not in text  # not the raw ISO stamp
        utc = datetime.fromisoformat(pushed)
        utc = utc if utc.tzinfo else utc.replace(tzinfo=UTC)
        assert local_time(pushed) == utc.astimezone().strftime("%Y-%m-%d %H:%M")
    assert any(p.stat().st_size > 0 for p in target.iterdir())


async def test_a_target_that_cannot_be_reached_is_refused_and_nothing_is_saved(
    vault_path: Path, clock: FixedClock, tmp_path: Path, berlin: None
) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("y", "s", *str(tmp_path / "no-such-folder"), "enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SyncSetupDialog)
        assert "Not saved:" in screen_text(app)
        assert app.vault is not None and not app.vault.sync_configured
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        assert "not set up" in screen_text(app)


async def test_the_sftp_fields_show_only_for_an_sftp_url(vault_path: Path, clock: FixedClock, berlin: None) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("y", "s")
        sftp = app.screen.query_one("#sftp")
        assert not sftp.display
        await pilot.press(*"sftp://host/folder")
        assert sftp.display
