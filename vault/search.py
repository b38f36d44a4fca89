"""Search normalisation: case-, accent- and German-spelling-insensitive.

"Müller" is indexed as both "muller" and "mueller", so the queries "Mueller",
"Muller" and "Müller" all meet it; casefold turns "ß" into "ss", so "Weiss"
finds "Weiß".  Phone numbers are indexed as digit strings (E.164 and national
format), so "030/123", "+49 30 123" and "4930123" all find "+49301234567".
"""

from __future__ import annotations

import unicodedata
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from vault.model import Contact
from vault.model import national_digits as model_national_digits

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_PHONE_CHARS = set("+0123456789 ()-/.")
FIELD_SEP = "\x1f"


def _fold_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1 << 16)
def _word_keys(word: str) -> tuple[str, str]:
    """(folded, German-spelled) forms of one word; names repeat, so this is cached."""
    return _fold_slow(word), _fold_slow(unicodedata.normalize("NFC", word.casefold()).translate(_GERMAN))


def clear_caches() -> None:
    """Forget the cached word forms (they are fragments of names): call on lock."""
    _word_keys.cache_clear()


def fold(text: str) -> str:
    """Casefold and strip accents ('Ångström' -> 'angstrom')."""
    if text.isascii():
        return text.lower()  # the same as casefold + NFKD for ASCII, and 20x faster
    return " ".join(_word_keys(word)[0] for word in text.split(" "))


def text_key(text: str) -> str:
    """Every spelling variant of ``text`` a query may hit, joined.

    Decomposition never crosses a space, so folding word by word (cached) gives
    the same result as folding the whole text.
    """
    if text.isascii():
        return text.lower()
    pairs = [_word_keys(word) for word in text.split(" ")]
    folded = " ".join(p[0] for p in pairs)
    german = " ".join(p[1] for p in pairs)
    return folded if german == folded else folded + FIELD_SEP + german


def national_digits(e164: str) -> str:
    """Digits of the national format ('+49301234567' -> '0301234567').

    The same answer as :func:`vault.model.national_digits`, about twice as fast:
    an E.164 string needs no parsing, only splitting off the country code.
    """
    digits = e164[1:] if e164.startswith("+") else e164
    if not digits.isdigit() or not digits.isascii():
        return model_national_digits(e164)
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return model_national_digits(e164)
    significant = digits[size:]
    if not significant:
        return model_national_digits(e164)
    number = phonenumbers.PhoneNumber(country_code=code, national_number=int(significant))
    zeros = len(significant) - len(significant.lstrip("0"))
    if zeros:
        number.italian_leading_zero = True
        number.number_of_leading_zeros = zeros
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


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


def matches(query: Query, keys: Sequence[str]) -> bool:
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
    each id to its :func:`contact_keys` (or any sequence starting with them).  :meth:`filter` returns positions into
    ``ids`` in that order, so no sorting happens per keystroke.  It keeps the
    trail of results for the query as it grew: a longer query scans only the
    previous result, and deleting characters (backspace) returns a result
    already computed.
    """

    MAX_TRAIL = 24
    MAX_FIRST_KEYS = 16  # results of one-character queries, the costliest scans, kept compactly

    def __init__(self, ids: list[str], keys: Mapping[str, Sequence[str]]) -> None:
        self.ids = ids
        self._text = [keys[i][0] for i in ids]
        self._digits = [keys[i][1] for i in ids]
        self._everything = range(len(ids))
        self._trail: list[tuple[Query, Sequence[int]]] = []
        self._first_keys: dict[Query, array[int]] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def filter(self, raw: str) -> Sequence[int]:
        query = parse_query(raw)
        if query.is_empty:
            self._trail.clear()
            return self._everything
        trail = self._trail
        while trail and not narrows(trail[-1][0], query):
            trail.pop()
        if trail and trail[-1][0] == query:
            return trail[-1][1]
        base = trail[-1][1] if trail else self._everything
        if len(base) * 2 > len(self._everything):
            base = self._everything  # a full scan beats indexing into a large result
        if base is self._everything and len(raw.strip()) == 1:
            cached = self._first_keys.get(query)
            if cached is None:
                cached = self._first_keys[query] = array("i", self._scan(query, base))
                if len(self._first_keys) > self.MAX_FIRST_KEYS:
                    del self._first_keys[next(iter(self._first_keys))]
            result: Sequence[int] = cached
        else:
            result = self._scan(query, base)
        trail.append((query, result))
        if len(trail) > self.MAX_TRAIL:
            del trail[0]
        return result

    def _scan(self, query: Query, base: Sequence[int]) -> list[int]:
        text, digits = query.text, query.digits
        hay = self._text
        if digits:
            dhay = self._digits
            return [i for i in base if text in hay[i] or digits in dhay[i]]
        if base is self._everything:
            return [i for i, h in enumerate(hay) if text in h]
        return [i for i in base if text in hay[i]]
