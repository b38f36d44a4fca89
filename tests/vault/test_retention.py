"""Retention dates are pure functions: pinned here, including leap years and year end."""

from __future__ import annotations

from datetime import date

import pytest

from vault.errors import InvalidInput, UnknownRule
from vault.model import RetentionRule
from vault.retention import (
    BUILTIN_RULES,
    RuleBook,
    add_months,
    days_left,
    is_expired,
    purge_from,
    retention_end,
    review_date,
    rule_from_mapping,
)

RULES = RuleBook()


@pytest.mark.parametrize(
    ("rule", "trigger", "end"),
    [
        ("invoices-8y", date(2025, 3, 10), date(2033, 12, 31)),  # DESIGN.md's example
        ("invoices-8y", date(2025, 1, 1), date(2033, 12, 31)),
        ("invoices-8y", date(2025, 12, 31), date(2033, 12, 31)),  # trigger on the year-end start
        ("letters-6y", date(2024, 2, 29), date(2030, 12, 31)),  # leap day trigger
        ("books-10y", date(2016, 7, 1), date(2026, 12, 31)),
        ("limitation-3y", date(2026, 11, 27), date(2029, 12, 31)),
        ("inquiry-6m", date(2026, 8, 31), date(2027, 2, 28)),  # clamps to the month's end
        ("inquiry-6m", date(2027, 8, 31), date(2028, 2, 29)),  # ... in a leap year
        ("inquiry-6m", date(2026, 1, 15), date(2026, 7, 15)),
    ],
)
def test_retention_end_of_builtin_rules(rule: str, trigger: date, end: date) -> None:
    assert retention_end(RULES.get(rule), trigger) == end


def test_invoice_may_be_purged_from_the_first_day_after_its_end() -> None:
    end = retention_end(RULES.get("invoices-8y"), date(2025, 3, 10))
    assert purge_from(end) == date(2034, 1, 1)
    assert not is_expired(end, date(2033, 12, 31))
    assert is_expired(end, date(2034, 1, 1))


def test_consent_has_no_end_but_a_review_date() -> None:
    rule = RULES.get("consent")
    assert retention_end(rule, date(2024, 2, 29)) is None
    assert review_date(rule, date(2024, 2, 29)) == date(2026, 2, 28)
    assert not is_expired(None, date(2999, 1, 1))
    assert days_left(None, date(2026, 1, 1)) is None


def test_add_months_crosses_years_and_clamps() -> None:
    assert add_months(date(2025, 12, 31), 2) == date(2026, 2, 28)
    assert add_months(date(2023, 1, 31), 13) == date(2024, 2, 29)
    assert add_months(date(2025, 5, 15), -6) == date(2024, 11, 15)


def test_months_from_year_end_land_on_a_month_end() -> None:
    rule = RetentionRule(key="x", label="x", months=18, from_year_end=True)
    assert retention_end(rule, date(2025, 4, 1)) == date(2027, 6, 30)


def test_owner_rule_from_config() -> None:
    rule = rule_from_mapping(
        "tax-advisor-7y", {"label": "Tax file", "years": 7, "from_year_end": True, "obliges": True}
    )
    book = RuleBook([rule])
    assert retention_end(book.get("tax-advisor-7y"), date(2026, 5, 5)) == date(2033, 12, 31)
    assert "tax-advisor-7y" in book and "invoices-8y" in book


@pytest.mark.parametrize(
    "data",
    [
        {"years": -1},
        {"years": "ten"},
        {"label": "no period"},
        {"years": 1, "colour": "red"},
        {"years": 1, "obliges": "yes"},
    ],
)
def test_nonsense_owner_rules_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        rule_from_mapping("bad", data)


def test_owner_rules_cannot_replace_builtin_ones() -> None:
    with pytest.raises(InvalidInput):
        RuleBook([rule_from_mapping("invoices-8y", {"years": 1})])


def test_unknown_rule_is_its_own_error() -> None:
    with pytest.raises(UnknownRule):
        RULES.get("no-such-rule")


def test_every_builtin_rule_has_a_legal_reference() -> None:
    assert all(rule.reference for rule in BUILTIN_RULES)
