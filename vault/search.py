"""Search normalisation: case-, accent- and German-spelling-insensitive.

"Müller" is indexed as both "muller" and "mueller", so the queries "Mueller",
"Muller" and "Müller" all meet it; casefold turns "ß" into "ss", so "Weiss"
finds "Weiß".  Phone numbers are indexed as digit strings (E.164 and national
format), so "030/123", "+49 30 123" and "4930123" all find "+49301234567".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from vault.model import Contact, national_digits

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_PHONE_CHARS = set("+0123456789 ()-/.")
FIELD_SEP = "\x1f"


def fold(text: str) -> str:
    """Casefold and strip accents ('Ångström' -> 'angstrom')."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def text_key(text: str) -> str:
    """Every spelling variant of ``text`` a query may hit, joined."""
    folded = fold(text)
    german = fold(unicodedata.normalize("NFC", text.casefold()).translate(_GERMAN))
    return folded if german == folded else folded + FIELD_SEP + german


@dataclass(frozen=True)
class Query:
    text: str
    digits: str  # empty unless the query looks like (part of) a phone number

    @property
    def is_empty(self) -> bool:
        return not self.text and not self.digits


def parse_query(raw: str) -> Query:
    stripped = raw.strip()
    digits = ""
    if stripped and set(stripped) <= _PHONE_CHARS:
        digits = "".join(ch for ch in stripped if ch.isdigit())
        if digits.startswith("00"):
            digits = digits[2:]
        if len(digits) < 3:
            digits = ""
    return Query(text=fold(stripped), digits=digits)


def contact_keys(contact: Contact) -> tuple[str, str]:
    """(text haystack, digits haystack) for one contact."""
    parts = [text_key(contact.name), text_key(contact.org)]
    parts.extend(e.casefold() for e in contact.emails)
    digit_parts: list[str] = []
    for phone in contact.phones:
        digit_parts.append(phone.lstrip("+"))
        digit_parts.append(national_digits(phone))
        parts.append(phone)
    return FIELD_SEP.join(parts), FIELD_SEP.join(digit_parts)


def matches(query: Query, keys: tuple[str, str]) -> bool:
    if query.is_empty:
        return True
    if query.text and query.text in keys[0]:
        return True
    return bool(query.digits) and query.digits in keys[1]
