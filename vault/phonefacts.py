"""What libphonenumber says about a phone number, asked once per number and import (issue 15).

:mod:`vault.model` validates (and words the errors); this module only asks the
library, so an import that checks a number twice parses it once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# What libphonenumber says about one number: (E.164, valid, has an extension, why it is not
# possible (a ValidationResult; IS_POSSIBLE when it is)), or None when it does not parse.
PhoneFacts = tuple[str, bool, bool, int] | None

# An import asks about each of its numbers twice (vault.importers.phones, then the vault's
# validation in vault.model): inside :func:`phones_parsed_once` each number (as typed,
# with its default country) is parsed once (again only after PHONE_MEMO_SIZE others).
# The memo lives only as long as that block, in its own context (thread or task), and
# holds nothing the import does not hold anyway.
PHONE_MEMO_SIZE = 4096
_PHONE_MEMO: ContextVar[dict[tuple[str, str | None], PhoneFacts] | None] = ContextVar("phone_memo", default=None)


@contextmanager
def phones_parsed_once() -> Iterator[None]:
    """Within this block vault.model's normalise_phone and check_phone parse each
    (number, default country) once; the answers are those without it."""
    token = _PHONE_MEMO.set({})
    try:
        yield
    finally:
        _PHONE_MEMO.reset(token)


def phone_facts(value: str, region: str | None) -> PhoneFacts:
    """libphonenumber's answers about a number (cleaned by vault.model.clean_text), see
    :data:`PhoneFacts`; memoised inside :func:`phones_parsed_once`."""
    memo = _PHONE_MEMO.get()
    if memo is not None and (value, region) in memo:
        return memo[(value, region)]
    import phonenumbers

    facts: PhoneFacts
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        facts = None
    else:
        e164 = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        valid = bool(phonenumbers.is_valid_number(number))
        possible = phonenumbers.ValidationResult.IS_POSSIBLE
        reason = possible if valid else int(phonenumbers.is_possible_number_with_reason(number))
        facts = (e164, valid, bool(number.extension), reason)
    if memo is not None:
        if len(memo) >= PHONE_MEMO_SIZE:  # the two checks of a number come close together: keep memory flat
            memo.clear()
        memo[(value, region)] = facts
    return facts
