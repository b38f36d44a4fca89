"""The data subject's rights (issue 11, points 1-7), pinned with dated vectors.

The clock of the ``vault`` fixture stands on 2026-06-15 unless a test moves it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from vault.errors import ContactNotFound, InvalidInput, SuppressedDetail, SuppressedPerson, VaultError
from vault.model import Duty, EraseOutcome, LegalBasis, State
from vault.service import Vault

TODAY = date(2026, 6, 15)


def consent(**overrides: object):  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {
        "name": "Newsletter Reader",
        "basis": LegalBasis.CONSENT,
        "rule": "consent",
        "trigger": None,
        "consent_given": date(2026, 1, 10),
        "consent_method": "web form with double opt-in",
        "emails": ("reader@example.org",),
        "phones": ("+49 30 7654321",),
        "notes": "likes jazz",
        "org": "",
    }
    fields.update(overrides)
    return draft(**fields)


def rows(path: Path, table: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute(f"SELECT id FROM {table}")}
    finally:
        conn.close()


# --- 1. An erasure under a hold completes ---------------------------------------------------


def test_erasure_under_hold_completes_at_once_when_the_hold_is_released(vault: Vault) -> None:
    c = vault.add(consent())
    vault.hold(c.id, reason="tax audit 2025")
    result = vault.erase(c.id)
    assert result.outcome is EraseOutcome.RESTRICTED and "hold" in result.reason
    held = vault.get(c.id)
    assert held.erasure_requested == TODAY and held.is_restricted
    assert held.retention_end == TODAY  # nothing but the hold keeps it: the purge may take it from tomorrow
    assert vault.release(c.id) is None  # completed at once
    with pytest.raises(ContactNotFound):
        vault.get(c.id)
    erased = vault.audit_log(action="erased")
    assert [(a.record_id, a.detail) for a in erased] == [(c.id, "completes the erasure requested 2026-06-15")]


def test_an_inquiry_under_hold_does_not_wait_for_its_old_end(vault: Vault, clock: FixedClock) -> None:
    c = vault.add(draft(rule="inquiry-6m", trigger=date(2026, 6, 1)))  # would end 2026-12-01
    vault.hold(c.id)
    vault.erase(c.id)
    assert vault.get(c.id).retention_end == TODAY
    # The hold is released on another device (or by an edit there): the next purge completes it.
    assert vault.purge(date(2026, 6, 16)).purged == ()  # still held here
    vault.release(c.id)
    assert c.id not in rows(vault.path, "contacts")


def test_erasure_under_a_duty_is_completed_by_the_unattended_purge_which_says_so(
    vault: Vault, clock: FixedClock
) -> None:
    c = vault.add(draft(rule="invoices-8y", trigger=date(2025, 3, 10)))  # duty until 2033-12-31
    result = vault.erase(c.id)
    assert result.outcome is EraseOutcome.RESTRICTED
    assert result.purge_from == date(2034, 1, 1)
    assert vault.get(c.id).retention_end == date(2033, 12, 31)
    vault.lock()
    clock.set_date(date(2034, 1, 1))  # the audit log keeps the pending request past its 3 years
    report = vault.purge()
    assert [p.record_id for p in report.purged] == [c.id]
    purged = [a for a in vault.audit_log(action="purged") if a.record_id == c.id]
    assert "completes the erasure requested 2026-06-15" in purged[0].detail


def test_a_hold_released_elsewhere_lets_the_purge_complete_the_erasure(vault: Vault) -> None:
    c = vault.add(consent())  # no end of its own (until withdrawn)
    vault.hold(c.id)
    vault.erase(c.id)
    # Simulate the release arriving without this device completing it: the signed end is the request day.
    vault._book.rewrite(vault.get(c.id), replace(vault.get(c.id), hold=False), "released")
    assert [p.record_id for p in vault.purge(date(2026, 6, 16)).purged] == [c.id]


# --- 2. Consent is provable, never invented ------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent_given": None}, "consent"),
        ({"consent_method": ""}, "consent"),
        ({"consent_given": None, "rule": "invoices-8y", "trigger": date(2020, 5, 5)}, "consent"),
        ({"consent_given": date(2026, 6, 16)}, "consent"),  # tomorrow
    ],
)
def test_consent_needs_its_day_and_how_it_was_given(vault: Vault, overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        vault.add(consent(**overrides))
    assert err.value.field == field
    assert len(vault) == 0


def test_consent_dates_are_stored_as_given(vault: Vault) -> None:
    c = vault.add(consent(rule="invoices-8y", trigger=date(2020, 5, 5), consent_given=date(2019, 2, 1)))
    assert c.consent_given == date(2019, 2, 1) and c.consent_method == "web form with double opt-in"
    again = Vault(vault.path, clock=vault._clock)
    again.unlock(PASSPHRASE)
    assert again.get(c.id).consent_method == "web form with double opt-in"
    again.close()


def test_a_consent_rule_takes_the_consent_day_as_its_trigger(vault: Vault) -> None:
    c = vault.add(consent())
    assert c.trigger == date(2026, 1, 10) and c.review_at == date(2028, 1, 10)


# --- 3. Withdrawal and objection stick; the suppression list -------------------------------


def test_withdrawal_without_duty_keeps_only_a_minimal_proof(vault: Vault) -> None:
    c = vault.add(consent())
    proof = vault.update(c.id, replace(c.to_draft(), consent_withdrawn=date(2026, 6, 14)))
    stored = vault.get(c.id)
    assert stored == proof
    assert (stored.emails, stored.phones, stored.notes, stored.org) == ((), (), "", "")
    assert stored.is_restricted and stored.is_consent_proof
    assert (stored.consent_given, stored.consent_withdrawn) == (date(2026, 1, 10), date(2026, 6, 14))
    assert stored.consent_method == "web form with double opt-in"
    assert stored.retention_end == date(2029, 12, 31)  # 3 years from the end of 2026 (Art. 17(3)(e))
    assert [a.detail for a in vault.audit_log(action="withdrawn")] == ["consent proof kept"]


def test_withdrawal_with_a_duty_restricts_and_changes_the_basis_to_the_duty(vault: Vault) -> None:
    c = vault.add(consent(duties=(Duty("invoices-8y", date(2025, 3, 10)),)))
    assert c.retention_end is None  # open-ended while the consent stands
    kept = vault.update(c.id, replace(c.to_draft(), consent_withdrawn=date(2026, 6, 14)))
    assert kept.is_restricted
    assert (kept.basis, kept.rule, kept.trigger, kept.duties) == (
        LegalBasis.LEGAL_OBLIGATION,
        "invoices-8y",
        date(2025, 3, 10),
        (Duty("consent-proof", date(2026, 6, 14)),),  # the proof outlives a shorter duty
    )
    assert kept.retention_end == date(2033, 12, 31)
    assert kept.notes == "" and kept.emails == ()


def test_withdrawn_objected_and_erased_people_are_suppressed_by_keyed_hash(vault: Vault) -> None:
    a = vault.add(consent())
    vault.update(a.id, replace(a.to_draft(), consent_withdrawn=TODAY))
    b = vault.add(draft(name="Objector", emails=("obj@example.org",), phones=(), rule="inquiry-6m",
                        basis=LegalBasis.LEGITIMATE_INTERESTS, trigger=date(2026, 6, 1)))  # fmt: skip
    assert vault.object(b.id, on=date(2026, 6, 10)).outcome is EraseOutcome.DELETED
    c = vault.add(draft(name="Erased", emails=("gone@example.org",), phones=("+49 89 1234567",)))
    vault.erase(c.id)
    for emails, phones, reason in [
        (("READER@example.org",), (), "withdrew consent on 2026-06-15"),
        ((), ("030 7654321",), "withdrew consent"),
        (("obj@example.org",), (), "objected on 2026-06-10"),  # the day of the objection
        ((), ("+49 (89) 1234567",), "had their data erased"),
    ]:
        with pytest.raises(SuppressedPerson) as err:
            vault.add(draft(name="Again", emails=emails, phones=phones))
        assert reason in str(err.value)
        for value in (*emails, *phones):
            assert value not in str(err.value)  # the error never carries the address itself
    assert vault.add(draft(name="New", emails=("new@example.org",), phones=())).name == "New"
    assert vault.add(draft(name="Again", emails=("reader@example.org",)), allow_suppressed=True).name == "Again"
    blob = vault.path.read_bytes() + Path(str(vault.path) + "-wal").read_bytes() if Path(
        str(vault.path) + "-wal").exists() else vault.path.read_bytes()  # fmt: skip
    for plain in (b"reader@example.org", b"obj@example.org", b"gone@example.org", b"+4930765432"):
        assert plain not in blob


def test_an_edit_that_adds_a_suppressed_detail_is_refused_unless_the_owner_decides(vault: Vault) -> None:
    """An edit is no back door: an e-mail or phone it adds is looked up on the suppression list,
    in any spelling; details the contact already had are not (a shared office line stays)."""
    gone = vault.add(draft(name="Erased", emails=("gone@example.org",), phones=("+49 89 1234567",)))
    office = vault.add(draft(name="Colleague", emails=("desk@example.org",), phones=("+49 89 1234567",)))
    vault.erase(gone.id)
    other = vault.add(draft(name="Someone", emails=("someone@example.org",), phones=()))
    for emails, phones in [
        (("someone@example.org", "GONE@example.org"), ()),
        (("someone@example.org",), ("089 1234567",)),
    ]:
        with pytest.raises(SuppressedDetail) as err:
            vault.update(other.id, replace(other.to_draft(), emails=emails, phones=phones))
        assert isinstance(err.value, SuppressedPerson)  # front ends that know only the add's error still catch it
        assert "had their data erased" in str(err.value) and "gone@" not in str(err.value).casefold()
        assert vault.get(other.id) == other  # nothing saved
    # The colleague already had the shared number: editing their name is not refused.
    renamed = vault.update(office.id, replace(office.to_draft(), name="Colleague Two"))
    assert renamed.name == "Colleague Two" and renamed.phones == ("+49891234567",)
    saved = vault.update(
        other.id, replace(other.to_draft(), emails=("someone@example.org", "gone@example.org")), allow_suppressed=True
    )
    assert saved.emails == ("someone@example.org", "gone@example.org") and saved.meta_version == other.meta_version + 1


def test_the_suppression_key_is_the_vaults_own(vault: Vault, tmp_path: Path, clock: FixedClock) -> None:
    """A digest taken under another vault's key does not match (the hash is keyed)."""
    c = vault.add(draft(emails=("x@example.org",)))
    vault.erase(c.id)
    other = Vault.create(tmp_path / "other.sqlite", PASSPHRASE, allow_weak_kdf=True,
                         kdf=vault.kdf, clock=clock)  # fmt: skip
    conn = sqlite3.connect(vault.path)
    digests = conn.execute("SELECT digest, reason, since FROM suppression").fetchall()
    conn.close()
    conn = sqlite3.connect(other.path)
    conn.executemany("INSERT INTO suppression VALUES (?, ?, ?)", digests)
    conn.commit()
    conn.close()
    assert other.add(draft(emails=("x@example.org",), phones=())).emails == ("x@example.org",)
    other.close()


# --- 4. Minimisation when erasure becomes restriction ----------------------------------------


def test_restriction_after_erasure_keeps_only_what_the_owner_chose(vault: Vault) -> None:
    c = vault.add(draft(emails=("a@example.org", "b@example.org"), phones=("+49 30 1234567", "+49 30 7654321"),
                        source="fair", purpose="invoicing"))  # fmt: skip
    vault.erase(c.id)
    default = vault.get(c.id)
    assert (default.name, default.org, default.purpose, default.source) == (c.name, c.org, "invoicing", "fair")
    assert (default.emails, default.phones, default.notes) == ((), (), "")
    d = vault.add(
        draft(name="Two", emails=("c@example.org", "d@example.org"), phones=("+49 40 1234567", "+49 40 7654321"))
    )
    vault.erase(d.id, keep=("email", "phone"))
    chosen = vault.get(d.id)
    assert (chosen.emails, chosen.phones, chosen.org, chosen.notes) == (("c@example.org",), ("+49401234567",), "", "")
    with pytest.raises(InvalidInput):
        vault.erase(vault.add(draft(name="Three", emails=(), phones=())).id, keep=("notes",))


# --- 5. Several duties on one person ----------------------------------------------------------


def test_several_duties_the_latest_end_wins(vault: Vault) -> None:
    c = vault.add(
        draft(
            rule="letters-6y",
            trigger=date(2020, 2, 1),  # ends 2026-12-31
            duties=(Duty("invoices-8y", date(2024, 7, 1)), Duty("limitation-3y", date(2025, 1, 1))),
        )
    )
    assert c.retention_end == date(2032, 12, 31)
    edited = vault.update(c.id, replace(c.to_draft(), duties=(Duty("books-10y", date(2024, 1, 1)),)))
    assert edited.retention_end == date(2034, 12, 31)
    with pytest.raises(InvalidInput):
        vault.add(draft(duties=(Duty("consent", date(2024, 1, 1)),)))  # no fixed period


# --- 6. Limitation periods are Art. 17(3)(e); the review action -------------------------------


def test_limitation_is_a_legal_claims_ground_not_a_duty(vault: Vault) -> None:
    c = vault.add(draft(rule="limitation-3y", trigger=date(2025, 9, 1)))  # until 2028-12-31
    preview = vault.erase_preview(c.id)
    assert preview.outcome is EraseOutcome.RESTRICTED
    assert "Art. 17(3)(e)" in preview.reason and "17(3)(b)" not in preview.reason
    assert "case" in preview.reason
    assert vault.erase_preview(c.id, claims_needed=False).outcome is EraseOutcome.DELETED
    invoice = vault.add(draft(name="Invoice", rule="invoices-8y", trigger=date(2025, 9, 1)))
    assert "Art. 17(3)(b)" in vault.erase_preview(invoice.id).reason
    assert vault.erase_preview(invoice.id, claims_needed=False).outcome is EraseOutcome.RESTRICTED


def test_owner_rules_marked_as_legal_claims_say_17_3_e(tmp_path: Path, clock: FixedClock) -> None:
    from tests.conftest import WEAK_KDF
    from vault.config import parse_config

    config = parse_config({"rules": {"claims-5y": {"years": 5, "legal_claims": True}}})
    with Vault.create(tmp_path / "v.sqlite", PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock,
                      config=config) as v:  # fmt: skip
        c = v.add(draft(rule="claims-5y", trigger=date(2026, 1, 1)))
        assert "Art. 17(3)(e)" in v.erase_preview(c.id).reason


def test_reviewing_a_consent_record_moves_the_review_and_never_deletes(vault: Vault, clock: FixedClock) -> None:
    c = vault.add(consent(consent_given=date(2024, 3, 1)))
    assert c.review_at == date(2026, 3, 1)
    assert [r.record_id for r in vault.overdue_reviews()] == [c.id]
    reviewed = vault.reviewed(c.id)
    assert reviewed.review_at == date(2028, 6, 15) and reviewed.retention_end is None
    assert vault.overdue_reviews() == []
    with pytest.raises(InvalidInput):
        vault.reviewed(vault.add(draft(name="Invoice")).id)  # no review date to move


# --- 7. Restriction the person asked for (Art. 18) --------------------------------------------


def test_a_person_requested_hold_restricts_and_its_lifting_needs_the_person_told(vault: Vault) -> None:
    c = vault.add(draft(rule="inquiry-6m", trigger=date(2025, 1, 1)))  # expired
    held = vault.hold(c.id, reason="needs it for a court case", requested=date(2026, 6, 12))
    assert held.hold and held.is_restricted and held.restriction_requested == date(2026, 6, 12)
    assert held.hold_reason == "needs it for a court case"
    assert vault.purge(TODAY).purged == ()
    with pytest.raises(InvalidInput) as err:
        vault.release(c.id)
    assert "Art. 18(3)" in str(err.value)
    with pytest.raises(InvalidInput):
        vault.release(c.id, informed=date(2026, 6, 11))  # before the request
    released = vault.release(c.id, informed=date(2026, 6, 14))
    assert released is not None and not released.hold and released.state is State.ACTIVE
    assert "person informed 2026-06-14" in vault.audit_log(action="released")[-1].detail
    assert "court" not in "".join(a.detail for a in vault.audit_log())  # the reason stays sealed


def test_a_person_requested_restriction_needs_the_person_told_before_lifting(vault: Vault) -> None:
    c = vault.add(draft())
    vault.restrict(c.id, requested=date(2026, 6, 1))
    with pytest.raises(InvalidInput):
        vault.unrestrict(c.id)
    assert vault.unrestrict(c.id, informed=TODAY).state is State.ACTIVE


def test_a_pending_erasure_cannot_be_unrestricted(vault: Vault) -> None:
    c = vault.add(draft())
    vault.erase(c.id)
    with pytest.raises(VaultError):
        vault.unrestrict(c.id)


@pytest.mark.parametrize(
    "overrides",
    [
        {"trigger": date(9999, 12, 31)},  # issue 12.1: "year 10005 is out of range" before
        {"trigger": date(1, 1, 1)},  # issue 12.2: taken without a word, purged at once
        {"duties": (Duty("invoices-8y", date(9999, 1, 1)),)},
        {"consent_given": date(1, 1, 1)},
    ],
)
def test_absurd_dates_are_refused_with_a_clear_error(vault: Vault, overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as err:
        vault.add(draft(**overrides))
    assert "outside 1900-2199" in str(err.value)
    assert len(vault) == 0


def test_a_withdrawal_is_recorded_on_an_old_consent_record_without_a_method(vault: Vault) -> None:
    """Records from before issue 11 have no consent method: a withdrawal must never be blocked."""
    c = vault.add(consent())
    legacy = replace(vault.get(c.id), consent_method="")
    vault._book.rewrite(vault.get(c.id), legacy, "updated")
    edited = vault.update(c.id, replace(legacy.to_draft(), notes="edited"))  # the old consent stays as it was
    assert edited.consent_method == "" and edited.notes == "edited"
    with pytest.raises(InvalidInput):  # a changed consent is a new one: it needs its method
        vault.update(c.id, replace(legacy.to_draft(), consent_given=date(2026, 2, 1)))
    with pytest.raises(InvalidInput):  # and a new record never inherits the exemption
        vault.add(replace(legacy.to_draft(), name="New"))
    proof = vault.update(c.id, replace(legacy.to_draft(), consent_withdrawn=TODAY))
    assert proof.is_consent_proof and proof.consent_method == ""


def test_hold_and_duty_together_name_both(vault: Vault) -> None:
    c = vault.add(draft(rule="invoices-8y", trigger=date(2025, 3, 10)))
    vault.hold(c.id, reason="tax audit 2025")
    preview = vault.erase_preview(c.id)
    assert "tax audit 2025" in preview.reason and "2033-12-31" in preview.reason
    assert preview.purge_from == date(2034, 1, 1)


def test_withdrawal_under_a_legal_claims_period_rests_on_legitimate_interests(vault: Vault) -> None:
    c = vault.add(consent(duties=(Duty("limitation-3y", date(2026, 2, 1)),)))  # claims until 2029-12-31
    kept = vault.update(c.id, replace(c.to_draft(), consent_withdrawn=date(2026, 6, 14)))
    assert (kept.basis, kept.rule) == (LegalBasis.LEGITIMATE_INTERESTS, "limitation-3y")  # Art. 6(1)(f), not (c)


def test_the_proof_of_a_withdrawal_outlives_a_shorter_duty(vault: Vault) -> None:
    c = vault.add(consent(duties=(Duty("letters-6y", date(2020, 6, 1)),)))  # the duty ends 2026-12-31
    kept = vault.update(c.id, replace(c.to_draft(), consent_withdrawn=date(2026, 6, 14)))
    assert kept.retention_end == date(2029, 12, 31)  # the proof period, not the duty's 2026-12-31


def test_an_erasure_records_the_day_the_person_asked(vault: Vault) -> None:
    c = vault.add(draft(rule="invoices-8y", trigger=date(2025, 3, 10)))
    with pytest.raises(InvalidInput):
        vault.erase(c.id, requested=date(2026, 6, 16))  # tomorrow
    vault.erase(c.id, requested=date(2026, 6, 1))
    assert vault.get(c.id).erasure_requested == date(2026, 6, 1)
    o = vault.add(draft(name="Objector", emails=(), phones=(), rule="invoices-8y", trigger=date(2025, 3, 10)))
    vault.object(o.id, on=date(2026, 6, 10))
    assert vault.get(o.id).erasure_requested == vault.get(o.id).objected == date(2026, 6, 10)
