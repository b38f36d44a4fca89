"""Retention rules as pure date arithmetic.

legal basis + rule + trigger date -> retention end (and review date).
No clock is read here: "today" is always a parameter.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

from vault.errors import InvalidInput, UnknownRule
from vault.i18n import N_, _
from vault.model import CONSENT_PROOF_RULE, RetentionRule

BUILTIN_RULES: tuple[RetentionRule, ...] = (
    RetentionRule(
        key="letters-6y",
        label=N_("Business letters: 6 years from the end of the year"),
        years=6,
        from_year_end=True,
        obliges=True,
        reference=N_("§257(1) Nr. 2-3, (4) HGB; §147(1) Nr. 2-3, 5, (3) AO"),
        trigger_label=N_("date of the letter"),
    ),
    RetentionRule(
        key="invoices-8y",
        label=N_("Invoices and booking vouchers: 8 years from the end of the year"),
        years=8,
        from_year_end=True,
        obliges=True,
        reference=N_("§257(1) Nr. 4 HGB, §147(1) Nr. 4 AO, §14b UStG (as amended by BEG IV)"),
        trigger_label=N_("invoice date"),
    ),
    RetentionRule(
        key="books-10y",
        label=N_("Books and annual accounts: 10 years from the end of the year"),
        years=10,
        from_year_end=True,
        obliges=True,
        reference=N_("§257(1) Nr. 1 HGB, §147(1) Nr. 1 AO"),
        trigger_label=N_("date of the last entry"),
    ),
    RetentionRule(
        key="limitation-3y",
        label=N_("Limitation period for claims: 3 years from the end of the year"),
        years=3,
        from_year_end=True,
        obliges=True,
        legal_claims=True,
        reference=N_("§§195, 199(1) BGB; Art. 17(3)(e) GDPR"),
        trigger_label=N_("end of the contract"),
    ),
    RetentionRule(
        key="consent",
        label=N_("Consent: until withdrawn, reviewed every 24 months"),
        until_withdrawn=True,
        review_months=24,
        reference=N_("Art. 6(1)(a), Art. 7(3) GDPR"),
        trigger_label=N_("date consent was given"),
    ),
    RetentionRule(
        key=CONSENT_PROOF_RULE,
        label=N_("Proof of a withdrawn consent: 3 years from the end of the year"),
        years=3,
        from_year_end=True,
        obliges=True,
        legal_claims=True,
        reference=N_("Art. 7(1), Art. 17(3)(e) GDPR; §§195, 199(1) BGB"),
        trigger_label=N_("date consent was withdrawn"),
    ),
    RetentionRule(
        key="inquiry-6m",
        label=N_("Inquiry without contract: 6 months after the last contact"),
        months=6,
        reference=N_("Art. 5(1)(e) GDPR"),
        trigger_label=N_("date of the last contact"),
    ),
)

MAX_YEARS = 100
_BUILTIN_KEYS = frozenset(rule.key for rule in BUILTIN_RULES)


# The rules' texts in the process's language (vault.i18n).  The built-in rules' texts are
# marked with N_ above and translated here, where they are shown; an owner's own rule
# (config) keeps the words the owner wrote.


def label(rule: RetentionRule) -> str:
    """The rule's name for people, e.g. "Rechnungen und Buchungsbelege: 8 Jahre ab Ende des Jahres"."""
    return _(rule.label) if rule.key in _BUILTIN_KEYS else rule.label


def trigger_label(rule: RetentionRule) -> str:
    """What the rule's trigger date is, e.g. "Rechnungsdatum" (lower case in English)."""
    builtin = rule.key in _BUILTIN_KEYS or rule.trigger_label == "trigger date"
    return _(rule.trigger_label) if builtin else rule.trigger_label


def reference(rule: RetentionRule) -> str:
    """The statutes the rule rests on, cited as the language cites them ("§ 147 Abs. 1 Nr. 4 AO")."""
    builtin = rule.key in _BUILTIN_KEYS or rule.reference == "owner-defined"
    return _(rule.reference) if builtin else rule.reference


def erasure_ground(rule: RetentionRule) -> str:
    """:attr:`RetentionRule.erasure_ground` in the process's language ("Art. 17 Abs. 3 lit. b DSGVO")."""
    return _(N_("Art. 17(3)(e) GDPR")) if rule.legal_claims else _(N_("Art. 17(3)(b) GDPR"))


def describe(rule: RetentionRule) -> str:
    """Label and statutes in one line, e.g. "Einwilligung: bis zum Widerruf, ... (Art. 6 Abs. 1 lit. a, ...)"."""
    return _("{label} ({reference})").format(label=label(rule), reference=reference(rule))


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb).

    Hand-written rather than python-dateutil: four lines of stdlib, no
    dependency for one function.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def retention_end(rule: RetentionRule, trigger: date | None) -> date | None:
    """The last day the record may (or must) be kept; ``None`` while open-ended.

    Periods that start at year end run from 31 December of the trigger's year:
    an invoice of 2025-03-10 under an 8-year rule is kept until 2033-12-31 and
    may be purged from 2034-01-01.
    """
    if rule.until_withdrawn or trigger is None:
        return None
    if rule.from_year_end:
        start = date(trigger.year, 12, 31)
        end = add_months(start, rule.years * 12 + rule.months)
        return date(end.year, end.month, calendar.monthrange(end.year, end.month)[1])
    return add_months(trigger, rule.years * 12 + rule.months)


def review_date(rule: RetentionRule, trigger: date | None) -> date | None:
    """When the owner should check the record is still needed (consent rules)."""
    if rule.review_months is None or trigger is None:
        return None
    return add_months(trigger, rule.review_months)


def purge_from(end: date | None) -> date | None:
    """The first day the unattended purge may delete a record ending on ``end``."""
    return None if end is None else date.fromordinal(end.toordinal() + 1)


def is_expired(end: date | None, today: date) -> bool:
    """True once the retention end lies before ``today``."""
    return end is not None and end < today


def days_left(end: date | None, today: date) -> int | None:
    return None if end is None else (end - today).days


def rule_from_mapping(key: str, data: Mapping[str, object]) -> RetentionRule:
    """Build an owner-defined rule from a config table; refuse nonsense."""
    allowed = {
        "label",
        "years",
        "months",
        "from_year_end",
        "until_withdrawn",
        "review_months",
        "obliges",
        "reference",
        "trigger_label",
        "legal_claims",
    }
    unknown = set(data) - allowed
    if unknown:
        raise InvalidInput(f"rule {key}", _("unknown setting(s) {names}").format(names=sorted(unknown)))

    def number(name: str, default: int | None) -> int | None:
        value = data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_YEARS * 12:
            raise InvalidInput(
                f"rule {key}", _("{name} must be a whole number 0..{most}").format(name=name, most=MAX_YEARS * 12)
            )
        return value

    def flag(name: str) -> bool:
        value = data.get(name, False)
        if not isinstance(value, bool):
            raise InvalidInput(f"rule {key}", _("{name} must be true or false").format(name=name))
        return value

    def text(name: str, default: str) -> str:
        value = data.get(name, default)
        if not isinstance(value, str):
            raise InvalidInput(f"rule {key}", _("{name} must be text").format(name=name))
        return value

    rule = RetentionRule(
        key=key,
        label=text("label", key),
        years=number("years", 0) or 0,
        months=number("months", 0) or 0,
        from_year_end=flag("from_year_end"),
        until_withdrawn=flag("until_withdrawn"),
        review_months=number("review_months", None),
        obliges=flag("obliges"),
        reference=text("reference", N_("owner-defined")),
        trigger_label=text("trigger_label", N_("trigger date")),
        legal_claims=flag("legal_claims"),
    )
    if rule.legal_claims:  # kept for legal claims (Art. 17(3)(e)) keeps it despite an erasure request
        rule = replace(rule, obliges=True)
    if not rule.until_withdrawn and rule.years == 0 and rule.months == 0:
        raise InvalidInput(f"rule {key}", _("needs years or months, or until_withdrawn = true"))
    return rule


class RuleBook:
    """Built-in rules plus the owner's own, looked up by key."""

    def __init__(self, extra: Iterable[RetentionRule] = ()) -> None:
        self._rules = {r.key: r for r in BUILTIN_RULES}
        for rule in extra:
            if rule.key in self._rules:
                raise InvalidInput(f"rule {rule.key}", _("would replace a built-in rule"))
            self._rules[rule.key] = rule

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._rules.values())

    def __contains__(self, key: object) -> bool:
        return key in self._rules

    def get(self, key: str) -> RetentionRule:
        try:
            return self._rules[key]
        except KeyError:
            raise UnknownRule(key) from None
