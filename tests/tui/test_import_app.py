"""Issue 13.8: the import preview lists every problem entry (scrollable) and offers to import
the rest, as ``--skip-invalid`` does on the command line; a folder of .vcf files (khard,
vdirsyncer) is imported as one batch, its problems listed per file; the screen fits 80x24."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Input, Select, Static

from tests.conftest import FixedClock
from tests.tui.helpers import app_for, burst, notified, screen_text, seed, settle, unlock
from tui.screens.exchange import ImportScreen
from vault.model import LegalBasis

SIZES = [(80, 24), (100, 30)]


def status(app: object) -> str:
    return str(app.screen.query_one("#status", Static).render())  # type: ignore[attr-defined]


async def fill(app: object, path: Path) -> None:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ImportScreen)
    screen.query_one("#import-file", Input).value = str(path)
    screen.query_one("#import-basis", Select).value = LegalBasis.CONTRACT.value
    screen.query_one("#import-rule", Select).value = "limitation-3y"
    screen.query_one("#import-trigger", Input).value = "2026-01-31"
    screen.query_one("#import-file", Input).focus()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_preview_lists_every_problem_and_the_rest_can_be_imported(
    vault_path: Path, clock: FixedClock, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, [])
    card = tmp_path / "cards.vcf"
    card.write_text(
        "".join(
            f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nEMAIL:"
            f"{'broken-' + str(i) if i < 30 else f'p{i}@example.org'}\r\nEND:VCARD\r\n"
            for i in range(34)
        )
    )  # 30 broken e-mail addresses, then 4 good entries
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("i")
        await fill(app, card)
        await pilot.press("enter")  # preview
        await settle(pilot)
        problems = app.screen.query_one("#import-problems", DataTable)
        assert [str(problems.get_row_at(i)[0]) for i in range(problems.row_count)] == [str(i) for i in range(1, 31)]
        assert problems.virtual_size.height > problems.scrollable_content_region.height  # more than fit: it scrolls
        assert "30 entries cannot be imported" in status(app) and "ctrl+r imports the rest (4 to add" in status(app)
        text = screen_text(app)
        assert "Import rest (ctrl+r)" in text and "Close (esc)" in text  # the whole screen fits
        await pilot.press("ctrl+s")  # the file as a whole: refused
        await settle(pilot)
        assert app.vault is not None and len(app.vault) == 0
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "Imported: 4 added" in status(app) and "30 entries left out" in status(app)
        assert sorted(c.name for c in app.vault.contacts()) == sorted(f"Person {i}" for i in range(30, 34))
        assert app.screen.query_one("#import-rest", Button).disabled  # not twice


async def test_the_rest_is_not_offered_when_nothing_else_would_be_imported(
    vault_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    seed(vault_path, clock, [])
    card = tmp_path / "bad.vcf"
    card.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad\r\nEMAIL:broken\r\nEND:VCARD\r\n")
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("i")
        await fill(app, card)
        await pilot.press("enter", "ctrl+r")
        await settle(pilot)
        assert "No other entry would be imported" in status(app)
        assert app.screen.query_one("#import-rest", Button).disabled
        assert app.vault is not None and len(app.vault) == 0


def vdir_with_a_bad_card(root: Path) -> Path:
    """A vdirsyncer storage: two collections of ``<uid>.vcf`` files, one with a broken e-mail."""
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{email}\r\nEND:VCARD\r\n"
    for collection, uid, name, email in (
        ("personal", "p-1", "Anna Schmidt", "anna@schmidt.example"),
        ("work", "w-1", "Bernd Becker", "bernd@becker.example"),
        ("work", "w-2", "Broken Mail", "not-an-address"),
    ):
        (root / collection).mkdir(parents=True, exist_ok=True)
        (root / collection / f"{uid}.vcf").write_text(card.format(uid=uid, name=name, email=email))
    return root


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_folder_is_previewed_with_its_problems_per_file_and_the_rest_imported(
    vault_path: Path, clock: FixedClock, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed(vault_path, clock, [])
    folder = vdir_with_a_bad_card(tmp_path / "contacts")
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await burst(pilot, "i")
        await fill(app, folder)
        app.screen.query_one("#import-file", Input).value = ""
        await burst(pilot, *str(folder), "enter")  # the path typed in one go, then the preview
        problems = app.screen.query_one("#import-problems", DataTable)
        assert problems.display and problems.row_count == 1
        file, entry, line, why = (str(cell) for cell in problems.get_row_at(0))
        assert (file, entry, line) == ("work/w-2.vcf", "3", "1") and why.startswith("e-mail: ")
        assert "1 entry cannot be imported (listed above), so the folder as a whole will not be." in status(app)
        assert "ctrl+r imports the rest (2 to add" in status(app)
        text = screen_text(app)
        assert "work/w-2.vcf" in text and "Import rest (ctrl+r)" in text and "Close (esc)" in text
        await burst(pilot, "ctrl+s")  # the folder as a whole: refused
        assert app.vault is not None and len(app.vault) == 0
        await burst(pilot, "ctrl+r")
        assert "Imported: 2 added" in status(app) and "1 entry left out" in status(app)
        assert sorted(c.name for c in app.vault.contacts()) == ["Anna Schmidt", "Bernd Becker"]
        assert app.screen.query_one("#import-rest", Button).disabled  # not twice


async def test_a_folder_without_vcf_files_is_refused_with_a_sentence(
    vault_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    seed(vault_path, clock, [])
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an address book")
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await burst(pilot, "i")
        await fill(app, folder)
        await burst(pilot, "enter")
        assert "This folder cannot be imported; nothing was imported. (no .vcf file" in notified(app) + status(app)
        assert app.vault is not None and len(app.vault) == 0


async def test_the_consent_fields_show_only_with_the_basis_consent(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, [])
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("i")
        row = app.screen.query_one("#import-consent-row")
        assert not row.display
        app.screen.query_one("#import-basis", Select).value = LegalBasis.CONSENT.value
        await pilot.pause()
        assert row.display
