"""The owner's settings, changed from a front end and written back into ``config.toml``.

:func:`save_settings` writes only what changed (against the values the front end
showed, else against the file) and keeps everything else as the owner wrote it:
comments, the order of keys, tables it does not know (tomlkit edits the document
in place rather than writing it anew).  The whole result is checked with
:func:`vault.config.parse_config` before anything is written; a refused value
raises :class:`SettingRefused`, naming the setting, and the file stays as it was.
The file is replaced atomically (temp file in the same folder, fsync, rename) and
is readable by the owner only (0600).

Processors are edited as text, one a line (:func:`processor_lines`,
:func:`parse_processor_lines`)::

    name | purpose | country | role | transfer | adequacy decision

Only name and country are required; role is ``processor`` (Art. 28 GDPR) or
``controller``; outside the EU/EEA transfer is ``adequacy`` (with the
decision's name), ``scc`` or ``bcr``.  A processor whose line did not change
keeps its entry in the file untouched (purposes by language included).
"""

from __future__ import annotations

import errno
import os
import tomllib
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import phonenumbers
import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, Item
from tomlkit.toml_document import TOMLDocument

from vault.config import Config, Processor, Wording, parse_config
from vault.errors import ConfigError, StorageFull, VaultError
from vault.fsutil import atomic_write, private_dir
from vault.i18n import LANGUAGES, N_, _, language

PROCESSOR_COLUMNS = ("name", "purpose", "country", "role", "transfer", "adequacy_decision")
SEPARATOR = "|"


class SettingRefused(ConfigError):
    """A setting is invalid; nothing was written."""

    sentence = N_("A setting is invalid; nothing was written.")

    def __init__(self, setting: str, detail: str) -> None:
        self.setting = setting  # a field of Settings, so a front end can point at it
        super().__init__(detail)


class SettingsNotWritten(VaultError):
    """The config file could not be written; nothing was changed."""

    sentence = N_("The config file could not be written; nothing was changed.")


@dataclass(frozen=True)
class Settings:
    """What a front end lets the owner change; every other key of the file stays as it is.

    ``language`` None: the environment decides (LANG); ``letter_language`` None: the
    letter follows ``language`` (see :attr:`vault.config.Config.letter_language`).
    """

    idle_lock_minutes: int = 5
    controller_name: str = ""
    controller_address: str = ""
    supervisory_authority: str = ""
    processors: tuple[Processor, ...] = ()
    region: str = "DE"
    language: str | None = None
    letter_language: str | None = None

    @classmethod
    def of(cls, config: Config) -> Settings:
        letter = config.extra.get("letter_language")
        return cls(
            idle_lock_minutes=config.idle_lock_minutes,
            controller_name=config.controller_name,
            controller_address=config.controller_address,
            supervisory_authority=config.supervisory_authority,
            processors=config.processors,
            region=config.region,
            language=config.language,
            letter_language=letter if isinstance(letter, str) and letter in LANGUAGES else None,
        )


# --- processors as text ---------------------------------------------------------------


def processor_lines(processors: Iterable[Processor], lang: str | None = None) -> str:
    """One line per processor (see the module text); the purpose in ``lang`` when the file has one."""
    lang = lang or language()
    lines = []
    for processor in processors:
        cells = [
            processor.name,
            processor.purpose_in(lang),
            processor.country,
            processor.role,
            processor.transfer,
            processor.adequacy_decision,
        ]
        if cells[3] == "processor" and not cells[4] and not cells[5]:
            cells = cells[:3]  # the usual case stays short: name | purpose | country
        while len(cells) > 3 and not cells[-1]:
            cells.pop()
        lines.append(f" {SEPARATOR} ".join(cells))
    return "\n".join(lines)


def parse_processor_lines(text: str) -> tuple[Processor, ...]:
    """The processors written one a line; blank lines are skipped.  Checks the shape only
    (:func:`save_settings` checks the values); raises :class:`SettingRefused`."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(SEPARATOR)]
        if len(cells) > len(PROCESSOR_COLUMNS):
            raise SettingRefused(
                "processors",
                _("processors, line {n}: at most six parts separated by | ({columns})").format(
                    n=number, columns=" | ".join(PROCESSOR_COLUMNS)
                ),
            )
        cells += [""] * (len(PROCESSOR_COLUMNS) - len(cells))
        name, purpose, country, role, transfer, decision = cells
        if not name:
            raise SettingRefused("processors", _("processors, line {n}: the name is missing").format(n=number))
        found.append(Processor(name, purpose, country.upper(), role.lower() or "processor", transfer.lower(), decision))
    return tuple(found)


# --- saving -----------------------------------------------------------------------------


def save_settings(path: Path, settings: Settings, *, before: Settings | None = None) -> Config:
    """Write the settings that differ from ``before`` (what the front end showed; None: the
    file's values) into the TOML file at ``path`` and return the config now in it.

    Nothing is written when a value is refused (:class:`SettingRefused`) or the file cannot be
    read (:class:`~vault.errors.ConfigError`); a failed write leaves the old file
    (:class:`SettingsNotWritten`, :class:`~vault.errors.StorageFull`).
    """
    check_settings(settings)
    path = Path(path).expanduser()
    target = path.resolve() if path.is_symlink() else path  # a dotfiles link keeps pointing at its file
    text = _read(target)
    try:
        document = tomlkit.parse(text)
        current = parse_config(tomllib.loads(text))
    except (TOMLKitError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    shown = before or Settings.of(current)
    _apply(document, settings, shown, current)
    new_text = tomlkit.dumps(document)
    try:
        config = parse_config(tomllib.loads(new_text))
    except tomllib.TOMLDecodeError as exc:  # not expected: tomlkit writes valid TOML
        raise ConfigError(f"{path}: {exc}") from None
    _write(target, new_text)
    return config


def check_settings(settings: Settings) -> None:
    """Each value on its own, with the same checks the config file gets (parse_config)."""
    if settings.region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingRefused("region", _("region must be a two-letter country code such as DE"))
    singles: dict[str, dict[str, Any]] = {
        "idle_lock_minutes": {"idle_lock_minutes": settings.idle_lock_minutes},
        "language": {"language": settings.language} if settings.language is not None else {},
        "processors": {"processors": [_processor_table(p) for p in settings.processors]},
    }
    for setting, data in singles.items():
        try:
            parse_config(data)
        except ConfigError as error:
            raise SettingRefused(setting, error.detail or str(error)) from None
    if settings.letter_language is not None and settings.letter_language not in LANGUAGES:
        raise SettingRefused(
            "letter_language",
            _("letter_language must be one of {choices}").format(
                choices=", ".join(f'"{code}"' for code in sorted(LANGUAGES))
            ),
        )
    names = [p.name.casefold() for p in settings.processors]
    if len(set(names)) != len(names):
        raise SettingRefused("processors", _("processors: each name may appear only once"))


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None


def _write(path: Path, text: str) -> None:
    try:
        private_dir(path.parent)
        atomic_write(path, text.encode("utf-8"), mode=0o600)
        os.chmod(path, 0o600)  # os.open's mode passed through the umask: exactly 0600 for the owner
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(str(path)) from None
        raise SettingsNotWritten(f"{path}: {exc.strerror}") from None


def _apply(document: TOMLDocument, new: Settings, shown: Settings, current: Config) -> None:
    """Change in ``document`` what differs between ``new`` and ``shown``; nothing else."""
    changed = {f.name for f in fields(Settings) if getattr(new, f.name) != getattr(shown, f.name)}
    if "idle_lock_minutes" in changed:
        document["idle_lock_minutes"] = new.idle_lock_minutes
    if "region" in changed:
        document["region"] = new.region.upper()
    for key in ("language", "letter_language"):
        if key in changed:
            _set_or_drop(document, key, getattr(new, key))
    controller_keys = {"controller_name": "name", "controller_address": "address"}
    controller_keys["supervisory_authority"] = "supervisory_authority"
    for setting, key in controller_keys.items():
        if setting in changed:
            table = document.get("controller")
            if table is None:
                table = tomlkit.table()
                document["controller"] = table
            if not isinstance(table, MutableMapping):
                raise SettingRefused(setting, _("[controller] must be a table"))
            table[key] = _text(getattr(new, setting))
    if "processors" in changed:
        _apply_processors(document, new.processors, current.processors)


def _set_or_drop(table: MutableMapping[str, Any], key: str, value: str | None) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


def _text(value: str) -> Item:
    """A TOML string; an address of several lines stays several lines in the file."""
    return tomlkit.string(value, multiline="\n" in value)


def _processor_table(processor: Processor) -> dict[str, str]:
    """A new ``[[processors]]`` entry: the keys that say something, in the columns' order."""
    table = {"name": processor.name, "purpose": processor.purpose, "country": processor.country}
    if processor.role != "processor":
        table["role"] = processor.role
    if processor.transfer:
        table["transfer"] = processor.transfer
    if processor.adequacy_decision:
        table["adequacy_decision"] = processor.adequacy_decision
    return {key: value for key, value in table.items() if value or key in ("name", "country")}


def _apply_processors(document: TOMLDocument, wanted: tuple[Processor, ...], old: tuple[Processor, ...]) -> None:
    """The list as ``wanted``: an entry whose processor is still there (same name) is changed
    in place, keeping its comments and keys; new ones are appended; removed ones go."""
    existing = document.get("processors")
    entries: list[Any] = list(existing) if isinstance(existing, (AoT, Array)) else []
    by_name = {
        p.name.casefold(): (entry, p)
        for entry, p in zip(entries, old, strict=False)
        if isinstance(entry, MutableMapping)
    }
    inline = isinstance(existing, Array)  # processors = [{...}, ...] stays inline
    tables: list[Any] = []
    for processor in wanted:
        found = by_name.get(processor.name.casefold())
        if found is None:
            tables.append(_new_entry(processor, inline=inline))
            continue
        entry, was = found
        _update_processor(entry, processor, was)
        tables.append(entry)
    kept = [id(entry) for entry in tables if any(entry is e for e in entries)]
    same_order = [id(e) for e in entries if id(e) in kept] == kept == [id(t) for t in tables[: len(kept)]]
    if isinstance(existing, AoT) and same_order:
        # Old entries in their order, new ones after them: remove and append in place, so the
        # comments between entries stay where they are.
        for index in reversed(range(len(entries))):
            if id(entries[index]) not in kept:
                del existing[index]
        for entry in tables[len(kept) :]:
            existing.append(entry)
        if not tables:
            document.pop("processors", None)
        return
    if not tables:
        document.pop("processors", None)
    elif inline:
        array = tomlkit.array()
        array.extend(tables)
        document["processors"] = array
    else:
        document["processors"] = AoT(tables)


def _new_entry(processor: Processor, *, inline: bool) -> Any:
    if inline:
        made = tomlkit.inline_table()
        made.update(_processor_table(processor))
        return made
    table = tomlkit.table()
    table.update(_processor_table(processor))
    table.add(tomlkit.nl())  # a blank line before whatever table follows
    return table


def _update_processor(entry: MutableMapping[str, Any], new: Processor, was: Processor) -> None:
    """Change the keys of one ``[[processors]]`` entry whose values changed."""
    if new.name != was.name:
        entry["name"] = new.name
    wording = Wording(was.purpose, was.purpose_by_lang)
    known = {wording.default, *dict(wording.by_lang).values(), wording.in_lang(language())}
    if new.purpose not in known:  # an unchanged purpose keeps its texts by language
        stored = entry.get("purpose")
        if isinstance(stored, dict):  # tomlkit's tables are dicts
            stored[language()] = new.purpose
        else:
            entry["purpose"] = new.purpose
    for key in ("country", "role", "transfer", "adequacy_decision"):
        value = getattr(new, key)
        if value == getattr(was, key):
            continue
        if value and not (key == "role" and value == "processor" and "role" not in entry):
            entry[key] = value
        else:
            entry.pop(key, None)
