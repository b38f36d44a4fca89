"""Search normalisation: case-, accent- and German-spelling-insensitive.

"Müller" is indexed as both "muller" and "mueller", so the queries "Mueller",
"Muller" and "Müller" all meet it; casefold turns "ß" into "ss", so "Weiss"
finds "Weiß".  Phone numbers are indexed as digit strings (E.164 and national
format), so "030/123", "+49 30 123" and "4930123" all find "+49301234567".

A query is split into words, and a record matches when it holds every word,
in any order: "weiss jurgen" finds "Jürgen Weiß".  Typing one more character
never widens the result (tests/vault/test_search_rules.py checks it).
"""

from __future__ import annotations

import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import itemgetter
from types import ModuleType

from vault.model import Contact
from vault.model import national_digits as model_national_digits

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_PHONE_CHARS = set("+0123456789 ()-/.")
FIELD_SEP = "\x1f"
_RECORD_SEP = "\x1e"  # between the haystacks IncrementalSearch.compacting copies in one go


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


def name_key(contact: Contact) -> tuple[str, str]:
    """The key of the order every list shows: by name (casefolded), then id (so no two tie)."""
    return (contact.name.casefold(), contact.id)


def by_name(contacts: Iterable[Contact]) -> list[Contact]:
    """Contacts in the order every list shows them: by name (casefolded), then id."""
    return sorted(contacts, key=name_key)


@cache
def _phonenumbers() -> ModuleType:
    """The phone number library, imported when a record's keys are first made: a search
    over keys made before (vault.lookup) never needs it (~50 ms of import)."""
    import phonenumbers

    return phonenumbers


def national_digits(e164: str) -> str:
    """Digits of the national format ('+49301234567' -> '0301234567').

    The same answer as :func:`vault.model.national_digits`, about twice as fast:
    an E.164 string needs no parsing, only splitting off the country code.
    """
    digits = e164[1:] if e164.startswith("+") else e164
    if not digits.isdigit() or not digits.isascii():
        return model_national_digits(e164)
    phonenumbers = _phonenumbers()
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


_DIGITS = "0123456789"


def _is_number(text: str) -> bool:
    return bool(text) and text[0] in _DIGITS


def _phone_free_end(text: str, digits: str) -> int:
    """Where the phone numbers begin in a text haystack: they come last, one field each,
    and the digits haystack holds two entries per number (see :func:`contact_keys`)."""
    if not digits:
        return len(text)
    phones = digits.count(FIELD_SEP) // 2 + 1
    return len(text.rsplit(FIELD_SEP, phones)[0])


def _text_in(word: str, text: str, digits: str) -> bool:
    """Whether a folded query word is in a record's text.  A word that starts with a digit
    is looked for in the name, organisation and e-mails only: in phone numbers it is
    matched by its digits ("Söhne 3" should not find every "+4930...")."""
    if _is_number(word):
        return text.find(word, 0, _phone_free_end(text, digits)) >= 0
    return word in text


@dataclass(frozen=True)
class Word:
    """One word of a query: its folded text, and its digits when it looks like (part of) a
    phone number (None when it has other characters).

    A phone-like word with no digits yet ("+", "(") or only the start of an
    international prefix ("0", "00") matches every record that has a phone
    number, so typing on ("(0", "0049") can only narrow what it found.  In a
    query with other words too ("anna 0171", "Söhne 3") its digits must start
    a number (``anchored``); alone they may be anywhere in one.
    """

    text: str
    digits: str | None
    anchored: bool = False

    @property
    def any_phone(self) -> bool:
        return self.digits is not None and self.digits in ("", "0", "00")

    @property
    def abroad(self) -> str:
        """The number after an international prefix ("0049" -> "49"), else ""."""
        digits = self.digits or ""
        return digits[2:] if len(digits) > 2 and digits.startswith("00") else ""


@dataclass(frozen=True)
class Query:
    """A parsed query: a record matches when every word is found in it, in any order."""

    words: tuple[Word, ...]

    @property
    def is_empty(self) -> bool:
        return not self.words


def parse_query(raw: str) -> Query:
    """Split a query into words (any whitespace); each word is folded like the records are."""
    parts = raw.split()
    phone_like = [set(part) <= _PHONE_CHARS for part in parts]
    mixed = not all(phone_like)
    return Query(
        words=tuple(
            Word(fold(part), "".join(ch for ch in part if ch.isdigit()), mixed) if phone else Word(fold(part), None)
            for part, phone in zip(parts, phone_like, strict=True)
        )
    )


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


def _starts_a_number(number: str, digits: str) -> bool:
    return digits.startswith(number) or FIELD_SEP + number in digits


def _found(word: Word, text: str, digits: str) -> bool:
    """Whether one query word is in a record's haystacks (the rule :func:`matches` applies per word)."""
    if _text_in(word.text, text, digits):
        return True
    if word.digits is None or not digits:
        return False
    if word.any_phone:
        return True
    if word.abroad:  # "0049 30": the number written with the international prefix
        return word.digits in digits or _starts_a_number(word.abroad, digits)
    if word.anchored:
        return _starts_a_number(word.digits, digits)
    return word.digits in digits


def matches(query: Query, keys: Sequence[str]) -> bool:
    """Every word of ``query`` is in the record (name, organisation, e-mail or phone), in any order.

    A word is found as text, or, when it looks like a phone number, as digits
    of one of the record's numbers (punctuation ignored).  Adding a character
    to a query never finds more: each word only grows, a new word is one more
    condition, and a query that gets other words finds numbers only by their
    start.
    """
    text, digits = keys[0], keys[1]
    return all(_found(word, text, digits) for word in query.words)


def could_match(query: Query, haystack: str) -> bool:
    """False only when no record whose two search keys are both inside ``haystack`` can
    match ``query`` (a necessary condition of :func:`matches`, for each word of
    :func:`_found`): vault.lookup skips a whole index bucket with one C-level search
    per word over the bucket's text."""
    for word in query.words:
        if word.text in haystack:
            continue
        if word.digits is None:
            return False
        if word.any_phone or word.digits in haystack or (word.abroad and word.abroad in haystack):
            continue
        return False
    return True


def _word_narrows(previous: Word, current: Word) -> bool:
    """True when every record in which ``current`` is found also holds ``previous``."""
    # Wherever current's text is found, previous's is: a number is looked for in less of the text.
    if previous.text not in current.text or (_is_number(previous.text) and not _is_number(current.text)):
        return False
    if current.digits is None:
        return True  # found by text only
    if previous.digits is None:
        return False
    if previous.any_phone:
        return True
    if current.any_phone:
        return False
    if previous.abroad:
        if current.abroad:
            return current.abroad.startswith(previous.abroad)
        return previous.digits in current.digits
    if previous.anchored:
        return current.anchored and not current.abroad and current.digits.startswith(previous.digits)
    return previous.digits in (current.abroad or current.digits)


def narrows(previous: Query, current: Query) -> bool:
    """True when every record matching ``current`` also matched ``previous``.

    Then ``current`` can be answered by filtering ``previous``'s result, which is
    what makes search-as-you-type cheap while the query grows.  It holds when
    each word of ``previous`` is implied by some word of ``current``: the text
    grew around it, and digits only grew (a word that starts to look like a
    phone number may match records its text alone did not).
    """
    return all(any(_word_narrows(p, c) for c in current.words) for p in previous.words)


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

    def __init__(self, ids: Sequence[str], keys: Mapping[str, Sequence[str]]) -> None:
        entries = list(map(keys.__getitem__, ids))  # C-level loops: ~3x faster than comprehensions
        self._start(ids, list(map(itemgetter(0), entries)), list(map(itemgetter(1), entries)))

    def _start(self, ids: Sequence[str], text: list[str], digits: list[str]) -> None:
        self.ids = ids
        self._text = text
        self._digits = digits
        self._everything = range(len(ids))
        self._trail: list[tuple[Query, Sequence[int]]] = []
        self._first_keys: dict[Query, array[int]] = {}

    def reordered(self, positions: Sequence[int]) -> IncrementalSearch:
        """A search over the records at ``positions`` (of this one's order), in that order: another
        sort order or a subset of the same records, with no search key looked up again."""
        *_, other = self.reordering(positions, max(1, len(positions)))
        assert other is not None
        return other

    def reordering(self, positions: Sequence[int], chunk: int) -> Iterator[IncrementalSearch | None]:
        """:meth:`reordered` in steps of ``chunk`` records, so a caller can spread the work:
        None after each step, then the new search."""
        ids: list[str] = []
        text: list[str] = []
        digits: list[str] = []
        for start in range(0, len(positions), chunk):
            part = positions[start : start + chunk]
            ids.extend(map(self.ids.__getitem__, part))
            text.extend(map(self._text.__getitem__, part))
            digits.extend(map(self._digits.__getitem__, part))
            yield None
        other = IncrementalSearch.__new__(IncrementalSearch)
        other._start(ids, text, digits)
        yield other

    def spliced(
        self, start: int, stop: int, ids: Sequence[str], keys: Mapping[str, Sequence[str]]
    ) -> IncrementalSearch:
        """A search over this one's records with those at ``start:stop`` replaced by ``ids`` (an
        edit, an insertion or a deletion in the list): the records kept at either end keep their
        haystacks, and only the keys of ``ids`` are looked up.  At 100k records a save's new
        search took ~0.1 s of scattered lookups; this is list slicing (issue 15)."""
        entries = list(map(keys.__getitem__, ids))
        other = IncrementalSearch.__new__(IncrementalSearch)
        other._start(
            [*self.ids[:start], *ids, *self.ids[stop:]],
            [*self._text[:start], *map(itemgetter(0), entries), *self._text[stop:]],
            [*self._digits[:start], *map(itemgetter(1), entries), *self._digits[stop:]],
        )
        return other

    def compacting(self, chunk: int) -> Iterator[None]:
        """Copy the haystacks into consecutive memory in this search's order, ``chunk`` records
        per step (None after each), then use the copies.

        Decoded bucket by bucket, each haystack lies among its record's other fields, and a
        scan reads them in the list's order: a new page of memory for nearly every record.
        Read one after the other, a scan of 100k records takes ~14 ms instead of ~30 ms, a
        phone number's ~20 ms instead of ~60 ms (issue 15).  The originals are the index's,
        which keeps them: the copies cost ~20 MB at 100k contacts.  All are made before any
        is used, so none lands in a gap an original left.
        """
        copies: tuple[list[str], list[str]] = ([], [])
        for start in range(0, len(self.ids), chunk):
            for source, into in zip((self._text, self._digits), copies, strict=True):
                part = source[start : start + chunk]
                copied = _RECORD_SEP.join(part).split(_RECORD_SEP)
                into.extend(copied if len(copied) == len(part) else part)  # a key holding it: as it is
            yield None
        self._text, self._digits = copies

    def retaking(self, base: IncrementalSearch, positions: Sequence[int], chunk: int) -> Iterator[None]:
        """For a search made by ``base.reordering(positions, ...)``: take ``base``'s haystacks again
        (after :meth:`compacting`), ``chunk`` records per step, in place (its results stay valid)."""
        for start in range(0, len(positions), chunk):
            part = positions[start : start + chunk]
            self._text[start : start + len(part)] = map(base._text.__getitem__, part)
            self._digits[start : start + len(part)] = map(base._digits.__getitem__, part)
            yield None

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
            # Kept as an array: the trail holds up to MAX_TRAIL results of up to every record, and
            # a list of ints is walked by every full collection of the cyclic collector (an app
            # keystroke that set one off waited ~20 ms more at 100k contacts); an array is not.
            result = array("i", self._scan(query, base))
        trail.append((query, result))
        if len(trail) > self.MAX_TRAIL:
            del trail[0]
        return result

    def _scan(self, query: Query, base: Sequence[int]) -> Sequence[int]:
        # The longest word first: it usually leaves the fewest records for the others.
        for word in sorted(query.words, key=lambda w: -len(w.text)):
            base = self._scan_word(word, base)
        return base

    def _scan_word(self, word: Word, base: Sequence[int]) -> list[int]:
        """The records of ``base`` holding ``word``: :func:`_found` inlined (tests check they agree).

        For a phone-like word the digits are tried first: they decide most records cheaply.
        """
        text, dhay = word.text, self._digits
        if word.any_phone:  # text is looked at only where there is no phone number
            hay = self._text
            return [i for i in base if dhay[i] or text in hay[i]]
        if _is_number(text):
            return self._scan_number_word(word, base)
        hay = self._text
        if word.digits is None:
            if base is self._everything:
                return [i for i, h in enumerate(hay) if text in h]
            return [i for i in base if text in hay[i]]
        digits, abroad, sep = word.digits, word.abroad, FIELD_SEP
        if abroad:
            return [
                i
                for i in base
                if digits in dhay[i] or dhay[i].startswith(abroad) or sep + abroad in dhay[i] or text in hay[i]
            ]
        if word.anchored:
            return [i for i in base if dhay[i].startswith(digits) or sep + digits in dhay[i] or text in hay[i]]
        return [i for i in base if digits in dhay[i] or text in hay[i]]

    def _scan_number_word(self, word: Word, base: Sequence[int]) -> list[int]:
        """:meth:`_scan_word` for a word that starts with a digit: as text it counts only in the
        name, organisation and e-mails.  The whole text is searched first (one C-level search);
        only where that hits is the part before the phone numbers worked out, so no keystroke
        pays for cutting the phone numbers off every record (issue 15: that was ~130 ms once
        per list at 100k contacts, on the first digit typed)."""
        text, hay, dhay = word.text, self._text, self._digits

        def in_text(i: int) -> bool:
            h = hay[i]
            return h.find(text, 0, _phone_free_end(h, dhay[i])) >= 0

        # ``text in hay[i] and in_text(i)``: the call only where the text occurs at all.
        if word.digits is None:
            return [i for i in base if text in hay[i] and in_text(i)]
        digits, abroad, sep = word.digits, word.abroad, FIELD_SEP
        if abroad:
            return [
                i
                for i in base
                if digits in dhay[i]
                or dhay[i].startswith(abroad)
                or sep + abroad in dhay[i]
                or (text in hay[i] and in_text(i))
            ]
        if word.anchored:
            return [
                i
                for i in base
                if dhay[i].startswith(digits) or sep + digits in dhay[i] or (text in hay[i] and in_text(i))
            ]
        return [i for i in base if digits in dhay[i] or (text in hay[i] and in_text(i))]
