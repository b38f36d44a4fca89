"""What the contact form's text fields hold, parsed: several values, dates, further duties.

The form checks each field as it changes with these, and builds its draft with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from vault.errors import InvalidInput, UnknownRule
from vault.model import Duty, RetentionRule
from vault.retention import RuleBook

# vault.errors.InvalidInput field name -> the form field that shows it
ERROR_FIELDS: dict[str, str] = {
    "name": "name",
    "e-mail": "emails",
    "phone": "phones",
    "trigger": "trigger",
    "consent": "consent_given",
    "consent given": "consent_given",
    "consent withdrawn": "consent_withdrawn",
    "consent method": "consent_method",
    "duties": "duties",
    "organisation": "org",
    "notes": "notes",
    "source": "source",
    "purpose": "purpose",
    "basis": "basis",
    "contact": "emails",
}


def split_values(raw: str) -> list[str]:
    """Several e-mails or phones in one field, separated by commas or semicolons."""
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


def parse_date(raw: str, what: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(what, "use the form YYYY-MM-DD, e.g. 2025-03-10") from None


def parse_duties(raw: str, rules: RuleBook) -> tuple[Duty, ...]:
    """``rule:YYYY-MM-DD`` items separated by commas, each a fixed-period rule of the vault."""
    duties = []
    for item in split_values(raw):
        key, colon, day = item.partition(":")
        key = key.strip()
        if not colon or not key or not day.strip():
            raise InvalidInput("duties", f"write each as rule:YYYY-MM-DD, e.g. limitation-3y:2026-12-31 (not {item!r})")
        try:
            rule = rules.get(key)
        except UnknownRule:
            raise InvalidInput("duties", f"no rule {key!r}; use one of {', '.join(fixed_rules(rules))}") from None
        if rule.until_withdrawn:
            raise InvalidInput("duties", f"{key} has no fixed period; only the main rule may be open-ended")
        trigger = parse_date(day, "duties")
        assert trigger is not None
        duties.append(Duty(key, trigger))
    return tuple(duties)


def fixed_rules(rules: Iterable[RetentionRule]) -> list[str]:
    """The keys of the rules a further duty may use (those with a fixed period)."""
    return [rule.key for rule in rules if not rule.until_withdrawn]
