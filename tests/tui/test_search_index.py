"""vault.search: the fast paths agree with the plain definitions, and narrowing
the previous result gives exactly what a full scan gives."""

from __future__ import annotations

import random
import unicodedata
from array import array

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from vault.model import national_digits as reference_national_digits
from vault.search import (
    FIELD_SEP,
    IncrementalSearch,
    fold,
    matches,
    narrows,
    national_digits,
    parse_query,
    text_key,
)

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def reference_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def reference_text_key(text: str) -> str:
    folded = reference_fold(text)
    german = reference_fold(unicodedata.normalize("NFC", text.casefold()).translate(_GERMAN))
    return folded if german == folded else folded + FIELD_SEP + german


SAMPLES = [
    "Jürgen Müller",
    "MÜLLER & Söhne GmbH",
    "Chloé  Weiß",
    "Ångström",
    "ÆØÅ æøå",
    "straße STRASSE",
    "ﬁne ligature",
    "İstanbul",
    "Dvořák Tomáš",
    "a\u00a0b",
    " leading and trailing ",
    "Ǆemal",
    "Zoë Öztürk",
    "ꟸ",
    "日本語 テキスト",
    "plain ascii Name",
    "",
    "e\u0301 combining",
]


def test_fold_and_text_key_match_their_definitions() -> None:
    for text in SAMPLES:
        assert fold(text) == reference_fold(text), text
        assert text_key(text) == reference_text_key(text), text


def test_national_digits_match_phonenumbers_for_every_example_number() -> None:
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (
            PhoneNumberType.FIXED_LINE,
            PhoneNumberType.MOBILE,
            PhoneNumberType.TOLL_FREE,
            PhoneNumberType.PAGER,
            PhoneNumberType.VOIP,
            PhoneNumberType.UAN,
        ):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            assert national_digits(e164) == reference_national_digits(e164), e164
            checked += 1
    assert checked > 500


def test_german_spellings_and_phone_formats_find_the_record() -> None:
    keys = (
        FIELD_SEP.join([text_key("Jürgen Müller"), text_key("Weiß KG"), "j@example.org", "+49301234567"]),
        FIELD_SEP.join(["49301234567", national_digits("+49301234567")]),
    )
    for query in [
        "Mueller",
        "muller",
        "MÜLLER",
        "weiss",
        "jurgen",
        "030/123",
        "+49 30 123",
        "4930123",
        "0049 30 1234567",
        "j@exa",
    ]:
        assert matches(parse_query(query), keys), query
    for query in ["meier", "031", "x@example"]:
        assert not matches(parse_query(query), keys), query


def test_narrowing_gives_the_same_result_as_a_full_scan() -> None:
    rnd = random.Random(7)
    words = ["müller", "mueller", "weiß", "anna", "030", "0301", "+49", "12", "@ex", "ö", "x"]
    hay = {}
    for i in range(400):
        name = " ".join(rnd.choice(["Jürgen", "Anna", "Weiß", "Müller", "Öz", "Bob"]) for _ in range(2))
        phone = f"+49{rnd.choice(['30', '89', '171'])}{rnd.randint(100000, 999999)}"
        hay[str(i)] = (
            FIELD_SEP.join([text_key(name), f"{name.split()[0].lower()}{i}@ex.org", phone]),
            FIELD_SEP.join([phone[1:], national_digits(phone)]),
        )
    ids = sorted(hay)
    search = IncrementalSearch(ids, hay)
    typed = ""
    for _ in range(300):
        if typed and rnd.random() < 0.3:
            typed = typed[:-1]
        else:
            typed += rnd.choice(words)[: rnd.randint(1, 3)]
        if len(typed) > 8:
            typed = ""
        expected = [i for i, cid in enumerate(ids) if matches(parse_query(typed), hay[cid])]
        found = search.filter(typed)
        assert list(found) == expected, typed
        # Kept results are arrays (or the range of all), whose items the cyclic collector never
        # visits (a list's items it visits at every full collection: a keystroke's stall at 100k).
        assert isinstance(found, array | range), typed


def test_a_query_that_becomes_a_phone_number_does_not_narrow_a_text_result() -> None:
    assert narrows(parse_query("mu"), parse_query("mue"))
    # Digits count from the first one (issue 13.12: "01" -> "017" widened the result).
    assert narrows(parse_query("03"), parse_query("030"))
    assert not narrows(parse_query("+"), parse_query("x"))  # a letter is no phone number
    assert narrows(parse_query("030"), parse_query("0301"))
    assert not narrows(parse_query("mue"), parse_query("mu"))
