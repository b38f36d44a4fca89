"""The user's language: gettext catalogues for every text a person reads (issue 14).

One catalogue per language in the standard gettext format:
``vault/locale/<lang>/LC_MESSAGES/sealbook.po`` is the source, ``.mo`` beside it
the compiled form the standard library's :mod:`gettext` reads (``make messages``
extracts the texts from the code with Babel, updates every ``.po`` and compiles
them; a test fails when a text is missing, empty, fuzzy or not compiled).  A third
language is one more catalogue and one more entry in :data:`LANGUAGES`.

The language is chosen once per process, before any text is made: ``--lang`` on
the command line, else ``language`` in the config file, else the environment
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``, the first that is set), else English.

Texts are marked with :func:`_` where they are made (:func:`NC_` adds a context).  Texts made when a module is
imported (tables of labels, command help) are marked with :func:`N_` and passed
through :func:`_` where they are shown, so they follow a language chosen later.
Dates and numbers in the app follow the language (30.11.2026 in German); JSON
output and logs stay ISO 8601.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path

DOMAIN = "sealbook"
LANGUAGES = ("en", "de")  # English is the source language: its "catalogue" is the code
DEFAULT = "en"
LOCALE_DIR = Path(__file__).with_name("locale")
ENVIRONMENT = ("LC_ALL", "LC_MESSAGES", "LANG")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT


def _(message: str) -> str:
    """``message`` in the current language (itself when there is no translation)."""
    return _translation.gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (see the module text)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def NC_(context: str, message: str) -> str:
    """Mark ``message`` with a ``context`` (the same English in another role, e.g. in the
    answer letter); translated with :func:`translate_to`."""
    return message


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang`` (read once); English is the code itself."""
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def translate_to(lang: str, message: str, context: str | None = None) -> str:
    """``message`` in ``lang``, whatever the process's language: the answer letter is
    written in the language the owner chose for it."""
    found = catalogue(normalise(lang) or DEFAULT)
    return found.pgettext(context, message) if context else found.gettext(message)


def language() -> str:
    """The current language code ("en", "de")."""
    return _language


def normalise(value: str | None) -> str | None:
    """A language code from a setting or a locale name ("de_DE.UTF-8" -> "de");
    None when it names no language sealbook speaks ("C", "POSIX", "fr_FR")."""
    if not value:
        return None
    code = value.split(":")[0].split(".")[0].split("@")[0].split("_")[0].split("-")[0].strip().lower()
    return code if code in LANGUAGES else None


def from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The language the locale environment asks for: the first of LC_ALL, LC_MESSAGES
    and LANG that is set decides (as in POSIX), even when it names another language."""
    env = os.environ if environ is None else environ
    for name in ENVIRONMENT:
        value = env.get(name)
        if value:
            return normalise(value)
    return None


def choose(cli: str | None = None, config: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``--lang``, else the config's ``language``, else the environment, else English."""
    return normalise(cli) or normalise(config) or from_environment(environ) or DEFAULT


def set_language(code: str) -> str:
    """Switch every later text to ``code`` (an unknown code means English); returns it."""
    global _translation, _language
    lang = normalise(code) or DEFAULT
    _translation = catalogue(lang)
    _language = lang
    return lang


def format_date(value: date | datetime | None, lang: str | None = None) -> str:
    """A date as people of the language write it: 30.11.2026 in German, 2026-11-30 in English."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    if (lang or _language) == "de":
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    return day.isoformat()


def format_datetime(value: datetime | None, lang: str | None = None) -> str:
    """A local date and time: 30.11.2026 14:05 in German, 2026-11-30 14:05 in English."""
    if value is None:
        return ""
    return f"{format_date(value, lang)} {value.hour:02d}:{value.minute:02d}"


def format_number(value: int, lang: str | None = None) -> str:
    """An integer with thousands separators: 100.000 in German, 100,000 in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if (lang or _language) == "de" else text
