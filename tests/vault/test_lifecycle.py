"""Lifecycle rules (issue 5, 6): restricted, held, consent withdrawn, reviews."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import draft
from vault.errors import ContactNotFound
from vault.model import Contact, ContactDraft, LegalBasis
from vault.policy import consent_withdrawal_erases
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


def test_withdrawn_consent_without_other_duty_erases_at_once(vault: Vault) -> None:
    contact = vault.add(consent_draft())
    vault.update(contact.id, consent_draft(consent_withdrawn=date(2026, 6, 14)))
    with pytest.raises(ContactNotFound):
        vault.get(contact.id)
    assert contact.id not in ids_in_file(vault.path, "contacts")
    assert contact.id in ids_in_file(vault.path, "tombstones")
    assert [a.record_id for a in vault.audit_log(action="withdrawn")] == [contact.id]
    assert not vault.audit_log(action="updated")  # erased instead of rewritten: one transaction


def test_withdrawn_consent_keeps_a_record_another_basis_carries(vault: Vault) -> None:
    contact = vault.add(draft(consent_given=date(2025, 3, 10)))  # contract, invoices-8y
    updated = vault.update(contact.id, replace(contact.to_draft(), consent_withdrawn=date(2026, 6, 1)))
    assert vault.get(contact.id).consent_withdrawn == date(2026, 6, 1) == updated.consent_withdrawn


def test_withdrawn_consent_keeps_a_held_record(vault: Vault) -> None:
    contact = vault.add(consent_draft())
    vault.hold(contact.id)
    vault.update(contact.id, consent_draft(consent_withdrawn=date(2026, 6, 14)))
    assert vault.get(contact.id).consent_withdrawn == date(2026, 6, 14)


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


@pytest.mark.parametrize(
    ("overrides", "erases"),
    [
        ({}, True),
        ({"consent_withdrawn": None}, False),
        ({"basis": LegalBasis.CONTRACT}, False),
        ({"hold": True}, False),
        ({"rule": "limitation-3y", "retention_end": date(2029, 12, 31)}, False),  # a duty still runs
        ({"rule": "limitation-3y", "retention_end": date(2026, 1, 1)}, True),  # the duty has ended
        ({"rule": "inquiry-6m", "retention_end": date(2026, 12, 1)}, True),  # a limit, not a duty
    ],
)
def test_consent_withdrawal_rule(overrides: dict[str, object], erases: bool) -> None:
    contact = _contact(**overrides)
    assert consent_withdrawal_erases(contact, RULES.get(contact.rule), TODAY) is erases


def test_an_unknown_rule_never_erases_on_withdrawal() -> None:
    assert consent_withdrawal_erases(_contact(rule="gone"), None, TODAY) is False


def test_passed_review_dates_are_listed_not_deleted(vault: Vault) -> None:
    due = vault.add(consent_draft(trigger=date(2024, 5, 1), consent_given=date(2024, 5, 1)))  # review 2026-05-01
    vault.add(consent_draft(name="Fresh"))  # review 2028-01-01
    assert [(r.record_id, r.review_at) for r in vault.overdue_reviews(TODAY)] == [(due.id, date(2026, 5, 1))]
    vault.purge(TODAY)
    assert vault.get(due.id).id == due.id
