"""Pilot tests for export, import, purge preview, requests and sync in the app."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.tui.helpers import SIZE, app_for, people, screen_text, seed, settle, unlock
from tui.screens.exchange import ExportScreen, ImportScreen
from tui.screens.purge import PurgeScreen
from tui.screens.requests import RequestsScreen
from tui.screens.sync import SyncScreen
from vault.config import Config
from vault.model import LegalBasis
from vault.service import Vault


def status(app: object) -> str:
    return str(app.screen.query_one("#status", Static).render())  # type: ignore[attr-defined]


async def test_export_finds_the_person_and_writes_the_answer_folder(
    vault_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    seed(vault_path, clock, people())
    # With a controller configured the export runs at once (without one it warns first: test_export_app).
    app = app_for(vault_path, clock, Config(controller_name="Eva Muster", controller_address="Hauptstr. 1, Berlin"))
    out = tmp_path / "answer"
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#export-query", Input).value = "JUERGEN.mueller@example.org"
        app.screen.query_one("#find", Button).press()  # the layout moves as fields show
        await pilot.pause()
        assert app.screen.query_one("#export-matches", DataTable).row_count == 1
        app.screen.query_one("#export-out", Input).value = str(out)
        app.screen.query_one("#export-lang", Select).value = "de"
        app.screen.query_one("#export", Button).press()  # the layout moves as fields show
        await settle(pilot)
        assert "plaintext personal data" in status(app)
    data = json.loads((out / "data.json").read_text())
    assert "Jürgen Müller" in json.dumps(data, ensure_ascii=False)
    assert "Auskunft" in (out / "answer.txt").read_text() or "Art. 15" in (out / "answer.txt").read_text()
    assert (out / "data.json").stat().st_mode & 0o077 == 0
    with Vault(vault_path, clock=clock) as vault:
        assert len(vault.audit_log(action="exported")) == 1


async def test_import_previews_then_commits_in_one_go(vault_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    seed(vault_path, clock, [])
    card = tmp_path / "cards.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Erika Mustermann\r\nEMAIL:erika@example.org\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Max Beispiel\r\nTEL:+49 30 7654321\r\nEND:VCARD\r\n"
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one("#import-file", Input).value = str(card)
        app.screen.query_one("#import-basis", Select).value = LegalBasis.CONTRACT.value
        app.screen.query_one("#import-rule", Select).value = "limitation-3y"
        app.screen.query_one("#import-trigger", Input).value = "2026-01-31"
        app.screen.query_one("#preview", Button).press()  # the layout moves as fields show
        await settle(pilot)
        assert "2 to add" in status(app)
        assert app.vault is not None and len(app.vault) == 0
        app.screen.query_one("#import", Button).press()  # the layout moves as fields show
        await settle(pilot)
        assert "2 added" in status(app)
        assert sorted(c.name for c in app.vault.contacts()) == ["Erika Mustermann", "Max Beispiel"]
        await pilot.press("escape")
        await pilot.pause()
        assert "Max Beispiel" in screen_text(app)


async def test_import_with_a_broken_entry_imports_nothing(vault_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    seed(vault_path, clock, [])
    card = tmp_path / "broken.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Good One\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad\r\nEMAIL:not-an-address\r\nEND:VCARD\r\n"
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("i")
        app.screen.query_one("#import-file", Input).value = str(card)
        app.screen.query_one("#import-basis", Select).value = "consent"
        app.screen.query_one("#import-rule", Select).value = "consent"
        app.screen.query_one("#import-consent-given", Input).value = "2026-01-20"
        app.screen.query_one("#import-consent-method", Input).value = "web form"
        app.screen.query_one("#preview", Button).press()  # the layout moves as fields show
        await settle(pilot)
        assert "the file as a whole will not be" in status(app)
        problems = app.screen.query_one("#import-problems", DataTable)
        assert [str(problems.get_row_at(i)[0]) for i in range(problems.row_count)] == ["2"]
        assert app.screen.query_one("#import", Button).disabled
        assert app.vault is not None and len(app.vault) == 0


async def test_import_screen_asks_for_consent_and_lists_the_suppression_list_apart(
    vault_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    (gone,) = seed(
        vault_path,
        clock,
        [draft(name="Gone Person", emails=("gone@example.org",), phones=(), basis=LegalBasis.LEGITIMATE_INTERESTS,
               rule="inquiry-6m", trigger=date(2026, 5, 1))],
    )  # fmt: skip
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.erase(gone)
    card = tmp_path / "cards.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Erika Mustermann\r\nEMAIL:erika@example.org\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Gone Again\r\nEMAIL:gone@example.org\r\nREV:2019-01-01\r\nEND:VCARD\r\n"
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-file", Input).value = str(card)
        screen.query_one("#import-basis", Select).value = "consent"
        screen.query_one("#import-rule", Select).value = "consent"
        app.screen.query_one("#preview", Button).press()  # the layout moves as fields show
        await settle(pilot)
        assert "needs the day consent was given" in status(app)
        assert screen.query_one("#import", Button).disabled
        screen.query_one("#import-consent-given", Input).value = "2026-01-20"
        screen.query_one("#import-consent-method", Input).value = "web form"
        screen.query_one("#preview", Button).press()  # a click could land on the error toast above it
        await settle(pilot)
        text = status(app)
        assert "1 to add" in text and "On the suppression list, left out (1)" in text
        assert "entry 2 (line 6) Gone Again: had their data erased on 2026-06-15" in text
        assert "gone@" not in text
        app.screen.query_one("#import", Button).press()  # the layout moves as fields show
        await settle(pilot)
        assert "1 added" in status(app)
        assert app.vault is not None
        (erika,) = app.vault.contacts()
        assert (erika.name, erika.consent_given, erika.consent_method) == (
            "Erika Mustermann",
            date(2026, 1, 20),
            "web form",
        )
        screen.query_one("#import-include-suppressed", Checkbox).value = True
        await pilot.pause()
        assert screen.query_one("#import", Button).disabled  # a changed batch needs a new preview
        app.screen.query_one("#preview", Button).press()  # the layout moves as fields show
        await settle(pilot)
        assert "1 to add" in status(app) and "suppression list" not in status(app)
        app.screen.query_one("#import", Button).press()  # the layout moves as fields show
        await settle(pilot)
        assert sorted(c.name for c in app.vault.contacts()) == ["Erika Mustermann", "Gone Again"]


async def test_purge_preview_lists_records_due_soon_and_can_hold_them(vault_path: Path, clock: FixedClock) -> None:
    # clock: 2026-06-15; an inquiry of 2025-12-20 ends 2026-06-20, within 30 days
    due_id, later_id = seed(
        vault_path,
        clock,
        [
            draft(
                name="Soon Gone", basis=LegalBasis.LEGITIMATE_INTERESTS, rule="inquiry-6m", trigger=date(2025, 12, 20)
            ),
            draft(name="Kept Long"),
        ],
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, PurgeScreen)
        text = screen_text(app)
        assert "Soon Gone" in text and "2026-06-21" in text and "Kept Long" not in text
        await pilot.press("h", *"tax audit 2025", "enter")  # a hold asks for its reason first
        await settle(pilot)
        assert app.vault is not None and app.vault.get(due_id).hold
        assert "held" in screen_text(app)
        assert not app.vault.get(later_id).hold


async def test_requests_view_warns_about_overdue_ones_and_closes_them(vault_path: Path, clock: FixedClock) -> None:
    (record_id,) = seed(vault_path, clock, [draft()])
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.open_request("access", [record_id], received=date(2026, 4, 1))
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("q")
        assert isinstance(app.screen, RequestsScreen)
        assert "OVERDUE" in screen_text(app) and "2026-05-01" in screen_text(app)
        await pilot.press("c", "enter")  # mark answered today
        await settle(pilot)
        assert app.screen.query_one("#requests", DataTable).row_count == 0
        assert app.vault is not None and app.vault.list_requests() == []


async def test_sync_screen_pushes_to_a_folder_with_progress(
    vault_path: Path, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("SEALBOOK_NO_KEYRING", "1")
    seed(vault_path, clock, people())
    target = tmp_path / "remote"
    target.mkdir()
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("y")
        assert isinstance(app.screen, SyncScreen)
        assert "not set up" in screen_text(app)
        assert app.vault is not None
        app.vault.sync_setup(str(target))
        app.screen.show_state()
        await pilot.pause()
        await pilot.press("u")
        await settle(pilot)
        assert "pushed" in status(app)
        assert "Counter: 1" in screen_text(app)
    assert any(p.stat().st_size > 0 for p in target.iterdir())
