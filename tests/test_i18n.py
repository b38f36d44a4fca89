"""The message catalogues (vault.i18n, issue 14): every marked text is in every
catalogue, translated, not fuzzy, and compiled; the language is chosen as documented."""

from __future__ import annotations

import gettext
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from vault import i18n

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "NC_": ((1, "c"), 2)}
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]


def _marked() -> set[tuple[str | None, str]]:
    """Every (context, msgid) marked in vault/ and tui/, as `make messages` extracts them."""
    found: set[tuple[str | None, str]] = set()
    for folder in ("vault", "tui"):
        for _file, _line, message, _comments, context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add((context, message if isinstance(message, str) else message[0]))
    return found


def _catalogue(lang: str):  # type: ignore[no-untyped-def]
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_marked_text_is_translated_and_not_fuzzy(lang: str) -> None:
    catalogue = _catalogue(lang)
    missing, untranslated, fuzzy = [], [], []
    for context, msgid in sorted(_marked(), key=lambda m: (m[0] or "", m[1])):
        entry = catalogue.get(msgid, context=context)
        if entry is None:
            missing.append(msgid)
        elif not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
            untranslated.append(msgid)
        elif entry.fuzzy:
            fuzzy.append(msgid)
    assert (missing, untranslated, fuzzy) == ([], [], []), "run `make messages` and translate"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalogue_is_the_source(lang: str) -> None:
    """The .mo the app reads holds exactly the .po's translations (`make messages` compiles)."""
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in _catalogue(lang):
        if not entry.id or entry.fuzzy:
            continue
        if isinstance(entry.id, tuple):
            assert compiled.ngettext(entry.id[0], entry.id[1], 1) == entry.string[0], entry.id
        elif entry.context:
            assert compiled.pgettext(entry.context, entry.id) == entry.string, entry.id
        else:
            assert compiled.gettext(entry.id) == entry.string, entry.id


@pytest.mark.parametrize(
    ("cli", "config", "environ", "expected"),
    [
        (None, None, {}, "en"),
        (None, None, {"LANG": "de_DE.UTF-8"}, "de"),
        (None, None, {"LANG": "de_DE.UTF-8", "LC_ALL": "C"}, "en"),  # LC_ALL decides (POSIX)
        (None, None, {"LC_MESSAGES": "de_AT.UTF-8", "LANG": "en_GB.UTF-8"}, "de"),
        (None, None, {"LANG": "fr_FR.UTF-8"}, "en"),  # a language sealbook does not speak
        (None, "de", {"LANG": "en_US.UTF-8"}, "de"),  # the config beats the environment
        ("en", "de", {"LANG": "de_DE.UTF-8"}, "en"),  # --lang beats both
        ("de", None, {}, "de"),
        ("xx", None, {"LANG": "de_DE"}, "de"),  # an unknown --lang is no choice
    ],
)
def test_the_language_is_chosen_as_documented(
    cli: str | None, config: str | None, environ: dict[str, str], expected: str
) -> None:
    assert i18n.choose(cli, config, environ) == expected


def test_dates_and_numbers_follow_the_language() -> None:
    day = date(2026, 11, 30)
    assert i18n.format_date(day, "de") == "30.11.2026"
    assert i18n.format_date(day, "en") == "2026-11-30"
    assert i18n.format_datetime(datetime(2026, 11, 30, 9, 5), "de") == "30.11.2026 09:05"
    assert i18n.format_number(100000, "de") == "100.000"
    assert i18n.format_number(100000, "en") == "100,000"


def test_switching_the_language_switches_the_texts() -> None:
    catalogue = _catalogue("de")
    sample = next((e for e in catalogue if e.id and isinstance(e.id, str) and e.string != e.id), None)
    if sample is None:
        pytest.skip("no translated text yet")
    try:
        i18n.set_language("de")
        assert i18n._(sample.id) == sample.string
        assert i18n.language() == "de"
    finally:
        i18n.set_language("en")
    assert i18n._(sample.id) == sample.id


def test_the_letter_is_written_in_its_own_language_whatever_the_process_speaks() -> None:
    """The answer letter's wording comes from the catalogue of the letter's language
    (vault.i18n.translate_to), not from a table in the code: a third language is a catalogue."""
    from vault.model import LegalBasis

    for process in ("en", "de"):
        try:
            i18n.set_language(process)
            assert (
                LegalBasis.CONTRACT.describe("de")
                == "Vertrag oder vorvertragliche Maßnahmen (Art. 6 Abs. 1 lit. b DSGVO)"
            )
            assert LegalBasis.CONTRACT.describe("en") == "Contract or pre-contractual steps (Art. 6(1)(b) GDPR)"
        finally:
            i18n.set_language("en")
