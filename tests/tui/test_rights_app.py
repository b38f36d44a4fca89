"""Pilot tests of the data subject's rights in the app, on a real vault file (cheap KDF).

Consent proof in the form (Art. 7(1)), further duties, the suppression list,
erasure with the owner's keep choice and the legal-claims ground (Art. 17(3)),
holds and restrictions the person asked for (Art. 18(1), 18(3)) and the review
of consent records.  Keys go in one burst (``pilot.press``), never with sleeps.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Select, SelectionList, Static

from tests.conftest import PASSPHRASE, FixedClock, draft
from tests.tui.helpers import app_for, notified, people, screen_text, seed, settle, unlock
from tui.screens.contacts import ContactsScreen
from tui.screens.dialogs import Confirm, EraseDialog, InformedDialog, RestrictionDialog
from tui.screens.form import ContactForm
from vault.model import Contact, ContactDraft, Duty, LegalBasis
from vault.service import Vault

SIZES = [(80, 24), (100, 30)]
SIZE = (100, 30)


def names(app: object) -> list[str]:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ContactsScreen)
    return [c.name for c in screen.table.rows]


def stored(path: Path, clock: FixedClock) -> list[Contact]:
    """Every contact in the vault file, read by a second process."""
    with Vault(path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        return vault.contacts()


def value(app: object, field_id: str) -> str:
    return str(app.screen.query_one(f"#{field_id}", Input).value)  # type: ignore[attr-defined]


def label_text(app: object, label_id: str) -> str:
    """The text of the line under a form field (its hint and its error); "error-emails" or "hint-emails"."""
    found = app.screen.query(f"#msg-{label_id.split('-', 1)[1]}")  # type: ignore[attr-defined]
    return str(found.first(Static).render()) if found else ""


def shown(app: object, label_id: str) -> bool:
    """Whether the form shows the error ("error-<field>") or a hint ("hint-<field>") of a field."""
    kind, field_id = label_id.split("-", 1)
    form = app.screen  # type: ignore[attr-defined]
    if kind == "error":
        return field_id in form.errors and form.query_one(f"#msg-{field_id}").display
    found = form.query(f"#msg-{field_id}")
    return bool(found) and found.first().display and bool(label_text(app, label_id).strip())


# --- the form: consent proof (Art. 7(1)) and further duties -------------------------------


async def test_consent_without_a_method_is_refused_by_the_form_itself(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock)
    app = app_for(vault_path, clock)
    saved: list[ContactDraft] = []

    def save(d: ContactDraft, *, allow_suppressed: bool = False) -> Contact:
        saved.append(d)
        raise AssertionError("the form must not call save with an incomplete consent")

    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert app.vault is not None
        await app.push_screen(ContactForm(app.vault, save))
        form = app.screen
        form.query_one("#basis", Select).value = LegalBasis.CONSENT
        form.query_one("#rule", Select).value = "consent"
        await pilot.pause()
        assert value(app, "consent_given") == ""  # never prefilled with today
        form.query_one("#name", Input).focus()
        await pilot.press(*"Eve", "ctrl+s")
        assert saved == []
        assert isinstance(app.screen, ContactForm)
        assert shown(app, "error-consent_given") and shown(app, "error-consent_method")
        assert app.focused is form.query_one("#consent_given")
        form.query_one("#consent_given", Input).value = "2026-06-01"
        await pilot.press("ctrl+s")
        assert saved == []
        assert not shown(app, "error-consent_given")
        assert shown(app, "error-consent_method")
        message = label_text(app, "error-consent_method")
        assert "how it was given" in message and "Art. 7(1)" in message
        assert app.focused is form.query_one("#consent_method")


async def test_consent_without_a_method_saves_nothing_in_the_app(vault_path: Path, clock: FixedClock) -> None:
    seed(vault_path, clock)
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        app.screen.query_one("#basis", Select).value = LegalBasis.CONSENT
        app.screen.query_one("#rule", Select).value = "consent"
        app.screen.query_one("#consent_given", Input).value = "2026-06-01"
        await pilot.press(*"Eve", "ctrl+s")
        assert isinstance(app.screen, ContactForm)
        assert "nothing was saved" in screen_text(app)
        await pilot.press("escape", "y")  # typed input: discarded after a yes (issue 13.3)
        assert names(app) == []
    assert stored(vault_path, clock) == []


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_burst_typed_into_the_form_keeps_every_field_in_place(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    seed(vault_path, clock)
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        # Tab order: name, organisation, e-mails, phones, basis, consent given, how, withdrawn,
        # rule, (trigger: hidden, the consent date is asked once), further duties, source, purpose.
        await pilot.press(
            "n",
            *"Zoë Öztürk",
            "tab",
            *"Öztürk Consulting",
            "tab",
            *"zoe@oeztuerk.example",
            "tab",
            *"030 9876543",
            "tab",
            "enter",  # open the basis list (on contract) ...
            "up",  # ... consent is the first
            "enter",
            "tab",
            *"2026-02-01",
            "tab",
            *"web form",
            "tab",
            "tab",  # the rule: consent, preselected with the basis consent (issue 13.13)
            "tab",
            *"limitation-3y:2026-01-31",
            "tab",
            *"newsletter sign-up",
            "tab",
            *"newsletter",
        )
        form = app.screen
        assert isinstance(form, ContactForm)
        assert form.query_one("#basis", Select).value is LegalBasis.CONSENT
        assert form.query_one("#rule", Select).value == "consent"
        assert not form.query_one("#trigger").display  # the consent date is the trigger
        assert [value(app, f) for f in ("name", "org", "emails", "phones")] == [
            "Zoë Öztürk",
            "Öztürk Consulting",
            "zoe@oeztuerk.example",
            "030 9876543",
        ]
        assert [value(app, f) for f in ("consent_given", "consent_method", "consent_withdrawn", "trigger")] == [
            "2026-02-01",
            "web form",
            "",
            "",
        ]
        assert [value(app, f) for f in ("duties", "source", "purpose")] == [
            "limitation-3y:2026-01-31",
            "newsletter sign-up",
            "newsletter",
        ]
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ContactsScreen)
    [zoe] = stored(vault_path, clock)
    assert (zoe.name, zoe.org, zoe.emails, zoe.phones) == (
        "Zoë Öztürk",
        "Öztürk Consulting",
        ("zoe@oeztuerk.example",),
        ("+49309876543",),
    )
    assert (zoe.basis, zoe.rule, zoe.consent_given, zoe.consent_method) == (
        LegalBasis.CONSENT,
        "consent",
        date(2026, 2, 1),
        "web form",
    )
    assert zoe.duties == (Duty("limitation-3y", date(2026, 1, 31)),)
    assert (zoe.source, zoe.purpose) == ("newsletter sign-up", "newsletter")


async def test_further_duties_are_checked_against_the_rules_and_prefilled_on_edit(
    vault_path: Path, clock: FixedClock
) -> None:
    [juergen] = seed(vault_path, clock, [draft(duties=(Duty("limitation-3y", date(2026, 1, 31)),))])
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, ContactForm)
        assert value(app, "duties") == "limitation-3y:2026-01-31"
        duties = app.screen.query_one("#duties", Input)
        for typed, message in [
            ("tax:2026-01-01", "no rule 'tax'"),
            ("consent:2026-01-01", "no fixed period"),
            ("limitation-3y 2026-01-01", "rule:YYYY-MM-DD"),
            ("limitation-3y:31.01.2026", "YYYY-MM-DD"),
        ]:
            duties.value = typed
            await pilot.press("ctrl+s")
            assert isinstance(app.screen, ContactForm), typed
            assert shown(app, "error-duties"), typed
            assert message in label_text(app, "error-duties"), typed
        assert app.focused is duties
        duties.value = "limitation-3y:2026-01-31, books-10y:2025-12-31"
        await pilot.pause()
        assert "books-10y until 2035-12-31" in screen_text(app)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ContactsScreen)
        assert "Further duties" in screen_text(app)  # the detail pane
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        assert vault.get(juergen).duties == (
            Duty("books-10y", date(2025, 12, 31)),
            Duty("limitation-3y", date(2026, 1, 31)),
        )
        assert vault.get(juergen).retention_end == date(2035, 12, 31)


async def test_withdrawing_consent_in_the_form_says_what_happens_and_leaves_the_proof(
    vault_path: Path, clock: FixedClock
) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"chloe", "enter", "e")
        assert isinstance(app.screen, ContactForm)
        assert (value(app, "consent_given"), value(app, "consent_method")) == ("2026-01-20", "web form")
        assert not shown(app, "hint-consent_withdrawn")
        app.screen.query_one("#consent_withdrawn", Input).value = "2026-06-10"
        await pilot.pause()
        assert "Takes effect when saved" in label_text(app, "hint-consent_withdrawn")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ContactsScreen)
        assert "restricted now" in notified(app)
        assert "Chloé Weiß" not in names(app)
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        proof = vault.get(ids[2])
        assert proof.is_consent_proof and proof.is_restricted and proof.emails == ()
        assert (proof.consent_given, proof.consent_method) == (date(2026, 1, 20), "web form")


# --- the suppression list -------------------------------------------------------------------


async def test_a_person_on_the_suppression_list_is_added_only_when_the_owner_says_so(
    vault_path: Path, clock: FixedClock
) -> None:
    ids = seed(vault_path, clock, people())
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.erase(ids[1])  # Anna Schmidt: deleted now, her e-mail and phone listed
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("n")
        app.screen.query_one("#trigger", Input).value = "2026-06-01"  # a new letter
        await pilot.press(*"Anna S.", "tab", "tab", *"ANNA@schmidt.example", "ctrl+s")
        form = app.screen_stack[-2]
        assert isinstance(app.screen, Confirm)
        assert isinstance(form, ContactForm)
        text = str(app.screen.query_one("#confirm-body").render())
        assert "had their data erased on 2026-06-15" in text
        assert "anna@" not in text.casefold()  # the dialog names the reason and day, not the address
        await pilot.press("n")  # not added: the form stays with everything typed
        assert app.screen is form
        assert (value(app, "name"), value(app, "emails")) == ("Anna S.", "ANNA@schmidt.example")
        assert "Not added" in screen_text(app)
        assert len(app.vault or []) == 3
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        assert isinstance(app.screen, ContactsScreen)
        assert "Anna S." in names(app)
    again = [c for c in stored(vault_path, clock) if c.name == "Anna S."]
    assert [c.emails for c in again] == [("ANNA@schmidt.example",)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_an_edit_adding_an_erased_persons_email_is_saved_only_when_the_owner_says_so(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    ids = seed(vault_path, clock, people())
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.erase(ids[1])  # Anna Schmidt: deleted now, her e-mail and phone listed
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        edited = names(app)[0]
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, ContactForm) and value(app, "name") == edited
        before = value(app, "emails")
        form.query_one("#emails", Input).focus()
        await pilot.press("end", *",ANNA@schmidt.example", "ctrl+s")
        assert isinstance(app.screen, Confirm)
        text = screen_text(app)
        assert "had their data erased on 2026-06-15" in text and "Save anyway" in text
        assert "anna@" not in text.casefold()  # the reason and the day, never the address
        await pilot.press("n")  # not saved: the form keeps everything typed
        assert app.screen is form
        assert value(app, "emails") == before + ",ANNA@schmidt.example"
        assert "Not saved" in screen_text(app)
        assert [c.emails for c in stored(vault_path, clock) if c.name == edited] == [tuple(before.split(", "))]
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        assert isinstance(app.screen, ContactsScreen)
    [again] = [c for c in stored(vault_path, clock) if c.name == edited]
    assert again.emails[-1] == "ANNA@schmidt.example"


# --- erasure (Art. 17) ------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_an_erasure_that_restricts_keeps_exactly_what_the_owner_chose(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    [rec] = seed(
        vault_path,
        clock,
        [draft(emails=("first@example.org", "second@example.org"), source="trade fair", purpose="invoicing")],
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("d")
        dialog = app.screen
        assert isinstance(dialog, EraseDialog)
        assert "Art. 17(3)(b)" in screen_text(app)
        keep = dialog.query_one("#keep", SelectionList)
        assert set(keep.selected) == {"org", "source", "purpose"}  # policy.DEFAULT_KEEP
        assert not dialog.query("#claims")  # a statutory duty: no case-by-case choice
        # From "Cancel" Tab wraps to the list: drop the organisation, keep the first e-mail,
        # drop the source (the phone stays unticked), keep the purpose.
        await pilot.press("tab", "space", "down", "space", "down", "down", "space", "y")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert names(app) == []  # restricted: hidden
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        kept = vault.get(rec)
        assert kept.is_restricted and kept.erasure_requested == date(2026, 6, 15)
        assert (kept.org, kept.emails, kept.phones, kept.source, kept.purpose, kept.notes) == (
            "",
            ("first@example.org",),
            (),
            "",
            "invoicing",
            "",
        )


async def test_a_legal_claims_ground_can_be_set_aside_case_by_case(vault_path: Path, clock: FixedClock) -> None:
    [rec, other] = seed(
        vault_path,
        clock,
        [
            draft(name="Claire Claims", rule="limitation-3y", trigger=date(2026, 1, 31)),
            draft(name="Dora Duty", rule="limitation-3y", trigger=date(2026, 1, 31)),
        ],
    )
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert names(app) == ["Claire Claims", "Dora Duty"]
        await pilot.press("d")
        dialog = app.screen
        assert isinstance(dialog, EraseDialog)
        assert "Art. 17(3)(e)" in screen_text(app)
        assert "cannot be deleted yet" in screen_text(app)
        assert dialog.query_one("#keep").display
        claims = dialog.query_one("#claims", Checkbox)
        assert "erase now" in str(claims.label)
        # Tab from "Cancel": the keep list, then the claims box.
        await pilot.press("tab", "tab", "space")
        assert claims.value
        assert "deleted now" in screen_text(app)
        assert not dialog.query_one("#keep").display
        await pilot.press("y")
        await settle(pilot)
        assert names(app) == ["Dora Duty"]
        await pilot.press("d", "y")  # claims still needed: restricted, not deleted
        await settle(pilot)
        assert names(app) == []
    left = stored(vault_path, clock)
    assert [c.id for c in left] == [other]
    assert left[0].is_restricted
    assert rec not in {c.id for c in left}


# --- holds and restrictions (Art. 18) ---------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_hold_asks_for_its_reason_and_stores_it(
    vault_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"becker", "enter", "h", *"tax audit 2025", "enter")
        assert isinstance(app.screen, ContactsScreen)
        assert app.screen.table.current is not None and app.screen.table.current.hold
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        held = vault.get(ids[3])
        assert (held.hold, held.hold_reason, held.is_restricted) == (True, "tax audit 2025", False)
        assert held.restriction_requested is None


async def test_a_hold_the_person_asked_for_records_the_day_and_restricts(vault_path: Path, clock: FixedClock) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"becker", "enter", "h", *"disputes accuracy", "tab", "space", "tab")
        assert isinstance(app.screen, RestrictionDialog)
        assert value(app, "requested-on") == "2026-06-15"  # today, editable
        await pilot.press(*"2026-07-01", "enter")  # the future: refused in the dialog
        assert isinstance(app.screen, RestrictionDialog)
        assert "future" in screen_text(app)
        assert value(app, "reason") == "disputes accuracy"
        app.screen.query_one("#requested-on", Input).value = ""
        await pilot.press(*"2026-06-10", "enter")
        assert isinstance(app.screen, ContactsScreen)
        assert names(app) == []  # restricted now: hidden
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        held = vault.get(ids[3])
        assert (held.hold, held.hold_reason, held.restriction_requested) == (
            True,
            "disputes accuracy",
            date(2026, 6, 10),
        )
        assert held.is_restricted


async def test_releasing_a_hold_the_person_asked_for_needs_the_day_they_were_informed(
    vault_path: Path, clock: FixedClock
) -> None:
    ids = seed(vault_path, clock, people())
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.hold(ids[3], reason="disputes accuracy", requested=date(2026, 6, 1))
    app = app_for(vault_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("t", "slash", *"becker", "enter", "h")
        assert isinstance(app.screen, InformedDialog)
        assert "Art. 18(3)" in screen_text(app)
        assert value(app, "informed") == "2026-06-15"  # today by default, editable
        await pilot.press("backspace", "enter")  # nothing given: nothing lifted
        assert isinstance(app.screen, InformedDialog)
        assert "enter the day" in screen_text(app)
        await pilot.press(*"2026-05-31", "enter")  # before the request
        assert isinstance(app.screen, InformedDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert app.vault is not None and app.vault.get(ids[3]).hold
        await pilot.press("h", *"2026-06-12", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert "Hold released." in notified(app)
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        released = vault.get(ids[3])
        assert not released.hold and not released.is_restricted and released.restriction_requested is None
        assert [e.detail for e in vault.audit_log(action="released")] == ["person informed 2026-06-12"]


async def test_lifting_a_restriction_the_person_asked_for_needs_the_day_they_were_informed(
    vault_path: Path, clock: FixedClock
) -> None:
    ids = seed(vault_path, clock, people())
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.restrict(ids[3], requested=date(2026, 6, 1))
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("t", "slash", *"becker", "enter", "r")
        assert isinstance(app.screen, InformedDialog)
        await pilot.press("enter")  # today
        assert isinstance(app.screen, ContactsScreen)
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        assert not vault.get(ids[3]).is_restricted
        assert [e.detail for e in vault.audit_log(action="unrestricted")] == ["person informed 2026-06-15"]


async def test_a_release_that_completes_a_pending_erasure_says_the_record_was_erased(
    vault_path: Path, clock: FixedClock
) -> None:
    ids = seed(vault_path, clock, people())
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.hold(ids[1], reason="legal claim")  # Anna Schmidt: an inquiry, no duty
        vault.erase(ids[1])  # waits for the hold
    app = app_for(vault_path, clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("t", "slash", *"anna", "enter")
        assert "Erasure requested" in screen_text(app)  # the detail pane
        await pilot.press("h")
        assert isinstance(app.screen, Confirm)
        assert "erases the record now" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert "the record was erased" in notified(app)
        assert names(app) == []
    assert ids[1] not in {c.id for c in stored(vault_path, clock)}


# --- review of consent records ----------------------------------------------------------------


async def test_the_reviewed_action_moves_the_next_review_of_a_consent_record(
    vault_path: Path, clock: FixedClock
) -> None:
    ids = seed(vault_path, clock, people())
    app = app_for(vault_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert app.vault is not None and app.vault.get(ids[2]).review_at == date(2028, 1, 20)
        await pilot.press("slash", *"chloe", "enter", "v")
        assert "next review on 2028-06-15" in notified(app)
        await pilot.press("slash", "ctrl+u", *"becker", "enter", "v")
        assert "Nothing to review" in notified(app)
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        chloe = vault.get(ids[2])
        assert (chloe.review_at, chloe.reviewed) == (date(2028, 6, 15), date(2026, 6, 15))
        assert vault.get(ids[3]).meta_version == 1  # nothing to review: unchanged
        assert len(vault.audit_log(action="reviewed")) == 1


# --- the detail pane ----------------------------------------------------------------------------


async def test_the_detail_pane_shows_what_the_rights_left_on_a_record(vault_path: Path, clock: FixedClock) -> None:
    [rec] = seed(vault_path, clock, [draft(duties=(Duty("limitation-3y", date(2026, 1, 31)),))])
    with Vault(vault_path, clock=clock) as vault:
        vault.unlock(PASSPHRASE)
        vault.hold(rec, reason="tax audit 2025", requested=date(2026, 6, 2))
        vault.object(rec, on=date(2026, 6, 3))
    app = app_for(vault_path, clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("t")
        text = screen_text(app)
    for expected in (
        "Further duties",
        "limitation-3y",
        "2026-01-31",
        "Hold reason",
        "tax audit 2025",
        "Asked to restrict",
        "2026-06-02",
        "Erasure requested",
        "on hold",
        "Objected",
        "2026-06-03",
    ):
        assert expected in text, expected
