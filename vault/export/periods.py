"""A record's retention in the letter's words: Art. 15(1)(a), (d) and (e) GDPR.

Every (rule, trigger) pair a record carries (:func:`periods`), the rule that
governs it now (:func:`governing_rule`) and the legal basis that follows
(:func:`effective_basis`, :func:`stated_basis`); the storage-period items of one
record (:func:`storage_items`): what the person did about it (erasure request,
objection, withdrawn consent, restriction), every pair that keeps it with its own
starting point and end, each as a statutory duty (Art. 17(3)(b)) or a
legal-claims ground (Art. 17(3)(e)), never mixed up; and the right to erasure
with the exceptions that apply (:func:`erasure_right`).  Used by
:mod:`vault.export.letter` and :mod:`vault.export.portability`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from vault.export.catalogue import LANGUAGES, check_lang, format_date, messages, plural
from vault.export.formats import known_rule
from vault.model import Contact, LegalBasis, RetentionRule
from vault.retention import BUILTIN_RULES, RuleBook, purge_from, retention_end

# Owner rules write their reference as they like; this default says nothing to the person.
_NO_REFERENCE = ("", "owner-defined")


@dataclass(frozen=True)
class RuleWords:
    """A retention rule as the letter words it."""

    label: str
    reference: str
    trigger: str


@dataclass(frozen=True)
class Period:
    """One (rule, trigger) pair of a record with the end that pair alone gives (issue 11.5)."""

    key: str
    rule: RetentionRule | None
    trigger: date | None
    end: date | None

    @property
    def keeps(self) -> bool:
        """True when it keeps the record despite an erasure request: a statutory duty
        (Art. 17(3)(b)) or a legal-claims ground (Art. 17(3)(e)) with a known end."""
        return self.rule is not None and self.rule.obliges and self.end is not None


def periods(c: Contact, rules: RuleBook) -> tuple[Period, ...]:
    """Every (rule, trigger) pair of ``c``, its main rule first; a rule the book no longer
    knows keeps the record's signed end when it is the main rule."""
    found: list[Period] = []
    for index, (key, trigger) in enumerate(c.pairs()):
        rule = known_rule(rules, key)
        unknown_end = c.retention_end if index == 0 else None
        found.append(Period(key, rule, trigger, unknown_end if rule is None else retention_end(rule, trigger)))
    return tuple(found)


def governing_rule(c: Contact, rules: RuleBook) -> RetentionRule | None:
    """The rule the record is processed under now: its main rule, or while it is
    restricted the duty or legal-claims ground that keeps it longest."""
    main = known_rule(rules, c.rule)
    if not c.is_restricted:
        return main
    keeping = [p for p in periods(c, rules) if p.keeps]
    if not keeping:
        return main
    return max(keeping, key=lambda p: p.end or date.min).rule


def erasure_request(c: Contact) -> date | None:
    """The day the person asked for erasure, or None when the pending erasure stems from a
    withdrawn consent or an objection (then the letter says that, and nothing invented)."""
    day = c.erasure_requested
    if day is None:
        return None
    if c.consent_withdrawn is not None and day == c.consent_withdrawn:
        return None
    if c.objected is not None and c.objected <= day:
        return None
    return day


def rule_words(rule: RetentionRule | None, key: str, lang: str, *, merchant: bool = False) -> tuple[str, str]:
    """(label, legal reference) of a rule in the letter's language; owner rules as written.

    The built-in rules cite §257 HGB only for a merchant (``merchant``); a
    freelancer (Freiberufler) is bound by the AO and the UStG, not the HGB.
    """
    words = words_of(rule, key, lang, merchant)
    return words.label, words.reference


def words_of(rule: RetentionRule | None, key: str, lang: str, merchant: bool) -> RuleWords:
    """The rule ``key`` in the letter's words: a built-in rule from the catalogue, an owner
    rule as written; a rule the book no longer knows by its key."""
    if rule is None:
        return RuleWords(key, "", "")
    words = messages(lang) if lang in LANGUAGES else {}
    label = words.get(f"rule.{key}.label")
    if label is not None and rule.label == _builtin_label(key):
        reference = words[f"rule.{key}.reference_merchant" if merchant else f"rule.{key}.reference"]
        return RuleWords(label, reference, words[f"rule.{key}.trigger"])
    reference = "" if rule.reference in _NO_REFERENCE else rule.reference
    return RuleWords(rule.label, reference, rule.trigger_label)


def _builtin_label(key: str) -> str:
    return next((r.label for r in BUILTIN_RULES if r.key == key), "")


def kept_by_period(c: Contact, rule: RetentionRule | None) -> bool:
    """A restricted record that a duty or legal-claims period keeps: the old basis no longer applies."""
    return c.is_restricted and rule is not None and rule.obliges


def effective_basis(c: Contact, rule: RetentionRule | None) -> LegalBasis:
    """The basis the record is processed on now (``rule``: its :func:`governing_rule`):
    while a period keeps a restricted record, the duty (Art. 6(1)(c)) or legal claims
    (Art. 6(1)(f)), not the old contract or consent."""
    if rule is not None and kept_by_period(c, rule):
        return LegalBasis.LEGITIMATE_INTERESTS if rule.legal_claims else LegalBasis.LEGAL_OBLIGATION
    return c.basis


def stated_basis(c: Contact, rule: RetentionRule | None, lang: str, *, merchant: bool = False) -> str:
    """The legal basis in the letter's words, with the statute when a period keeps the record."""
    t = messages(check_lang(lang))
    basis = effective_basis(c, rule)
    reference = words_of(rule, rule.key if rule else c.rule, lang, merchant).reference
    if rule is not None and rule.obliges and reference:
        if basis is LegalBasis.LEGAL_OBLIGATION and not rule.legal_claims:
            return t["basis.duty"].format(reference=reference)
        if kept_by_period(c, rule):
            return t["basis.claims"].format(reference=reference)
    return basis.describe(lang)


def _period_text(p: Period, lang: str, merchant: bool, *, alone: bool) -> str:
    """Art. 15(1)(d) for one (rule, trigger) pair: the rule, as a statutory duty or a
    legal-claims ground (never mixed up), what starts the period and when it ends.
    ``alone``: the record's only pair (the sentence on deletion follows it)."""
    t = messages(lang)
    words = words_of(p.rule, p.key, lang, merchant)
    if p.rule is not None and p.rule.until_withdrawn:
        return t["storage.consent" if alone else "storage.consent_pair"]
    values = {
        "label": words.label,
        "reference": f" ({words.reference})" if words.reference else "",
        "trigger_label": words.trigger or t["field.period_start"],
        "trigger": format_date(p.trigger, lang),
    }
    rule = t["storage.claims" if p.rule is not None and p.rule.legal_claims else "storage.rule"].format(**values)
    if p.end is None:
        return f"{rule} " + t["storage.pending" if alone else "storage.pending_pair"].format(**values)
    end = format_date(p.end, lang)
    if p.rule is not None and p.rule.from_year_end and p.trigger:
        start = format_date(date(p.trigger.year, 12, 31), lang)
        return f"{rule} " + t["storage.year_end"].format(**values, start=start, end=end)
    return f"{rule} " + t["storage.fixed"].format(**values, end=end)


def _status(n: int, c: Contact, listed: list[Period], lang: str, today: date) -> list[str]:
    """What the person did about the record (withdrawal, objection, erasure request,
    restriction) and, while an erasure waits, why the record is still kept."""
    t = messages(lang)
    sentences: list[str] = []
    if c.consent_withdrawn is not None:
        withdrawn = format_date(c.consent_withdrawn, lang)
        if c.consent_given is not None:
            given = format_date(c.consent_given, lang)
            method = c.consent_method or t["not_recorded"]
            sentences.append(t["storage.withdrawn"].format(given=given, method=method, withdrawn=withdrawn))
        else:
            sentences.append(t["storage.withdrawn_only"].format(withdrawn=withdrawn))
    if c.is_consent_proof:
        sentences.append(t["storage.proof"].format(n=n))
    if c.objected is not None:
        sentences.append(t["storage.objected"].format(date=format_date(c.objected, lang)))
    requested = erasure_request(c)
    if requested is not None:
        sentences.append(t["storage.erasure"].format(date=format_date(requested, lang)))
    if c.erasure_requested is not None:
        if listed:
            sentences.append(plural(t, "storage.kept", len(listed)))
        elif c.hold:
            sentences.append(t["storage.kept_hold"])
        else:
            due = max(purge_from(c.retention_end) or today, today)
            sentences.append(t["storage.kept_none"].format(purge=format_date(due, lang)))
    if c.restriction_requested is not None:
        sentences.append(t["storage.restriction"].format(date=format_date(c.restriction_requested, lang)))
    return sentences


def storage_items(n: int, c: Contact, pairs: Sequence[Period], lang: str, merchant: bool, today: date) -> list[str]:
    """Art. 15(1)(d) for one record: what the person did about it, every (rule, trigger)
    pair that keeps it with its own starting point and end, and that the record is kept
    until the latest of them ends.  After an erasure request only the duties and
    legal-claims grounds still running keep it, so only they are listed."""
    t = messages(lang)
    record = t["storage.record"].format(n=n)
    if c.erasure_requested is not None:
        listed = [p for p in pairs if p.keeps and p.end is not None and p.end >= today]
    else:
        listed = list(pairs)
    items: list[str] = []
    status = _status(n, c, listed, lang, today)
    if status:
        items.append(" ".join([record, *status]))
    if len(listed) == 1:
        line = f"{record} " + _period_text(listed[0], lang, merchant, alone=True)
        if listed[0].end is not None and c.retention_end is not None:
            line += " " + t["storage.purge"].format(purge=format_date(purge_from(c.retention_end), lang))
        items.append(line)
    elif listed:
        items += [f"{record} " + _period_text(p, lang, merchant, alone=False) for p in listed]
        if c.retention_end is None or any(p.end is None for p in listed):
            items.append(t["storage.latest_open"].format(n=n))
        else:
            end, purge = format_date(c.retention_end, lang), format_date(purge_from(c.retention_end), lang)
            items.append(t["storage.latest"].format(n=n, end=end, purge=purge))
    if c.hold and (listed or c.erasure_requested is None):
        items.append(t["storage.hold"].format(n=n))
    return items


def erasure_right(pairs: Iterable[Period], t: Mapping[str, str]) -> str:
    """Art. 15(1)(e) on erasure, with the exceptions the records' ``pairs`` have: a statutory
    duty (Art. 17(3)(b)), legal claims (Art. 17(3)(e)), both or neither."""
    grounds = {p.rule.legal_claims for p in pairs if p.rule is not None and p.rule.obliges}
    if grounds == {True, False}:
        return t["rights.erasure"]
    if grounds == {False}:
        return t["rights.erasure_duty"]
    if grounds == {True}:
        return t["rights.erasure_claims"]
    return t["rights.erasure_plain"]
