"""What an import batch must carry, and what it may do to the people in it.

* Consent must be provable (Art. 7(1)): a batch with the basis consent needs the
  day consent was given and how, for the whole batch; they are never filled in
  (not from the file, the trigger or today).
* The suppression list (vault.suppression): people who withdrew consent, objected
  or had their data erased are not quietly added back; the job asks a narrow
  callable which entries are listed, in batches, so a large file costs a few
  queries when nobody in it is listed.
* A batch's (rule, trigger) is added to a stored contact it merges into, as a
  further duty (vault.model.Duty), unless it adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from vault.errors import InvalidInput
from vault.i18n import N_, _, format_date
from vault.model import ContactDraft, Duty, LegalBasis, RetentionRule
from vault.retention import retention_end, trigger_label
from vault.suppression import ERASED, OBJECTED, WITHDRAWN, Suppressed

SuppressionCheck = Callable[[ContactDraft], list[Suppressed]]

CHUNK = 1000  # e-mails and phones per suppression query (SQLite allows 32766 parameters)

_WHY = {
    WITHDRAWN: N_("withdrew consent on {day}"),
    OBJECTED: N_("objected on {day}"),
    ERASED: N_("had their data erased on {day}"),
}


def check_batch(
    basis: LegalBasis,
    rule: RetentionRule,
    trigger: date | None,
    consent_given: date | None,
    consent_method: str,
    today: date,
) -> None:
    """Refuse a batch that lacks what every contact in it needs, before the file is read."""
    if basis is LegalBasis.CONSENT:
        if consent_given is None:
            raise InvalidInput(
                "consent", _("an import with the basis consent needs the day consent was given (Art. 7(1) GDPR)")
            )
        if not consent_method.strip():
            raise InvalidInput(
                "consent",
                _(
                    "an import with the basis consent needs how consent was given, e.g. web form, e-mail, in person "
                    "(Art. 7(1) GDPR)"
                ),
            )
    elif consent_given is not None or consent_method.strip():
        raise InvalidInput("consent", _("the day and way consent was given belong to the basis consent only"))
    if consent_given is not None and consent_given > today:
        raise InvalidInput("consent", _("the day consent was given lies in the future"))
    if not rule.until_withdrawn and trigger is None:
        raise InvalidInput(
            "trigger", _("the rule {rule} needs a {trigger}").format(rule=rule.key, trigger=trigger_label(rule))
        )
    if rule.until_withdrawn and trigger is None and consent_given is None:
        raise InvalidInput(
            "trigger", _("the rule {rule} needs a {trigger}").format(rule=rule.key, trigger=trigger_label(rule))
        )
    if rule.until_withdrawn and None not in (trigger, consent_given) and trigger != consent_given:
        runs = _("the rule {rule} runs from the day consent was given; leave its date out")
        raise InvalidInput("trigger", runs.format(rule=rule.key))


def suppression_hits(drafts: Sequence[ContactDraft | None], check: SuppressionCheck) -> dict[int, list[Suppressed]]:
    """The listed entries among ``drafts`` (normalised; None for entry errors), by position.

    One query per chunk of about CHUNK e-mails and phones; only a chunk with a hit
    is then checked entry by entry (the list answers "listed", not "which one").
    """
    hits: dict[int, list[Suppressed]] = {}
    chunk: list[tuple[int, ContactDraft]] = []
    size = 0
    for position, draft in [*enumerate(drafts), (len(drafts), None)]:
        if draft is not None:
            chunk.append((position, draft))
            size += len(draft.emails) + len(draft.phones)
        if chunk and (size >= CHUNK or position == len(drafts)):
            emails = tuple(e for _, d in chunk for e in d.emails)
            phones = tuple(p for _, d in chunk for p in d.phones)
            if (emails or phones) and check(_carrier(emails, phones)):
                hits.update((index, found) for index, d in chunk if (found := check(d)))
            chunk, size = [], 0
    return hits


def _carrier(emails: tuple[str, ...], phones: tuple[str, ...]) -> ContactDraft:
    """The e-mails and phones of many entries in one draft, for one suppression query."""
    return ContactDraft(name="import", basis=LegalBasis.CONTRACT, rule="", trigger=None, emails=emails, phones=phones)


def describe(hits: Sequence[Suppressed]) -> str:
    """Why an entry is listed: the reasons and days only, never the e-mail or phone."""
    seen = dict.fromkeys(
        _(_WHY[h.reason]).format(day=format_date(h.since))
        if h.reason in _WHY
        else _("{reason} on {day}").format(reason=h.reason, day=format_date(h.since))
        for h in hits
    )
    return "; ".join(seen)


def rule_to_add(base: ContactDraft, rule: RetentionRule, trigger: date | None) -> tuple[Duty | None, str]:
    """(the duty a batch adds to a stored contact it merges into, or None; what the report says).

    ``base`` is the stored contact as this import has it so far (an earlier entry
    may have added the duty already); its legal basis stays, only its rules grow.
    Nothing is added for a rule open-ended like consent, for a pair the contact
    already carries, or where the same rule already keeps it at least as long (a
    second invoice of the same year).
    """
    end = retention_end(rule, trigger)
    if trigger is None or end is None:
        return None, _("rule {rule} not added (no fixed period); the contact keeps its legal basis and rules").format(
            rule=rule.key
        )
    pairs = ((base.rule, base.trigger), *((d.rule, d.trigger) for d in base.duties))
    when = format_date(trigger)
    if (rule.key, trigger) in pairs:
        return None, _("rule {rule} from {day} already applies").format(rule=rule.key, day=when)
    same = [t for key, t in pairs if key == rule.key and t is not None]
    longer = [t for t in same if (retention_end(rule, t) or end) >= end]
    if longer:
        return None, _("rule {rule} from {day} adds nothing: it applies from {since} already").format(
            rule=rule.key, day=when, since=format_date(max(longer))
        )
    return Duty(rule.key, trigger), _("rule added: {rule} from {day}").format(rule=rule.key, day=when)
