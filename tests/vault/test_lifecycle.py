"""Lifecycle rules (issue 5, 6): restricted, held, consent withdrawn, reviews."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import draft
from vault.model import Contact, ContactDraft, LegalBasis, State
from vault.policy import DEFAULT_KEEP, after_withdrawal
from vault.retention import RuleBook
from vault.service import Vault

TODAY = date(2026, 6, 15)
RULES = RuleBook()


def ids_in_file(path: Path, table: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute(f"SELECT id FROM {table}")}
    finally:
        conn.close()


def consent_draft(**overrides: object) -> ContactDraft:
    fields: dict[str, object] = {
        "name": "Newsletter Reader",
        "basis": LegalBasis.CONSENT,
        "rule": "consent",
        "trigger": date(2026, 1, 1),
        "consent_given": date(2026, 1, 1),
        "consent_method": "form",
    }
    fields.update(overrides)
    return draft(**fields)


def test_a_restricted_record_is_purged_at_its_retention_end_like_any_other(vault: Vault) -> None:
    contact = vault.add(draft(rule="inquiry-6m", trigger=date(2025, 12, 1)))  # ends 2026-06-01
    vault.restrict(contact.id)
    assert vault.purge(date(2026, 6, 1)).purged == ()  # the end day itself is still kept
    assert [p.record_id for p in vault.purge(date(2026, 6, 2)).purged] == [contact.id]


def test_a_hold_blocks_the_purge_until_released(vault: Vault) -> None:
    contact = vault.add(draft(rule="inquiry-6m", trigger=date(2025, 1, 1)))
    vault.hold(contact.id)
    assert vault.purge(TODAY).purged == ()
    assert vault.get(contact.id).hold
    vault.release(contact.id)
    assert [p.record_id for p in vault.purge(TODAY).purged] == [contact.id]


def test_withdrawn_consent_without_other_duty_leaves_only_a_proof(vault: Vault) -> None:
    contact = vault.add(consent_draft())
    vault.update(contact.id, consent_draft(consent_withdrawn=date(2026, 6, 14)))
    proof = vault.get(contact.id)
    assert proof.is_consent_proof and proof.is_restricted and proof.emails == () and proof.phones == ()
    assert [a.record_id for a in vault.audit_log(action="withdrawn")] == [contact.id]
    assert not vault.audit_log(action="updated")  # one rewrite, one transaction


def test_withdrawn_consent_keeps_a_record_another_basis_carries(vault: Vault) -> None:
    contact = vault.add(draft(consent_given=date(2025, 3, 10)))  # contract, invoices-8y
    updated = vault.update(contact.id, replace(contact.to_draft(), consent_withdrawn=date(2026, 6, 1)))
    assert vault.get(contact.id).consent_withdrawn == date(2026, 6, 1) == updated.consent_withdrawn
    assert updated.state is State.ACTIVE and updated.emails == contact.emails


def test_withdrawn_consent_keeps_a_held_record_restricted_until_release(vault: Vault) -> None:
    contact = vault.add(consent_draft())
    vault.hold(contact.id)
    vault.update(contact.id, consent_draft(consent_withdrawn=date(2026, 6, 14)))
    held = vault.get(contact.id)
    assert held.consent_withdrawn == date(2026, 6, 14) and held.is_restricted and held.hold
    released = vault.release(contact.id)
    assert released is not None and released.is_consent_proof


@pytest.mark.parametrize(
    ("overrides", "outcome"),
    [
        ({}, "proof"),
        ({"hold": True}, "held"),
        ({"rule": "limitation-3y", "trigger": date(2026, 1, 1)}, "duty"),  # runs until 2029-12-31
        ({"rule": "limitation-3y", "trigger": date(2022, 1, 1)}, "proof"),  # ended 2025-12-31
        ({"rule": "inquiry-6m", "trigger": date(2026, 6, 1)}, "proof"),  # a limit, not a duty
    ],
)
def test_what_a_withdrawal_leaves(overrides: dict[str, object], outcome: str) -> None:
    contact = _contact(**overrides)
    kept = after_withdrawal(contact, RULES, TODAY, DEFAULT_KEEP)
    assert {
        "proof": kept.is_consent_proof,
        "held": kept.hold and kept.is_restricted,
        "duty": kept.basis is LegalBasis.LEGITIMATE_INTERESTS,
    }[outcome]  # fmt: skip (limitation: 6(1)(f))
    assert kept.is_restricted


def _contact(**overrides: object) -> Contact:
    fields: dict[str, object] = {
        "id": "00000000-0000-0000-0000-000000000001",
        "name": "X",
        "basis": LegalBasis.CONSENT,
        "rule": "consent",
        "trigger": date(2026, 1, 1),
        "retention_end": None,
        "review_at": date(2028, 1, 1),
        "consent_given": date(2026, 1, 1),
        "consent_withdrawn": date(2026, 6, 1),
    }
    fields.update(overrides)
    return Contact(**fields)  # type: ignore[arg-type]


def test_passed_review_dates_are_listed_not_deleted(vault: Vault) -> None:
    due = vault.add(consent_draft(trigger=date(2024, 5, 1), consent_given=date(2024, 5, 1)))  # review 2026-05-01
    vault.add(consent_draft(name="Fresh"))  # review 2028-01-01
    assert [(r.record_id, r.review_at) for r in vault.overdue_reviews(TODAY)] == [(due.id, date(2026, 5, 1))]
    vault.purge(TODAY)
    assert vault.get(due.id).id == due.id
