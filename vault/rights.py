"""The data subject's rights on a record: erasure, withdrawal, objection, restriction, review.

Each right is a policy decision (vault.policy, pure) applied in one transaction
by the record book, together with the suppression list where a person must not
be quietly added back (vault.suppression):

* erasure (Art. 17): deleted now, or restricted and minimised while a duty or a
  hold keeps it; the request is recorded in the record (``erasure_requested``),
  the signed retention end becomes the day the last duty ends, so the
  unattended purge completes it; releasing the hold completes it at once;
* withdrawal of consent (Art. 7(3)): a minimal proof, or restriction under the
  duty that still runs, with the basis changed to that duty;
* objection (Art. 21): recorded, then handled as an erasure request;
* restriction the person asked for (Art. 18(1)): a hold (b, c) or a
  restriction (a, d) with the day of the request; lifting it needs the day the
  person was told (Art. 18(3));
* review of a consent record: moves the next review date, never deletes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date

from vault import policy
from vault.book import Also, RecordBook
from vault.errors import InvalidInput, SuppressedDetail
from vault.i18n import _
from vault.model import MAX_SHORT, Contact, ContactDraft, EraseOutcome, EraseResult, State, clean_text
from vault.retention import RuleBook
from vault.store.purging import ACTION_ERASE_REQUESTED  # restricted, waiting for a duty or hold to end
from vault.suppression import ERASED, OBJECTED, WITHDRAWN, Suppressed, SuppressionList

ACTION_ERASED = "erased"
ACTION_WITHDRAWN = "withdrawn"
ACTION_OBJECTED = "objected"


class Rights:
    """Applies the rights to the records of one unlocked vault."""

    def __init__(
        self, book: RecordBook, rules: RuleBook, suppression: SuppressionList, today: Callable[[], date]
    ) -> None:
        self._book = book
        self._rules = rules
        self._suppression = suppression
        self._today = today

    # --- the suppression list ---------------------------------------------------------

    def _listing(self, contacts: Iterable[Contact], reason: str, since: date | None = None) -> Also:
        emails = [e for c in contacts for e in c.emails]
        phones = [p for c in contacts for p in c.phones]
        day = since or self._today()
        return lambda s: self._suppression.add(s, emails, phones, reason, day)

    def suppressed(self, draft: ContactDraft) -> list[Suppressed]:
        """The suppression-list entries a (normalised) draft's e-mails and phones hit."""
        return self._suppression.matches(draft.emails, draft.phones)

    # --- erasure, withdrawal, objection ---------------------------------------------------

    def update(self, current: Contact, new: Contact, keep: frozenset[str], *, allow_suppressed: bool = False
               ) -> Contact | None:  # fmt: skip
        """Save an edit; a consent withdrawn by it takes effect at once (Art. 7(3)).

        An edit is no back door: an e-mail or phone it adds that is on the suppression list
        is refused (SuppressedDetail) unless the owner decided ``allow_suppressed``.  What
        ``current`` already had is not asked about (a shared office number stays editable).
        """
        if not allow_suppressed:
            had = {email.casefold() for email in current.emails}
            hits = self._suppression.matches(
                [email for email in new.emails if email.casefold() not in had],
                [phone for phone in new.phones if phone not in current.phones],
            )
            if hits:
                raise SuppressedDetail(tuple(hits))
        if not policy.newly_withdrawn(current, new):
            return self._book.rewrite(current, new, "updated")
        kept = policy.after_withdrawal(new, self._rules, self._today(), keep)
        detail = "consent proof kept" if kept.is_consent_proof else f"restricted until {_iso(kept.retention_end)}"
        listing = self._listing((current, new), WITHDRAWN, new.consent_withdrawn)
        return self._book.rewrite(current, kept, ACTION_WITHDRAWN, detail, also=listing)

    def erase(
        self,
        current: Contact,
        *,
        keep: frozenset[str],
        claims_needed: bool = True,
        reason: str = ERASED,
        requested: date | None = None,
    ) -> EraseResult:
        """Erasure (Art. 17): delete now, or restrict and minimise while a duty or hold keeps it;
        ``requested``: the day the person asked (default today)."""
        today = self._today()
        self._check_requested(requested)
        result = policy.erase_decision(current, self._rules, today, claims_needed=claims_needed)
        listing = self._listing((current,), reason, current.objected if reason == OBJECTED else None)
        if result.outcome is EraseOutcome.DELETED:
            self._book.delete([current.id], reason=ACTION_ERASED, detail=_completes(current), also=listing)
            return result
        pending = policy.pending_erasure(current, self._rules, requested or today, keep)
        detail = "hold" if current.hold else f"restricted until {_iso(pending.retention_end)}"
        self._book.rewrite(current, pending, ACTION_ERASE_REQUESTED, detail, also=listing)
        return result

    def object(
        self, current: Contact, *, on: date | None, keep: frozenset[str], claims_needed: bool = True
    ) -> EraseResult:
        """Objection (Art. 21): recorded with its day, then an erasure request; listed as objected."""
        today = self._today()
        day = on or today
        if day > today:
            raise InvalidInput("objected", _("lies in the future"))
        objected = replace(current, objected=current.objected or day)
        return self.erase(objected, keep=keep, claims_needed=claims_needed, reason=OBJECTED, requested=day)

    # --- holds and restrictions (Art. 18) ---------------------------------------------------

    def hold(self, current: Contact, *, reason: str, requested: date | None) -> Contact:
        """A legal hold (the purge leaves the record); ``requested``: the person asked for it
        (Art. 18(1)(b)/(c)), which also restricts the record."""
        reason = clean_text(reason, "reason", MAX_SHORT)
        self._check_requested(requested)
        new = replace(current, hold=True, hold_reason=reason or current.hold_reason)
        if requested is not None:
            new = replace(new, state=State.RESTRICTED, restriction_requested=requested)
        return self._book.rewrite(current, new, "held", "requested by the person" if requested else "")

    def release(self, current: Contact, *, informed: date | None) -> Contact | None:
        """Lift a hold; an erasure waiting only for it is completed now (None comes back)."""
        policy.check_lift(current, informed, self._today())
        detail = f"person informed {informed.isoformat()}" if informed else ""
        new = policy.released(current, self._rules, self._today())
        if new is None:
            self._book.delete([current.id], reason=ACTION_ERASED, detail=_completes(current))
            return None
        return self._book.rewrite(current, new, "released", detail)

    def restrict(self, current: Contact, *, requested: date | None) -> Contact:
        """Restrict processing (Art. 18): kept, hidden from the working list."""
        self._check_requested(requested)
        new = replace(current, state=State.RESTRICTED, restriction_requested=requested or current.restriction_requested)
        return self._book.rewrite(current, new, "restricted", "requested by the person" if requested else "")

    def unrestrict(self, current: Contact, *, informed: date | None) -> Contact:
        if current.erasure_requested is not None:
            raise InvalidInput("restriction", _("an erasure is waiting for a duty or hold to end; it stays restricted"))
        if current.hold and current.restriction_requested is not None:
            raise InvalidInput("restriction", _("the person's restriction is a hold; release the hold to lift it"))
        policy.check_lift(current, informed, self._today())
        new = replace(current, state=State.ACTIVE, restriction_requested=None)
        return self._book.rewrite(current, new, "unrestricted", f"person informed {informed}" if informed else "")

    def reviewed(self, current: Contact) -> Contact:
        """The owner checked a consent record is still needed: the next review moves on."""
        return self._book.rewrite(current, policy.reviewed(current, self._rules, self._today()), "reviewed")

    def _check_requested(self, requested: date | None) -> None:
        if requested is not None and requested > self._today():
            raise InvalidInput("requested", _("lies in the future"))


def _iso(day: date | None) -> str:
    return day.isoformat() if day else "-"


def _completes(contact: Contact) -> str:
    """The audit detail of a deletion that completes an earlier erasure request."""
    if contact.erasure_requested is None:
        return ""
    return f"completes the erasure requested {contact.erasure_requested.isoformat()}"
