"""The erasure and retention policy: pure functions of a contact, the rules and a date.

What a draft must carry before it is stored, when a record's retention ends,
and whether an erasure request (Art. 17) or a withdrawn consent (Art. 7(3))
deletes now or restricts until a duty or a hold ends.  Nothing here touches
the store, the keys or the clock: callers pass ``today`` and ``now``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from vault.errors import InvalidInput
from vault.model import (
    Contact,
    ContactDraft,
    EraseOutcome,
    EraseResult,
    LegalBasis,
    RetentionRule,
    normalise_draft,
)
from vault.retention import RuleBook, purge_from, retention_end, review_date

DRAFT_FIELDS = (
    "name",
    "basis",
    "rule",
    "trigger",
    "emails",
    "phones",
    "org",
    "notes",
    "source",
    "purpose",
    "consent_given",
    "consent_withdrawn",
    "uid",
)


def check_passphrase(passphrase: str) -> None:
    """A new passphrase: 8 to 1024 characters."""
    if not isinstance(passphrase, str) or len(passphrase) < 8:
        raise InvalidInput("passphrase", "must be at least 8 characters")
    if len(passphrase) > 1024:
        raise InvalidInput("passphrase", "must be at most 1024 characters")


def draft_fields(draft: ContactDraft) -> dict[str, Any]:
    """The fields a draft sets on a contact."""
    return {name: getattr(draft, name) for name in DRAFT_FIELDS}


def rule_of(contact: Contact, rules: RuleBook) -> RetentionRule | None:
    """The contact's rule, or None when the rule book no longer knows it."""
    return rules.get(contact.rule) if contact.rule in rules else None


def dates_for(rules: RuleBook, rule_key: str, trigger: date | None) -> tuple[date | None, date | None]:
    """(retention end, review date) for a rule and trigger date, as a form previews it."""
    rule = rules.get(rule_key)
    return retention_end(rule, trigger), review_date(rule, trigger)


def validated(draft: ContactDraft, rules: RuleBook, region: str, today: date) -> ContactDraft:
    """The draft normalised (e-mail syntax, E.164 phones, lengths) with the dates its rule needs."""
    clean = normalise_draft(draft, region)
    rule = rules.get(clean.rule)
    if not rule.until_withdrawn and clean.trigger is None:
        raise InvalidInput("trigger", f"the rule {rule.key} needs a {rule.trigger_label}")
    if clean.basis is LegalBasis.CONSENT and clean.consent_given is None:
        clean = replace(clean, consent_given=clean.trigger or today)
    if rule.until_withdrawn and clean.trigger is None:
        clean = replace(clean, trigger=clean.consent_given or today)
    return clean


def new_contact(clean: ContactDraft, rules: RuleBook, now: datetime) -> Contact:
    """A new contact (fresh random id, version 1) from a validated draft."""
    end, review = dates_for(rules, clean.rule, clean.trigger)
    return Contact(
        id=str(uuid.uuid4()),
        retention_end=end,
        review_at=review,
        created=now,
        updated=now,
        meta_version=1,
        **draft_fields(clean),
    )


def edited(current: Contact, clean: ContactDraft, rules: RuleBook) -> Contact:
    """``current`` with a validated draft's fields and the dates they imply."""
    end, review = dates_for(rules, clean.rule, clean.trigger)
    return replace(current, retention_end=end, review_at=review, **draft_fields(clean))


def erase_decision(contact: Contact, rules: RuleBook, today: date) -> EraseResult:
    """What an erasure request does to ``contact`` today, and why (Art. 17(1), 17(3)(b))."""
    rule = rule_of(contact, rules)
    if contact.hold:
        return EraseResult(
            EraseOutcome.RESTRICTED,
            contact.id,
            "a legal hold applies; the record is restricted until the hold is released",
            purge_from(contact.retention_end),
        )
    if rule is not None and rule.obliges and contact.retention_end and contact.retention_end >= today:
        return EraseResult(
            EraseOutcome.RESTRICTED,
            contact.id,
            f"a retention duty applies until {contact.retention_end.isoformat()} "
            f"({rule.reference}; Art. 17(3)(b) GDPR); the record is restricted and purged afterwards",
            purge_from(contact.retention_end),
        )
    return EraseResult(EraseOutcome.DELETED, contact.id, "no retention duty or hold applies; deleted now")


def consent_withdrawal_erases(contact: Contact, rule: RetentionRule | None, today: date) -> bool:
    """True when a withdrawn consent leaves nothing that keeps ``contact`` (Art. 17(1)(b)).

    The processing must rest on consent; a hold or a statutory duty still
    running (``rule.obliges`` and the retention end not yet passed) keeps the
    record, as does an unknown rule (we cannot tell whether a duty applies).
    """
    if contact.consent_withdrawn is None or contact.basis is not LegalBasis.CONSENT:
        return False
    if contact.hold or rule is None:
        return False
    return not (rule.obliges and contact.retention_end is not None and contact.retention_end >= today)
