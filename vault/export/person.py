"""Finding every record of one person, the first step of an Art. 15 / Art. 20 answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vault.book import RecordBook
from vault.errors import InvalidInput
from vault.model import Contact


def _name_variants(text: str) -> list[list[str]]:
    from vault.search import FIELD_SEP, text_key

    return [variant.split() for variant in text_key(text).split(FIELD_SEP)]


def _name_matches(query: list[list[str]], name: str) -> bool:
    candidates = [set(tokens) for tokens in _name_variants(name)]
    return any(tokens and all(t in candidate for t in tokens) for tokens in query for candidate in candidates)


@dataclass(frozen=True)
class PersonQuery:
    """What identifies one person: name words, a normalised e-mail, an E.164 phone."""

    name: list[list[str]]
    email: str
    phone: str

    @classmethod
    def parse(cls, *, name: str = "", email: str = "", phone: str = "", region: str = "DE") -> PersonQuery:
        """A phone or e-mail that cannot be parsed matches nothing rather than failing."""
        from vault.model import normalise_email, normalise_phone

        wanted_email = email.strip().casefold()
        if wanted_email:
            try:
                wanted_email = normalise_email(email).casefold()
            except InvalidInput:
                pass
        wanted_phone = ""
        if phone.strip():
            try:
                wanted_phone = normalise_phone(phone, region)
            except InvalidInput:
                wanted_phone = ""
        return cls(_name_variants(name) if name.strip() else [], wanted_email, wanted_phone)

    def may_match(self, text_key: str) -> bool:
        """A cheap test on a record's search text (vault.search.contact_keys) that every
        record :meth:`matches` passes, so only those need decoding."""
        if any(tokens and all(t in text_key for t in tokens) for tokens in self.name):
            return True
        return bool(self.email and self.email in text_key) or bool(self.phone and self.phone in text_key)

    def matches(self, c: Contact) -> bool:
        return bool(
            (self.name and _name_matches(self.name, c.name))
            or (self.email and any(e.casefold() == self.email for e in c.emails))
            or (self.phone and self.phone in c.phones)
        )


def find_person(
    contacts: Iterable[Contact], *, name: str = "", email: str = "", phone: str = "", region: str = "DE"
) -> list[Contact]:
    """Every record matching the name (all its words, any order, accents and German
    spellings folded), the e-mail (case-insensitive) or the phone (in E.164).

    Restricted records are included: the person has a right to them.
    """
    query = PersonQuery.parse(name=name, email=email, phone=phone, region=region)
    found = [c for c in contacts if query.matches(c)]
    return sorted(found, key=lambda c: (c.name.casefold(), c.id))


def find_in_book(book: RecordBook, *, name: str, email: str, phone: str, region: str) -> list[Contact]:
    """:func:`find_person` over a record book, decoding only the records whose search
    keys may match (a superset), not all of them."""
    query = PersonQuery.parse(name=name, email=email, phone=phone, region=region)
    candidates = (book.get(cid) for cid, keys in book.search_keys().items() if query.may_match(keys[0]))
    return find_person(candidates, name=name, email=email, phone=phone, region=region)
