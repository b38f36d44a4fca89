"""Search normalisation: case-, accent- and German-spelling-insensitive.

"Müller" is indexed as both "muller" and "mueller", so the queries "Mueller",
"Muller" and "Müller" all meet it; casefold turns "ß" into "ss", so "Weiss"
finds "Weiß".  Phone numbers are indexed as digit strings (E.164 and national
format), so "030/123", "+49 30 123" and "4930123" all find "+49301234567".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
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


def narrows(previous: Query, current: Query) -> bool:
    """True when every record matching ``current`` also matched ``previous``.

    Then ``current`` can be answered by filtering ``previous``'s result, which is
    what makes search-as-you-type cheap while the query grows.  A record matches
    by text or by digits, so both halves must only have grown; a query that
    starts to look like a phone number (digits appear) may match records the
    text alone did not, so it cannot narrow a text-only result.
    """
    if previous.is_empty:
        return True
    if previous.text not in current.text:
        return False
    if not current.digits:
        return True
    return bool(previous.digits) and previous.digits in current.digits


class IncrementalSearch:
    """Search over a fixed, already-ordered list of records.

    ``ids`` is the order the caller shows (sorted by name, say); ``keys`` maps
    each id to its :func:`contact_keys`.  :meth:`filter` returns positions into
    ``ids`` in that order, so no sorting happens per keystroke, and when the new
    query only extends the previous one it scans the previous result instead of
    every record.
    """

    def __init__(self, ids: list[str], keys: dict[str, tuple[str, str]]) -> None:
        self.ids = ids
        self._text = [keys[i][0] for i in ids]
        self._digits = [keys[i][1] for i in ids]
        self._everything = range(len(ids))
        self._previous = Query("", "")
        self._result: Sequence[int] = self._everything

    def __len__(self) -> int:
        return len(self.ids)

    def filter(self, raw: str) -> Sequence[int]:
        query = parse_query(raw)
        if query.is_empty:
            result: Sequence[int] = self._everything
        else:
            base = self._result if narrows(self._previous, query) else self._everything
            text, digits = query.text, query.digits
            hay = self._text
            if digits:
                dhay = self._digits
                result = [i for i in base if text in hay[i] or digits in dhay[i]]
            elif base is self._everything:
                result = [i for i, h in enumerate(hay) if text in h]
            else:
                result = [i for i in base if text in hay[i]]
        self._previous, self._result = query, result
        return result
