"""The erasure and retention policy: pure functions of a contact, the rules and a date.

What a draft must carry before it is stored, when a record's retention ends,
and whether an erasure request (Art. 17) or a withdrawn consent (Art. 7(3))
deletes now or restricts until a duty or a hold ends.  Nothing here touches
the store, the keys or the clock: callers pass ``today`` and ``now``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from vault.errors import InvalidInput
from vault.i18n import _, format_date
from vault.model import (
    CONSENT_PROOF_RULE,
    Contact,
    ContactDraft,
    Duty,
    EraseOutcome,
    EraseResult,
    LegalBasis,
    RetentionRule,
    State,
    normalise_draft,
)
from vault.retention import (
    RuleBook,
    erasure_ground,
    purge_from,
    reference,
    retention_end,
    review_date,
    trigger_label,
)

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
    "consent_method",
    "duties",
)

# What an erasure turned into restriction may keep besides the name and the dates
# (Art. 5(1)(c), 17(3)(b) "to the extent"): "email"/"phone" keep only the first one.
KEEPABLE = frozenset({"org", "email", "phone", "source", "purpose"})
DEFAULT_KEEP = frozenset({"org", "source", "purpose"})


def check_passphrase(passphrase: str) -> None:
    """A new passphrase: 8 to 1024 characters."""
    if not isinstance(passphrase, str) or len(passphrase) < 8:
        raise InvalidInput("passphrase", _("must be at least 8 characters"))
    if len(passphrase) > 1024:
        raise InvalidInput("passphrase", _("must be at most 1024 characters"))
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in passphrase):
        raise InvalidInput("passphrase", _("must not contain control characters (NUL, tab, line breaks, ...)"))
    try:
        passphrase.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("passphrase", _("is not valid UTF-8 text")) from None


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


def _pair_ends(rules: RuleBook, pairs: tuple[tuple[str, date | None], ...]) -> list[tuple[RetentionRule, date | None]]:
    return [(rules.get(key), retention_end(rules.get(key), trigger)) for key, trigger in pairs if key in rules]


def duty_ends(contact: Contact, rules: RuleBook) -> list[tuple[RetentionRule, date]]:
    """The (rule, end) of every pair that keeps the record despite an erasure request."""
    return [(rule, end) for rule, end in _pair_ends(rules, contact.pairs()) if rule.obliges and end is not None]


def contact_dates(contact: Contact, rules: RuleBook) -> tuple[date | None, date | None]:
    """(retention end, review date) of a contact: the latest end over all its (rule,
    trigger) pairs, open-ended while one of them is (a consent not withdrawn).

    Once an erasure was requested (or consent withdrawn) only the duties keep it:
    the end is the latest duty end, at least the day of the request, so the
    unattended purge deletes it as soon as no hold keeps it either.
    """
    if contact.erasure_requested is not None:
        ends = [end for _, end in duty_ends(contact, rules)]
        return max([contact.erasure_requested, *ends]), None
    pairs = _pair_ends(rules, contact.pairs())
    if contact.rule not in rules:
        return contact.retention_end, contact.review_at  # an unknown rule: keep what was signed
    all_ends = [end for _, end in pairs]
    end = None if any(e is None for e in all_ends) else max(e for e in all_ends if e is not None)
    main = rules.get(contact.rule)
    return end, review_date(main, contact.reviewed or contact.trigger)


def _recorded_before(clean: ContactDraft, before: ContactDraft | None) -> bool:
    """An edit (or an import merge) of a consent stored before its method was recorded
    (issue 11): the same consent stays as it was, "not recorded", and does not block
    the edit; a new or changed consent needs its method.  A withdrawal is never blocked."""
    return (
        before is not None
        and before.basis is LegalBasis.CONSENT
        and not before.consent_method
        and before.consent_given == clean.consent_given
    )


EARLIEST = date(1900, 1, 1)  # dates outside these bounds are typing errors (0001-01-01, 9999-12-31),
LATEST = date(2199, 12, 31)  # and a period added to them could leave the calendar


def _check_dates(draft: ContactDraft) -> None:
    days = [
        ("trigger", draft.trigger),
        ("consent", draft.consent_given),
        ("consent", draft.consent_withdrawn),
        *(("duties", d.trigger) for d in draft.duties),
    ]
    for name, day in days:
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInput(
                name,
                _("{day} lies outside {first}-{last}").format(
                    day=format_date(day), first=EARLIEST.year, last=LATEST.year
                ),
            )


def validated(
    draft: ContactDraft, rules: RuleBook, region: str, today: date, *, before: ContactDraft | None = None
) -> ContactDraft:
    """The draft normalised (e-mail syntax, E.164 phones, lengths), checked against its rules.

    Consent must be provable (Art. 7(1)): with the basis consent, the day it was
    given and how are required and never filled in.  The consent rule's trigger
    is the day consent was given.
    """
    clean = normalise_draft(draft, region)
    rule = rules.get(clean.rule)
    _check_dates(clean)
    if clean.basis is LegalBasis.CONSENT:
        if clean.consent_given is None:
            raise InvalidInput("consent", _("the basis consent needs the day consent was given (Art. 7(1) GDPR)"))
        if not clean.consent_method and clean.consent_withdrawn is None and not _recorded_before(clean, before):
            raise InvalidInput(
                "consent", _("the basis consent needs how it was given, e.g. form, e-mail, in person (Art. 7(1) GDPR)")
            )
    for day, what in (
        (clean.consent_given, _("the day consent was given lies in the future")),
        (clean.consent_withdrawn, _("the day consent was withdrawn lies in the future")),
    ):
        if day is not None and day > today:
            raise InvalidInput("consent", what)
    if rule.until_withdrawn and clean.trigger is None:
        if clean.consent_given is None:
            raise InvalidInput("trigger", _needs_trigger(rule))
        clean = replace(clean, trigger=clean.consent_given)
    if not rule.until_withdrawn and clean.trigger is None:
        raise InvalidInput("trigger", _needs_trigger(rule))
    for duty in clean.duties:
        if rules.get(duty.rule).until_withdrawn:
            raise InvalidInput(
                "duties", _("{rule} has no fixed period; only the main rule may be open-ended").format(rule=duty.rule)
            )
    return clean


def _needs_trigger(rule: RetentionRule) -> str:
    return _("the rule {rule} needs a {trigger}").format(rule=rule.key, trigger=trigger_label(rule))


def new_contact(clean: ContactDraft, rules: RuleBook, now: datetime) -> Contact:
    """A new contact (fresh random id, version 1) from a validated draft."""
    import uuid  # here: it loads `platform`, which `--help` does not need (issue 15)

    contact = Contact(
        id=str(uuid.uuid4()),
        retention_end=None,
        review_at=None,
        created=now,
        updated=now,
        meta_version=1,
        **draft_fields(clean),
    )
    return with_dates(contact, rules)


def with_dates(contact: Contact, rules: RuleBook) -> Contact:
    end, review = contact_dates(contact, rules)
    return replace(contact, retention_end=end, review_at=review)


def edited(current: Contact, clean: ContactDraft, rules: RuleBook) -> Contact:
    """``current`` with a validated draft's fields and the dates they imply."""
    return with_dates(replace(current, **draft_fields(clean)), rules)


def with_duty(contact: Contact, duty: Duty, rules: RuleBook) -> Contact:
    """``contact`` carrying one more (rule, trigger) pair (an import merging into it);
    unchanged when it already carries that pair."""
    if rules.get(duty.rule).until_withdrawn:
        raise InvalidInput("duties", _("{rule} has no fixed period").format(rule=duty.rule))
    if (duty.rule, duty.trigger) in contact.pairs():
        return contact
    return with_dates(replace(contact, duties=tuple(sorted({*contact.duties, duty}))), rules)


def _keeping_reason(
    contact: Contact, rules: RuleBook, today: date, *, claims_needed: bool = True
) -> tuple[str, date | None] | None:
    """Why an erasure request cannot delete ``contact`` today, and until when; None when
    nothing keeps it.  ``claims_needed=False``: the owner checked that the record is not
    needed for legal claims in this case (Art. 17(3)(e) is case by case), so only
    statutory duties (Art. 17(3)(b)) and holds keep it."""
    running = [
        (rule, end)
        for rule, end in duty_ends(contact, rules)
        if end >= today and (claims_needed or not rule.legal_claims)
    ]
    if contact.hold:
        why = (
            _("a legal hold applies ({reason})").format(reason=contact.hold_reason)
            if contact.hold_reason
            else _("a legal hold applies")
        )
        if running:
            rule, end = max(running, key=lambda pair: pair[1])
            return (
                _(
                    "{why}, and {rule} keeps it until {end} ({ground}); the record is "
                    "restricted and erased when the hold is released and that period has ended"
                ).format(why=why, rule=rule.key, end=format_date(end), ground=erasure_ground(rule)),
                end,
            )
        return _("{why}; the record is restricted and erased when the hold is released").format(why=why), None
    if not running:
        return None
    rule, end = max(running, key=lambda pair: pair[1])
    if rule.legal_claims:
        return (
            _(
                "it may be needed for legal claims until {end} ({reference}); under "
                "Art. 17(3)(e) GDPR only as far as that is necessary in this case: check it, else erase it now; "
                "the record is restricted and purged afterwards"
            ).format(end=format_date(end), reference=reference(rule)),
            end,
        )
    return (
        _(
            "a retention duty applies until {end} ({reference}; Art. 17(3)(b) GDPR); "
            "the record is restricted and purged afterwards"
        ).format(end=format_date(end), reference=reference(rule)),
        end,
    )


def erase_decision(contact: Contact, rules: RuleBook, today: date, *, claims_needed: bool = True) -> EraseResult:
    """What an erasure request does to ``contact`` today, and why (Art. 17(1), 17(3)(b)/(e))."""
    keeping = _keeping_reason(contact, rules, today, claims_needed=claims_needed)
    if keeping is None:
        return EraseResult(EraseOutcome.DELETED, contact.id, _("no retention duty or hold applies; deleted now"))
    reason, end = keeping
    return EraseResult(EraseOutcome.RESTRICTED, contact.id, reason, purge_from(end))


def minimised(contact: Contact, keep: frozenset[str]) -> Contact:
    """What stays of ``contact`` while a duty or hold keeps it after an erasure request:
    the name, the dates, the rules and what the owner chose to keep; notes always go."""
    unknown = set(keep) - KEEPABLE
    if unknown:
        raise InvalidInput(
            "keep",
            _("can keep only {allowed}, not {unknown}").format(
                allowed=", ".join(sorted(KEEPABLE)), unknown=", ".join(sorted(unknown))
            ),
        )
    return replace(
        contact,
        org=contact.org if "org" in keep else "",
        emails=contact.emails[:1] if "email" in keep else (),
        phones=contact.phones[:1] if "phone" in keep else (),
        source=contact.source if "source" in keep else "",
        purpose=contact.purpose if "purpose" in keep else "",
        notes="",
    )


def pending_erasure(contact: Contact, rules: RuleBook, today: date, keep: frozenset[str]) -> Contact:
    """``contact`` restricted and minimised with its erasure recorded as requested ``today``."""
    requested = contact.erasure_requested or today
    return with_dates(replace(minimised(contact, keep), state=State.RESTRICTED, erasure_requested=requested), rules)


def consent_proof(contact: Contact, rules: RuleBook) -> Contact:
    """The minimal proof a withdrawn consent leaves (Art. 7(1)): who, the consent's day,
    how and what for, the withdrawal's day; restricted, kept for the limitation period
    (3 years from the end of the withdrawal's year, Art. 17(3)(e)), then purged."""
    assert contact.consent_withdrawn is not None
    proof = replace(
        contact,
        emails=(),
        phones=(),
        org="",
        notes="",
        state=State.RESTRICTED,
        rule=CONSENT_PROOF_RULE,
        trigger=contact.consent_withdrawn,
        duties=(),
        erasure_requested=None,
        reviewed=None,
    )
    return with_dates(proof, rules)


def after_withdrawal(contact: Contact, rules: RuleBook, today: date, keep: frozenset[str]) -> Contact:
    """``contact`` (basis consent, consent now withdrawn) as it must be kept from now on.

    With no duty and no hold: only the minimal proof.  With a duty: restricted at
    once, minimised, the consent pair dropped, its basis the duty that keeps it
    longest: Art. 6(1)(c) with the statute, or 6(1)(f) for a legal-claims period;
    the proof period of the withdrawal (rule consent-proof) rides along as a
    further duty, so the proof is not lost when a shorter duty ends first.  With a
    hold only: restricted and minimised; the proof is made when the hold is released.
    """
    withdrawn = contact.consent_withdrawn or today
    pairs = [(k, t) for k, t in contact.pairs() if k in rules and rules.get(k).obliges and t is not None]
    ends = sorted((end, k, t) for k, t in pairs if (end := retention_end(rules.get(k), t)) is not None)
    running = [(end, k, t) for end, k, t in ends if end >= today]
    if not running and not contact.hold:
        return consent_proof(contact, rules)
    if running:
        _, key, trigger = running[-1]
        basis = LegalBasis.LEGITIMATE_INTERESTS if rules.get(key).legal_claims else LegalBasis.LEGAL_OBLIGATION
        others = {Duty(k, t) for _, k, t in running if (k, t) != (key, trigger)}
        others.add(Duty(CONSENT_PROOF_RULE, withdrawn))
        contact = replace(contact, basis=basis, rule=key, trigger=trigger, duties=tuple(sorted(others)))
    kept = minimised(contact, keep)
    return with_dates(replace(kept, state=State.RESTRICTED, erasure_requested=withdrawn), rules)


def newly_withdrawn(current: Contact, new: Contact) -> bool:
    """True when saving ``new`` over ``current`` withdraws a consent (Art. 7(3))."""
    return current.consent_withdrawn is None and new.consent_withdrawn is not None and new.basis is LegalBasis.CONSENT


def check_lift(contact: Contact, informed: date | None, today: date) -> None:
    """Art. 18(3): before lifting a restriction the person asked for, tell them."""
    if contact.restriction_requested is None:
        return
    if informed is None:
        raise InvalidInput(
            "informed",
            _(
                "the person asked for this restriction on {day}; "
                "inform them before lifting it (Art. 18(3) GDPR) and give the day you did"
            ).format(day=format_date(contact.restriction_requested)),
        )
    if informed > today or informed < contact.restriction_requested:
        raise InvalidInput("informed", _("must lie between the person's request and today"))


def released(contact: Contact, rules: RuleBook, today: date) -> Contact | None:
    """``contact`` with its hold lifted; None when an erasure was waiting only for that
    (then it is erased now); a withdrawn consent leaves its proof."""
    lifted = replace(contact, hold=False, hold_reason="", restriction_requested=None)
    if contact.restriction_requested is not None and contact.erasure_requested is None:
        lifted = replace(lifted, state=State.ACTIVE)
    if contact.erasure_requested is None:
        return with_dates(lifted, rules)
    if _keeping_reason(lifted, rules, today) is not None:
        return with_dates(lifted, rules)
    if contact.consent_withdrawn is not None and not contact.is_consent_proof:
        return consent_proof(lifted, rules)
    return None


def reviewed(contact: Contact, rules: RuleBook, today: date) -> Contact:
    """A consent record the owner checked today: its next review moves on; never deletes."""
    rule = rule_of(contact, rules)
    if rule is None or rule.review_months is None:
        raise InvalidInput("review", _("the rule {rule} has no review date").format(rule=contact.rule))
    if contact.erasure_requested is not None or contact.consent_withdrawn is not None:
        raise InvalidInput("review", _("the consent was withdrawn or an erasure requested; nothing to review"))
    return with_dates(replace(contact, reviewed=today), rules)
