"""What the readers hand to the planner (one :class:`ParsedEntry` per vCard or CSV row), and
what the planner is handed to check each entry with (:class:`Validate`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vault.errors import VaultError
from vault.i18n import N_
from vault.model import ContactDraft


class ImportRefused(VaultError):
    """This file cannot be imported; nothing was imported."""

    sentence = N_("This file cannot be imported; nothing was imported.")


class FolderRefused(ImportRefused):
    """This folder cannot be imported; nothing was imported."""

    sentence = N_("This folder cannot be imported; nothing was imported.")


@dataclass(frozen=True)
class ParsedEntry:
    """One vCard or CSV row: its fields, or why it cannot be read."""

    index: int  # 1-based position in the file
    line: int  # first line of the entry in the file
    name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    org: str = ""
    notes: str = ""
    uid: str = ""
    error: str = ""
    ignored: tuple[str, ...] = ()  # vCard properties not imported (data minimisation)


class Validate(Protocol):
    """The vault's own validation of a draft; ``before``: the stored contact it changes."""

    def __call__(self, draft: ContactDraft, *, before: ContactDraft | None = None) -> ContactDraft: ...


def normalise_newlines(text: str) -> str:
    """``text`` with CR LF and lone CR line breaks turned into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
