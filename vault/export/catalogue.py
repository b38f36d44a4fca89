"""The words of the answer letter: one TOML catalogue per language in ``letters/``.

A catalogue maps message ids (``"intro.text"``, ``"field.name"``; TOML tables
give the part before the dot) to texts with ``{placeholders}`` that
:mod:`vault.export.letter` fills in.  A catalogue is read the first time a
letter in its language is built, never at import time, and kept.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from vault.errors import InvalidInput
from vault.i18n import _

# The languages a letter can be written in; each has letters/<code>.toml.
LANGUAGES = ("de", "en")
CATALOGUE_FOLDER = "letters"


def check_lang(lang: str) -> str:
    """``lang`` when a letter can be written in it, else InvalidInput."""
    if lang not in LANGUAGES:
        raise InvalidInput("language", _("must be one of {choices}").format(choices=", ".join(LANGUAGES)))
    return lang


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = str(value)
    return flat


@cache
def messages(lang: str) -> Mapping[str, str]:
    """Every message of the catalogue of ``lang``, by message id (read once)."""
    folder = resources.files("vault.export").joinpath(CATALOGUE_FOLDER)
    text = folder.joinpath(f"{check_lang(lang)}.toml").read_text(encoding="utf-8")
    return MappingProxyType(_flatten(tomllib.loads(text)))


def format_date(value: date | None, lang: str) -> str:
    """A date as the letter in ``lang`` writes it; ISO 8601 for other languages."""
    if value is None:
        return ""
    if lang not in LANGUAGES:
        return value.isoformat()
    return messages(lang)["date_format"].format(day=value.day, month=value.month, year=value.year)


def plural(t: Mapping[str, str], key: str, n: int) -> str:
    """The singular (``<key>.one``) or plural (``<key>.other``) of a message, with {n} filled in."""
    return t[f"{key}.one" if n == 1 else f"{key}.other"].format(n=n)
