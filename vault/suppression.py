"""The suppression list: people who withdrew consent, objected or had their data erased.

Art. 21(3) (after an objection to direct marketing the data must no longer be
processed for it), Art. 7(3) and Art. 17 are honoured only if the same person
is not quietly added back by the next import.  So the owner is warned before a
contact is (re-)added whose e-mail or phone belongs to someone on this list.

Entries are keyed BLAKE2b-256 digests of ``"email\\0" + casefolded address``
or ``"phone\\0" + E.164``, under a key derived from the root key: the file holds
no plaintext, and without the passphrase a digest cannot be tested against a
guessed address.  Entries carry the reason and the day, nothing else, and are
kept as long as the vault (the list exists to be remembered); the owner decides
whether to add a listed person again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from vault import crypto
from vault.i18n import _, format_date
from vault.store.models import SuppressionRow
from vault.store.repository import Store

WITHDRAWN = "withdrawn"  # Art. 7(3)
OBJECTED = "objected"  # Art. 21
ERASED = "erased"  # Art. 17
REASONS = (WITHDRAWN, OBJECTED, ERASED)


@dataclass(frozen=True)
class Suppressed:
    """One listed e-mail or phone of a contact about to be added."""

    kind: str  # "email" or "phone"; never the value itself (this travels in exceptions)
    reason: str
    since: date

    def describe(self) -> str:
        day = format_date(self.since)
        if self.kind == "email":
            return {
                WITHDRAWN: _("the person with this e-mail withdrew consent on {day}"),
                OBJECTED: _("the person with this e-mail objected on {day}"),
                ERASED: _("the person with this e-mail had their data erased on {day}"),
            }[self.reason].format(day=day)
        return {
            WITHDRAWN: _("the person with this phone withdrew consent on {day}"),
            OBJECTED: _("the person with this phone objected on {day}"),
            ERASED: _("the person with this phone had their data erased on {day}"),
        }[self.reason].format(day=day)


def _items(emails: Iterable[str], phones: Iterable[str]) -> list[tuple[str, str]]:
    return [("email", e) for e in emails] + [("phone", p) for p in phones]


class SuppressionList:
    """Reads and writes the suppression table under the unlocked vault's key."""

    def __init__(self, store: Store, key: Callable[[], bytes | bytearray]) -> None:
        self._store = store
        self._key = key

    def digest(self, kind: str, value: str) -> bytes:
        normal = value.casefold() if kind == "email" else value
        return crypto.mac(self._key(), kind.encode("ascii") + b"\0" + normal.encode("utf-8"))

    def add(self, session: Session, emails: Iterable[str], phones: Iterable[str], reason: str, since: date) -> None:
        """List every e-mail and phone (normalised, as stored) inside the caller's transaction;
        an entry already listed keeps its first reason and day."""
        rows = [
            {"digest": self.digest(kind, value), "reason": reason, "since": since}
            for kind, value in _items(emails, phones)
        ]
        if rows:
            session.execute(insert(SuppressionRow).prefix_with("OR IGNORE"), rows)

    def matches(self, emails: Iterable[str], phones: Iterable[str]) -> list[Suppressed]:
        """The listed ones among these normalised e-mails and E.164 phones."""
        items = _items(emails, phones)
        if not items:
            return []
        wanted = {self.digest(kind, value): (kind, value) for kind, value in items}
        with self._store.session() as s:
            rows = s.execute(
                select(SuppressionRow.digest, SuppressionRow.reason, SuppressionRow.since).where(
                    SuppressionRow.digest.in_(list(wanted))
                )
            ).all()
        found = {bytes(d): (reason, since) for d, reason, since in rows}
        return [
            Suppressed(kind, *found[digest])
            for digest, (kind, _) in wanted.items()
            if digest in found and found[digest][0] in REASONS
        ]

    def count(self) -> int:
        with self._store.session() as s:
            return len(s.execute(select(SuppressionRow.digest)).all())
