"""Issue 13.9: the export starts from the selected contact, finds parts of hyphenated names,
wraps its result line, takes the configured letter language and warns first when no
controller is configured.  At 80x24 and 100x30; keys in one burst.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from tests.conftest import FixedClock, draft
from tests.tui.helpers import app_for, people, screen_text, seed, settle, unlock
from tui.screens.dialogs import Confirm
from tui.screens.exchange import ExportScreen
from vault.config import Config

SIZES = [(80, 24), (100, 30)]
CONTROLLER = Config(controller_name="Eva Muster", controller_address="Hauptstr. 1\n10115 Berlin")


def status(app: object) -> str:
    return str(app.screen.query_one("#status", Static).render())  # type: ignore[attr-defined]


def matches(app: object) -> list[str]:
    table = app.screen.query_one("#export-matches", DataTable)  # type: ignore[attr-defined]
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_export_starts_with_the_selected_contact_found(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock, CONTROLLER)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"becker", "enter", "x")
        assert isinstance(app.screen, ExportScreen)
        assert app.screen.query_one("#export-query", Input).value == "Bernd Becker"
        assert matches(app) == ["Bernd Becker"]
        assert "1 record(s) match" in status(app)


async def test_with_nothing_selected_the_query_is_empty(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ExportScreen)
        assert app.screen.query_one("#export-query", Input).value == ""
        assert matches(app) == []


async def test_finding_a_person_matches_parts_of_a_hyphenated_name(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [draft(name="Anna Müller-Lüdenscheidt", emails=("anna@ml.example",)), draft()])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("x", *"anna müller", "enter")
        assert matches(app) == ["Anna Müller-Lüdenscheidt"]
        await pilot.press("ctrl+u", *"lüdenscheidt anna", "enter")  # word order does not matter
        assert matches(app) == ["Anna Müller-Lüdenscheidt"]
        await pilot.press("ctrl+u", *"anna@ml.example", "enter")  # the e-mail still finds her, once
        assert matches(app) == ["Anna Müller-Lüdenscheidt"]


@pytest.mark.parametrize(
    ("config", "lang"),
    [
        (Config(), "en"),
        (Config(extra={"letter_language": "de"}), "de"),
        (Config(extra={"letter_language": "fr"}), "en"),
    ],
    ids=["unset", "de", "unknown"],
)
async def test_the_letter_language_defaults_to_the_configured_one(
    vault_path: Path, clock: FixedClock, config: Config, lang: str
) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock, config)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("x")
        assert app.screen.query_one("#export-lang", Select).value == lang


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_exporting_without_a_controller_warns_first(
    vault_path: Path, clock: FixedClock, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    out = tmp_path / "answer"
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"becker", "enter", "x")
        app.screen.query_one("#export-out", Input).value = str(out)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, Confirm)
        text = screen_text(app)
        assert "No controller configured" in text and "name and address are not configured" in text
        assert "Export anyway (y)" in text and "Cancel (n)" in text  # the whole dialog fits
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert "Nothing was exported" in status(app)
        assert not out.exists()
        await pilot.press("ctrl+s", "y")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert "Wrote 1 record(s)" in status(app)
    assert (out / "data.json").exists()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_with_a_controller_the_export_runs_at_once_and_its_result_wraps(
    vault_path: Path, clock: FixedClock, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, people())
    out = tmp_path / "a-rather-long-folder-name-for-the-answer-to-bernd-becker"
    app = app_for(vault_path, clock, CONTROLLER)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"becker", "enter", "x")
        app.screen.query_one("#export-out", Input).value = str(out)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert "Wrote 1 record(s)" in status(app)
        # The whole result is on the screen, wrapped over several lines, not cut at the edge.
        text = " ".join(line.strip("█▊▎ ") for line in screen_text(app).splitlines())
        assert "The folder holds plaintext personal data." in text
        assert "data.json" in text
    assert (out / "answer.txt").exists()
