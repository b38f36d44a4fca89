"""Imports and the data subject's rights (issue 11, points 2, 3 and 5).

* a consent batch needs the day consent was given and how, and never invents them;
* people on the suppression list are listed apart in the preview and not imported
  unless the owner decides so;
* an import merging into a stored contact adds its rule as a further duty.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import draft
from vault.errors import InvalidInput
from vault.importers import Outcome
from vault.importers.batch import suppression_hits
from vault.model import ContactDraft, Duty, LegalBasis, State
from vault.service import Vault
from vault.suppression import ERASED, Suppressed

CORPUS = Path(__file__).resolve().parent.parent / "data" / "import"
GIVEN = date(2026, 2, 1)
TODAY = "2026-06-15"  # the fixed clock's day: erasures and withdrawals are listed with it


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def card(name: str, *lines: str) -> str:
    return (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + name + "\r\n" + "".join(f"{line}\r\n" for line in lines) + "END:VCARD\r\n"
    )


def consent_import(vault: Vault, path: Path, **options: object):  # type: ignore[no-untyped-def]
    return vault.import_file(  # type: ignore[misc]
        path, LegalBasis.CONSENT, "consent", consent_given=GIVEN, consent_method="web form", **options
    )


def contract_import(vault: Vault, path: Path, **options: object):  # type: ignore[no-untyped-def]
    return vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10), **options)  # type: ignore[arg-type]


# --- point 2: consent needs its day and its way, per batch, never filled in ---------------------


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({}, "the day consent was given"),
        ({"consent_given": GIVEN}, "how consent was given"),
        ({"consent_given": GIVEN, "consent_method": "  "}, "how consent was given"),
        ({"consent_method": "web form"}, "the day consent was given"),
    ],
)
def test_a_consent_batch_without_day_or_method_is_refused_before_the_file_is_read(
    vault: Vault, tmp_path: Path, options: dict[str, object], says: str
) -> None:
    missing = tmp_path / "not-there.vcf"  # reading it would fail differently: the check comes first
    for path in (missing, CORPUS / "google.csv"):
        with pytest.raises(InvalidInput, match=says) as caught:
            vault.import_file(path, LegalBasis.CONSENT, "consent", **options)  # type: ignore[arg-type]
        assert caught.value.field == "consent"
        with pytest.raises(InvalidInput, match=says):
            vault.import_file(path, LegalBasis.CONSENT, "consent", dry_run=True, **options)  # type: ignore[arg-type]
    assert len(vault) == 0 and vault.audit_log(action="imported") == []


def test_every_record_of_a_consent_batch_carries_exactly_the_given_day_and_method(vault: Vault) -> None:
    report = consent_import(vault, CORPUS / "google.csv")
    assert report.committed and report.added == 3
    stored = vault.contacts()
    assert len(stored) == 3
    for contact in stored:
        assert (contact.basis, contact.rule) == (LegalBasis.CONSENT, "consent")
        assert (contact.consent_given, contact.consent_method, contact.trigger) == (GIVEN, "web form", GIVEN)
        assert (contact.consent_withdrawn, contact.retention_end, contact.review_at) == (None, None, date(2028, 2, 1))


def test_a_consent_batch_under_a_fixed_rule_also_needs_and_keeps_the_consent_fields(vault: Vault) -> None:
    with pytest.raises(InvalidInput, match="consent"):
        vault.import_file(CORPUS / "generic.csv", LegalBasis.CONSENT, "inquiry-6m", date(2026, 5, 1))
    vault.import_file(
        CORPUS / "generic.csv",
        LegalBasis.CONSENT,
        "inquiry-6m",
        date(2026, 5, 1),
        consent_given=date(2026, 4, 30),
        consent_method="e-mail",
    )
    (contact,) = vault.contacts()
    assert (contact.consent_given, contact.consent_method, contact.trigger) == (
        date(2026, 4, 30),
        "e-mail",
        date(2026, 5, 1),
    )


def test_a_vcard_rev_or_other_date_never_becomes_the_day_consent_was_given(vault: Vault, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dated.vcf",
        card(
            "Rev Person",
            "EMAIL:rev@example.org",
            "REV:2019-05-04T10:00:00Z",
            "BDAY:1980-01-02",
            "ANNIVERSARY:2010-06-07",
            "X-SEALBOOK-TRIGGER:2018-01-01",
        )
        + card("Second Person", "EMAIL:second@example.org", "REV:20200101T000000Z"),
    )
    consent_import(vault, path)
    assert {(c.consent_given, c.consent_method, c.trigger) for c in vault.contacts()} == {(GIVEN, "web form", GIVEN)}


def test_a_non_consent_batch_gets_no_consent_fields_from_the_file_or_today(vault: Vault, tmp_path: Path) -> None:
    path = write(tmp_path, "dated.vcf", card("Rev Person", "EMAIL:rev@example.org", "REV:2019-05-04T10:00:00Z"))
    contract_import(vault, path)
    (contact,) = vault.contacts()
    assert (contact.consent_given, contact.consent_method) == (None, "")


@pytest.mark.parametrize(
    ("basis", "rule", "trigger", "options", "field", "says"),
    [
        (
            LegalBasis.CONTRACT,
            "invoices-8y",
            date(2025, 3, 10),
            {"consent_given": GIVEN},
            "consent",
            "basis consent only",
        ),
        (LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10), {"consent_method": "web form"}, "consent", "only"),
        (
            LegalBasis.CONSENT,
            "consent",
            None,
            {"consent_given": date(2026, 6, 16), "consent_method": "web form"},
            "consent",
            "future",
        ),
        (
            LegalBasis.CONSENT,
            "consent",
            date(2026, 1, 1),
            {"consent_given": GIVEN, "consent_method": "web form"},
            "trigger",
            "runs from the day consent was given",
        ),
    ],
)
def test_inconsistent_consent_fields_are_refused(
    vault: Vault,
    basis: LegalBasis,
    rule: str,
    trigger: date | None,
    options: dict[str, object],
    field: str,
    says: str,
) -> None:
    with pytest.raises(InvalidInput, match=says) as caught:
        vault.import_file(CORPUS / "generic.csv", basis, rule, trigger, **options)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert len(vault) == 0


def test_the_consent_rule_may_name_the_same_day_as_its_start(vault: Vault) -> None:
    vault.import_file(
        CORPUS / "generic.csv", LegalBasis.CONSENT, "consent", GIVEN, consent_given=GIVEN, consent_method="in person"
    )
    assert vault.contacts()[0].consent_given == GIVEN


# --- point 3: the suppression list -----------------------------------------------------------------


def _erased_person(vault: Vault) -> None:
    """Someone erased before (no duty, so deleted at once): their e-mail and phone are listed."""
    gone = vault.add(
        draft(
            name="Gone Person",
            emails=("gone@example.org",),
            phones=("+49 30 7654321",),
            basis=LegalBasis.LEGITIMATE_INTERESTS,
            rule="inquiry-6m",
            trigger=date(2026, 5, 1),
        )
    )
    vault.erase(gone.id)
    assert len(vault) == 0


def _file_with_the_erased_person(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        "mixed.vcf",
        card("New Person", "EMAIL:new@example.org")
        + card("Gone Again", "EMAIL:GONE@example.org")  # another spelling of the listed address
        + card("Other Person", "TEL:+49 30 1111111"),
    )


def test_an_erased_person_is_listed_apart_in_the_preview_and_skipped(vault: Vault, tmp_path: Path) -> None:
    _erased_person(vault)
    path = _file_with_the_erased_person(tmp_path)
    preview = contract_import(vault, path, dry_run=True)
    assert [e.outcome for e in preview.entries] == [Outcome.ADDED, Outcome.SUPPRESSED, Outcome.ADDED]
    (listed,) = preview.suppressed
    assert (listed.index, listed.name) == (2, "Gone Again")
    assert listed.message == f"on the suppression list: had their data erased on {TODAY}"
    assert "gone@" not in listed.message.casefold()  # the reason and the day, nothing else
    assert (preview.added, preview.merged, preview.skipped, preview.has_errors) == (2, 0, 0, False)
    assert len(vault) == 0

    report = contract_import(vault, path)
    assert report.committed and [e.outcome for e in report.entries] == [
        Outcome.ADDED,
        Outcome.SUPPRESSED,
        Outcome.ADDED,
    ]
    assert report.suppressed[0].record_id is None
    assert sorted(c.name for c in vault.contacts()) == ["New Person", "Other Person"]
    assert len(vault.audit_log(action="imported")) == 2


def test_an_erased_person_is_imported_when_the_owner_decides_so(vault: Vault, tmp_path: Path) -> None:
    _erased_person(vault)
    report = contract_import(vault, _file_with_the_erased_person(tmp_path), include_suppressed=True)
    assert report.suppressed == () and report.added == 3
    assert (
        report.entries[1].message == f"on the suppression list (had their data erased on {TODAY}), imported as decided"
    )
    assert sorted(c.name for c in vault.contacts()) == ["Gone Again", "New Person", "Other Person"]


def test_a_listed_phone_and_a_withdrawn_or_objected_person_are_caught_too(vault: Vault, tmp_path: Path) -> None:
    fan = vault.add(
        draft(
            name="Fan",
            emails=("fan@example.org",),
            phones=(),
            basis=LegalBasis.CONSENT,
            rule="consent",
            trigger=None,
            consent_given=date(2026, 1, 5),
            consent_method="web form",
        )
    )
    vault.update(
        fan.id,
        draft(
            name="Fan",
            emails=("fan@example.org",),
            phones=(),
            basis=LegalBasis.CONSENT,
            rule="consent",
            trigger=None,
            consent_given=date(2026, 1, 5),
            consent_method="web form",
            consent_withdrawn=date(2026, 6, 1),
        ),
    )
    critic = vault.add(
        draft(
            name="Critic",
            emails=(),
            phones=("+49 89 5555555",),
            rule="inquiry-6m",
            basis=LegalBasis.LEGITIMATE_INTERESTS,
            trigger=date(2026, 5, 1),
        )
    )
    vault.object(critic.id, on=date(2026, 6, 10))
    path = write(tmp_path, "back.vcf", card("Fan Again", "EMAIL:fan@example.org") + card("Critic", "TEL:089 5555555"))
    report = contract_import(vault, path, dry_run=True)
    # the day each was listed is the core's (the objection's day; the withdrawal's or today)
    (withdrawn,) = vault.suppressed(draft(name="x", emails=("fan@example.org",), phones=()))
    (objected,) = vault.suppressed(draft(name="x", emails=(), phones=("+49 89 5555555",)))
    assert objected.since == date(2026, 6, 10) and withdrawn.since in (date(2026, 6, 1), date(2026, 6, 15))
    assert [e.message for e in report.suppressed] == [
        f"on the suppression list: withdrew consent on {withdrawn.since.isoformat()}",
        "on the suppression list: objected on 2026-06-10",
    ]
    assert [e.name for e in report.suppressed] == ["Fan Again", "Critic"]


def test_a_later_entry_of_the_same_listed_person_is_left_out_too(vault: Vault, tmp_path: Path) -> None:
    _erased_person(vault)
    path = write(
        tmp_path,
        "twins.vcf",
        card("Gone Again", "UID:same-1", "EMAIL:gone@example.org")
        + card("Gone Again", "UID:same-1", "EMAIL:x@example.org"),
    )
    report = contract_import(vault, path)
    assert [e.outcome for e in report.entries] == [Outcome.SUPPRESSED, Outcome.SUPPRESSED]
    assert report.entries[1].message == (
        f"on the suppression list: had their data erased on {TODAY} (the same person as entry 1)"
    )
    assert len(vault) == 0


def test_nothing_is_merged_into_a_record_whose_erasure_waits_for_a_duty(vault: Vault, tmp_path: Path) -> None:
    kept = vault.add(draft(name="Kept Person", emails=("kept@example.org",), phones=(), uid="kept-1"))
    vault.erase(kept.id, keep={"email"})  # invoices-8y runs until 2033: restricted, the e-mail kept
    before = vault.get(kept.id)
    assert before.state is State.RESTRICTED and before.erasure_requested is not None
    path = write(tmp_path, "kept.vcf", card("Kept Person", "UID:kept-1", "EMAIL:new@example.org", "NOTE:more"))
    report = vault.import_file(path, LegalBasis.CONTRACT, "books-10y", date(2025, 1, 1), include_suppressed=True)
    (entry,) = report.entries
    assert entry.outcome is Outcome.SKIPPED and entry.record_id == kept.id
    assert entry.message == f"matches a stored contact whose erasure was requested on {TODAY}; nothing merged"
    assert vault.get(kept.id) == before


def test_suppression_is_checked_in_batches_and_entry_by_entry_only_where_a_batch_hits() -> None:
    listed = "person-1500@example.org"
    calls: list[int] = []

    def check(d: ContactDraft) -> list[Suppressed]:
        calls.append(len(d.emails))
        return [Suppressed("email", ERASED, date(2026, 1, 1))] if listed in d.emails else []

    drafts: list[ContactDraft | None] = [
        draft(emails=(f"person-{i}@example.org",), phones=()) if i % 7 else None for i in range(3000)
    ]
    hits = suppression_hits(drafts, check)
    assert list(hits) == [1500]
    # 2571 addresses: chunks of 1000, 1000 and 571; only the second one is checked entry by entry
    assert calls == [1000, 1000, *([1] * 1000), 571]


# --- point 5: a merge adds the batch's rule -------------------------------------------------------


def test_a_merge_adds_the_batch_rule_as_a_duty_and_the_later_end_wins(vault: Vault, tmp_path: Path) -> None:
    existing = vault.add(draft(name="Old Client", emails=("old@example.org",), phones=(), trigger=date(2020, 3, 10)))
    assert existing.retention_end == date(2028, 12, 31)
    path = write(tmp_path, "books.vcf", card("Old Client", "EMAIL:old@example.org"))

    preview = vault.import_file(path, LegalBasis.LEGAL_OBLIGATION, "books-10y", date(2024, 1, 1), dry_run=True)
    (entry,) = preview.entries
    assert (entry.outcome, entry.record_id) == (Outcome.MERGED, existing.id)
    assert entry.message == "rule added: books-10y from 2024-01-01, kept until 2034-12-31"
    assert (entry.duty, preview.rules_added) == (Duty("books-10y", date(2024, 1, 1)), 1)
    assert vault.get(existing.id) == existing  # a preview writes nothing

    report = vault.import_file(path, LegalBasis.LEGAL_OBLIGATION, "books-10y", date(2024, 1, 1))
    assert (report.added, report.merged, report.skipped) == (0, 1, 0)
    merged = vault.get(existing.id)
    assert merged.duties == (Duty("books-10y", date(2024, 1, 1)),)
    assert merged.retention_end == date(2034, 12, 31)
    assert (merged.basis, merged.rule, merged.trigger) == (LegalBasis.CONTRACT, "invoices-8y", date(2020, 3, 10))
    assert merged.meta_version == 2
    assert [(a.record_id, a.detail) for a in vault.audit_log(action="updated")] == [(existing.id, "import")]
    assert vault.due_for_purge(date(2029, 1, 1)) == []  # the signed end moved too

    again = vault.import_file(path, LegalBasis.LEGAL_OBLIGATION, "books-10y", date(2024, 1, 1))
    assert again.skipped == 1 and vault.get(existing.id).meta_version == 2
    assert again.entries[0].message == "already in a stored contact; rule books-10y from 2024-01-01 already applies"


def test_an_earlier_date_under_the_same_rule_adds_nothing(vault: Vault, tmp_path: Path) -> None:
    existing = vault.add(draft(name="Client", emails=("client@example.org",), phones=()))  # invoices-8y 2025-03-10
    path = write(tmp_path, "same.vcf", card("Client", "EMAIL:client@example.org"))
    report = vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", date(2025, 1, 1))
    assert report.entries[0].outcome is Outcome.SKIPPED
    assert "adds nothing: it applies from 2025-03-10 already" in report.entries[0].message
    later = vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", date(2026, 2, 1))
    assert later.entries[0].outcome is Outcome.MERGED
    assert vault.get(existing.id).retention_end == date(2034, 12, 31)


def test_an_open_ended_batch_rule_is_not_added_and_the_report_says_so(vault: Vault, tmp_path: Path) -> None:
    existing = vault.add(draft(name="Client", emails=("client@example.org",), phones=(), org=""))
    path = write(tmp_path, "consent.vcf", card("Client", "EMAIL:client@example.org", "ORG:Client GmbH"))
    report = consent_import(vault, path)
    (entry,) = report.entries
    assert entry.outcome is Outcome.MERGED
    assert entry.message == (
        "adds details to a stored contact; rule consent not added (no fixed period); "
        "the contact keeps its legal basis and rules"
    )
    merged = vault.get(existing.id)
    assert (merged.org, merged.duties, merged.basis, merged.consent_given) == (
        "Client GmbH",
        (),
        LegalBasis.CONTRACT,
        None,
    )
    assert merged.retention_end == existing.retention_end


def test_a_merge_into_a_consent_stored_before_its_method_was_recorded_is_not_blocked(
    vault: Vault, tmp_path: Path
) -> None:
    """Consent records from before issue 11 have no method; a merge keeps that consent as it was."""
    from dataclasses import replace

    old = vault.add(draft(name="Old Reader", basis=LegalBasis.CONSENT, rule="consent", trigger=None,
                          consent_given=GIVEN, consent_method="form", emails=("old.reader@example.org",),
                          phones=()))  # fmt: skip
    vault._book.rewrite(old, replace(old, consent_method=""), "updated")  # as stored before issue 11
    path = write(tmp_path, "reader.vcf", card("Old Reader", "EMAIL:old.reader@example.org", "TEL:+49 30 5550100"))
    report = contract_import(vault, path)
    assert (report.added, report.merged) == (0, 1), [e.message for e in report.entries]
    merged = vault.get(old.id)
    assert merged.consent_method == "" and merged.consent_given == GIVEN and merged.phones == ("+49305550100",)
