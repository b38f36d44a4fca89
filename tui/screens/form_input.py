"""What the contact form's text fields hold, parsed: several values, dates, further duties.

The form checks each field as it changes with these, and builds its draft with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from vault.errors import InvalidInput, UnknownRule
from vault.i18n import N_, _, format_date, language
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


# The form's own sentences (marked here, translated where shown).
BUSY = N_(
    "The vault is busy (another sealbook process is writing); nothing was saved. "
    "Everything typed is kept: press ctrl+s to try again."
)
CONSENT_RULE_HINT = N_("Required with the basis consent: the day and how consent was given (Art. 7(1) GDPR).")
METHOD_MISSING = N_(
    "required with the basis consent: how it was given, e.g. web form, e-mail, in person (Art. 7(1) GDPR)"
)
# vault.policy's refusal when the way consent was given is missing: shown at that field.
METHOD_REFUSED = N_("the basis consent needs how it was given, e.g. form, e-mail, in person (Art. 7(1) GDPR)")
CORRECT = N_("Please correct the marked fields; nothing was saved.")
# The order the fields appear in (and Tab visits them): the first marked one gets the focus.
FIELD_ORDER: tuple[str, ...] = ("name", "org", "emails", "phones", "consent_given", "consent_method")
FIELD_ORDER += ("consent_withdrawn", "trigger", "duties", "source", "purpose", "notes")


def split_values(raw: str) -> list[str]:
    """Several e-mails or phones in one field, separated by commas or semicolons."""
    return [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]


def read_day(raw: str) -> date:
    """YYYY-MM-DD, or the form the app shows dates in (DD.MM.YYYY in German; English: ISO only)."""
    if "." in raw and language() != "en":
        return date(*map(int, reversed(raw.split("."))))
    return date.fromisoformat(raw)


def parse_date(raw: str, what: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return read_day(raw)
    except (ValueError, TypeError):
        example = format_date(date(2025, 3, 10))
        raise InvalidInput(
            what, _("use the form {form}, e.g. {example}").format(form=_("YYYY-MM-DD"), example=example)
        ) from None


def parse_duties(raw: str, rules: RuleBook) -> tuple[Duty, ...]:
    """``rule:YYYY-MM-DD`` items separated by commas, each a fixed-period rule of the vault."""
    duties = []
    for item in split_values(raw):
        key, colon, day = item.partition(":")
        key = key.strip()
        if not colon or not key or not day.strip():
            text = _("write each as rule:YYYY-MM-DD, e.g. limitation-3y:2026-12-31 (not {item})")
            raise InvalidInput("duties", text.format(item=repr(item)))
        try:
            rule = rules.get(key)
        except UnknownRule:
            text = _("no rule {key}; use one of {rules}").format(key=repr(key), rules=", ".join(fixed_rules(rules)))
            raise InvalidInput("duties", text) from None
        if rule.until_withdrawn:
            raise InvalidInput(
                "duties", _("{key} has no fixed period; only the main rule may be open-ended").format(key=key)
            )
        trigger = parse_date(day, "duties")
        assert trigger is not None
        duties.append(Duty(key, trigger))
    return tuple(duties)


def fixed_rules(rules: Iterable[RetentionRule]) -> list[str]:
    """The keys of the rules a further duty may use (those with a fixed period)."""
    return [rule.key for rule in rules if not rule.until_withdrawn]


def parse_day(raw: str, what: str, *, today: date, earliest: date | None = None) -> date:
    """A day typed as YYYY-MM-DD (or DD.MM.YYYY), not after ``today`` (nor before ``earliest``);
    ValueError says why."""
    raw, what = raw.strip(), _(what)
    if not raw:
        raise ValueError(_("{what}: enter the day ({form})").format(what=what, form=_("YYYY-MM-DD")))
    try:
        day = date.fromisoformat(raw) if "." not in raw else date(*map(int, reversed(raw.split("."))))
    except (ValueError, TypeError):
        form, example = _("YYYY-MM-DD"), format_date(today)
        raise ValueError(
            _("{what}: use the form {form}, e.g. {example}").format(what=what, form=form, example=example)
        ) from None
    if day > today:
        raise ValueError(_("{what}: lies in the future").format(what=what))
    if earliest is not None and day < earliest:
        raise ValueError(_("{what}: lies before {date}").format(what=what, date=format_date(earliest)))
    return day
