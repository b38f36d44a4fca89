"""Pilot tests that drive the real app on a real vault file (cheap KDF settings)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from textual.widgets import Input, Label, Select

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock
from tests.tui.helpers import SIZE, app_for, people, screen_text, seed, settle, type_text, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.dialogs import EraseDialog, RestrictionDialog
from tui.screens.form import ContactForm
from tui.screens.help import HelpScreen
from tui.screens.unlock import CreateScreen, UnlockScreen
from vault.config import Config
from vault.model import LegalBasis
from vault.search import _word_keys
from vault.service import Vault


def names(app: object) -> list[str]:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ContactsScreen)
    return [c.name for c in screen.table.rows]


async def test_first_run_creates_the_vault_and_opens_an_empty_list(vault_path: Path, clock: FixedClock) -> None:
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, CreateScreen)
        assert "cannot be recovered" in screen_text(app)
        await type_text(pilot, PASSPHRASE)
        assert "Strength: strong" in screen_text(app)
        await pilot.press("enter")
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert app.sub_title == "unlocked"
        assert names(app) == []
    assert vault_path.is_file()
    with Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        assert len(vault) == 0


async def test_differing_passphrases_create_nothing(vault_path: Path, clock: FixedClock) -> None:
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await type_text(pilot, PASSPHRASE + "x")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CreateScreen)
        assert "differ" in screen_text(app)
    assert not vault_path.exists()


async def test_wrong_passphrase_shows_the_error_and_a_retry_unlocks(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, UnlockScreen)
        assert "locked" in screen_text(app)
        await unlock(pilot, "not the passphrase")
        assert isinstance(app.screen, UnlockScreen)
        error = app.screen.query_one("#error", Label)
        assert error.display
        assert "passphrase is wrong" in screen_text(app)
        assert app.screen.query_one("#passphrase", Input).value == ""
        assert not app.screen.query_one("#passphrase", Input).disabled
        await unlock(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert sorted(names(app)) == sorted(["Anna Schmidt", "Bernd Becker", "Chloé Weiß", "Jürgen Müller"])


async def test_add_a_contact_through_the_form_and_find_it_by_part_of_the_email(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, ContactForm)
        await type_text(pilot, "Zoë Öztürk")
        app.screen.query_one("#org", Input).value = "Öztürk Consulting"
        app.screen.query_one("#emails", Input).focus()
        await type_text(pilot, "zoe@oeztuerk.example, info@oeztuerk.example")
        app.screen.query_one("#phones", Input).focus()
        await type_text(pilot, "030 9876543")
        await pilot.pause()
        assert "+49 30 9876543" in screen_text(app)  # parsed and shown internationally
        app.screen.query_one("#trigger", Input).focus()
        await type_text(pilot, "2026-02-01")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)
        assert "Zoë Öztürk" in names(app)
        await pilot.press("slash")
        await type_text(pilot, "tuerk.exa")
        await pilot.pause()
        assert names(app) == ["Zoë Öztürk"]
        await pilot.press("enter")
        assert "info@oeztuerk.example" in screen_text(app)  # detail pane
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        [zoe] = vault.search("zoe@")
        assert zoe.emails == ("zoe@oeztuerk.example", "info@oeztuerk.example")
        assert zoe.phones == ("+49309876543",)
        assert zoe.retention_end == date(2032, 12, 31)  # business letters, 6 years


async def test_an_invalid_email_keeps_the_form_open_and_saves_nothing(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock)
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        await type_text(pilot, "Eve")
        app.screen.query_one("#emails", Input).focus()
        await type_text(pilot, "eve@@example")
        app.screen.query_one("#trigger", Input).value = "2026-02-01"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ContactForm)
        assert app.screen.query_one("#msg-emails").display
        assert app.screen.query_one("#emails").has_class("-error")
        assert "not a valid address" in screen_text(app)
        assert "nothing was saved" in screen_text(app)
        assert app.focused is app.screen.query_one("#emails")
        await pilot.press("escape", "y")
        assert isinstance(app.screen, ContactsScreen)
        assert names(app) == []
    with Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        assert len(vault) == 0


async def test_a_missing_trigger_date_is_reported_next_to_the_field(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock)
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        await type_text(pilot, "Ned")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ContactForm)
        assert app.screen.query_one("#msg-trigger").display
        assert app.focused is app.screen.query_one("#trigger")


async def test_escape_cancels_the_form_without_saving(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock)
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        await type_text(pilot, "Nev")
        app.screen.query_one("#trigger", Input).value = "2026-01-01"
        await pilot.press("escape", "y")  # typed input: discarded only after a yes
        assert isinstance(app.screen, ContactsScreen)
        assert names(app) == []


async def test_retention_end_follows_the_trigger_date_and_consent_shows_its_fields(
    vault_path: Path, clock: FixedClock
) -> None:
    seed(vault_path, clock)
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, ContactForm)
        form.query_one("#rule", Select).value = "invoices-8y"
        form.query_one("#trigger", Input).value = "2025-03-10"
        await pilot.pause()
        assert "Retention end: 2033-12-31" in screen_text(app)
        form.query_one("#trigger", Input).value = "2026-01-05"
        await pilot.pause()
        assert "Retention end: 2034-12-31" in screen_text(app)
        assert not form.query_one("#consent-fields").display
        form.query_one("#basis", Select).value = LegalBasis.CONSENT
        await pilot.pause()
        assert form.query_one("#consent-fields").display


async def test_editing_a_contact_changes_it_in_the_list_and_the_vault(vault_path: Path, clock: FixedClock) -> None:
    [juergen, *_] = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash")
        await type_text(pilot, "mueller")
        await pilot.press("enter")
        assert names(app) == ["Jürgen Müller"]
        await pilot.press("e")
        assert isinstance(app.screen, ContactForm)
        org = app.screen.query_one("#org", Input)
        org.value = "Müller & Töchter GmbH"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)
        assert app.screen.table.current is not None
        assert app.screen.table.current.org == "Müller & Töchter GmbH"
    with Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        assert vault.get(juergen).org == "Müller & Töchter GmbH"
        assert vault.get(juergen).meta_version == 2


async def test_erasing_without_a_retention_duty_deletes_after_confirmation(vault_path: Path, clock: FixedClock) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"anna@", "enter")
        assert names(app) == ["Anna Schmidt"]
        await pilot.press("d")
        assert isinstance(app.screen, EraseDialog)
        assert "deleted now" in screen_text(app)
        assert not app.screen.query_one("#keep").display  # nothing stays: no choice to make
        await pilot.press("n")  # cancel first: nothing happens
        assert names(app) == ["Anna Schmidt"]
        await pilot.press("d", "y")
        await pilot.pause()
        assert names(app) == []
    with Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        assert ids[1] not in {c.id for c in vault.contacts()}
        assert len(vault) == 3


async def test_erasing_under_a_retention_duty_restricts_and_says_until_when(
    vault_path: Path, clock: FixedClock
) -> None:
    [juergen, *_] = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"juergen", "enter", "d")
        assert isinstance(app.screen, EraseDialog)
        text = screen_text(app)
        assert "cannot be deleted yet" in text
        assert "Art. 17(3)(b)" in text
        assert "2034-01-01" in text  # purge from
        await pilot.press("y")
        await pilot.pause()
        assert names(app) == []  # restricted: hidden from the working list
        await pilot.press("t")
        assert names(app) == ["Jürgen Müller"]
        assert "RESTRICTED" in screen_text(app)
    with Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        assert vault.get(juergen).is_restricted


async def test_restricted_records_are_hidden_until_toggled_and_marked(vault_path: Path, clock: FixedClock) -> None:
    ids = seed(vault_path, clock, people())
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.restrict(ids[3])  # Bernd Becker
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert "Bernd Becker" not in names(app)
        await pilot.press("t")
        assert "Bernd Becker" in names(app)
        row = app.screen.table.render_line(1 + names(app).index("Bernd Becker")).text
        assert "RESTRICTED" in row


async def test_hold_and_restrict_ask_first_and_apply(vault_path: Path, clock: FixedClock) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"becker", "enter", "h")
        assert isinstance(app.screen, RestrictionDialog)
        await pilot.press("enter")  # no reason given: still a hold
        await pilot.pause()
        assert app.screen.table.current.hold
        await pilot.press("r")
        assert isinstance(app.screen, RestrictionDialog)
        await pilot.press("y")
        await pilot.pause()
        assert names(app) == []
    with Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        assert vault.get(ids[3]).hold and vault.get(ids[3]).is_restricted


async def test_sorting_by_retention_end_puts_the_earliest_first(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert names(app) == ["Anna Schmidt", "Bernd Becker", "Chloé Weiß", "Jürgen Müller"]
        await pilot.press("s", "s")  # first name -> surname -> retention end
        # inquiry 2026-11-01, letters 2030-12-31, invoices 2033-12-31, consent open-ended last
        assert names(app) == ["Anna Schmidt", "Bernd Becker", "Jürgen Müller", "Chloé Weiß"]


async def test_search_ignores_case_accents_and_german_spelling(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        search = app.screen.query_one("#search", Input)
        for query, expected in [
            ("MULLER", ["Jürgen Müller"]),
            ("weiss", ["Chloé Weiß"]),
            ("chloe", ["Chloé Weiß"]),
            ("030 123", ["Jürgen Müller"]),
            ("0171/234", ["Anna Schmidt"]),
            ("", None),
        ]:
            search.value = query
            await pilot.pause()
            assert names(app) == (expected if expected is not None else sorted(names(app), key=str.casefold))
        # typing more narrows, deleting widens again
        search.value = "m"
        await pilot.pause()
        wide = len(names(app))
        search.value = "mu"
        await pilot.pause()
        assert len(names(app)) < wide
        search.value = "m"
        await pilot.pause()
        assert len(names(app)) == wide


async def test_ctrl_l_locks_drops_the_data_and_unlock_restores_it(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n")  # even with a form open
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)
        assert app.vault is not None and app.vault.is_locked
        assert app.sub_title == "locked"
        assert len(app.screen_stack) == 2
        assert "Müller" not in screen_text(app)
        assert _word_keys.cache_info().currsize == 0  # cached name fragments are gone too
        await unlock(pilot)
        assert len(names(app)) == 4


async def test_idle_time_locks_the_vault(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock, Config(idle_lock_minutes=1))
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        app.check_idle_lock()
        assert isinstance(app.screen, ContactsScreen)  # not idle yet
        app.last_activity -= 61
        app.check_idle_lock()
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)
        assert app.vault is not None and app.vault.is_locked


async def test_changes_by_another_process_show_up_without_a_restart(vault_path: Path, clock: FixedClock) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert "Anna Schmidt" in names(app)
        with Vault(vault_path, clock=clock) as other:  # e.g. the CLI or the purge job
            other.unlock(PASSPHRASE)
            other.erase(ids[1])
        app.refresh_from_disk()
        await pilot.pause()
        assert "Anna Schmidt" not in names(app)
        assert len(names(app)) == 3


async def test_help_and_the_command_palette_list_every_action(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "ctrl+l" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, ContactsScreen)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {
            "Lock",
            "Help",
            "New",
            "Edit",
            "Erase",
            "Restrict",
            "Hold",
            "Consent reviewed",
            "Export",
            "Import",
            "Purge",
            "Requests",
            "Sync",
        } <= titles
        footer = screen_text(app).splitlines()[-1].replace(" ", "")
        assert footer.startswith("^lLock")  # the rest are in the help and the palette (issue 13.10)
        for key in ("?Help", "nNew", "eEdit", "dErase", "/Search"):
            assert key in footer


async def test_a_damaged_or_foreign_file_is_reported_on_unlock(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "notavault.sqlite"
    path.write_bytes(b"hello, this is not a database" * 10)
    app = app_for(path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert "not a sealbook vault" in screen_text(app)


def test_weak_kdf_is_only_used_when_passed(vault_path: Path, clock: FixedClock) -> None:
    app = app_for(vault_path, clock)
    assert app.kdf == WEAK_KDF and app.allow_weak_kdf
