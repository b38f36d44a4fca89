"""Domain objects: what a contact is, independent of storage and UI.

Everything here is a frozen dataclass or an enum.  Front ends build a
:class:`ContactDraft`, the :class:`~vault.service.Vault` validates it with
:func:`normalise_draft` and hands back :class:`Contact` objects.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from vault.errors import InvalidInput
from vault.i18n import N_, NC_, _, translate_to
from vault.phonefacts import phone_facts

# Size limits, documented in the README.  They keep a hostile import or a
# pasted novel from bloating the vault or the UI.
MAX_NAME = 1024
MAX_SHORT = 1024  # organisation, source, purpose, one e-mail, one phone
MAX_NOTES = 64 * 1024
MAX_ITEMS = 50  # e-mails or phones per contact
MAX_FILE_BYTES = 64 * 1024 * 1024  # a whole import file
MAX_ENTRIES = 100_000  # vCards or CSV rows per file
MAX_ENTRY_BYTES = 256 * 1024  # one vCard (photos excluded) or one CSV row
MAX_DUTIES = 20  # (rule, trigger) pairs besides the main rule

CONSENT_PROOF_RULE = "consent-proof"


class LegalBasis(enum.Enum):
    """The lawful basis of processing, GDPR Art. 6(1)(a)-(f)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal-obligation"
    VITAL_INTERESTS = "vital-interests"
    PUBLIC_TASK = "public-task"
    LEGITIMATE_INTERESTS = "legitimate-interests"

    @property
    def letter(self) -> str:
        return "abcdef"[list(LegalBasis).index(self)]

    @property
    def article(self) -> str:
        return f"Art. 6(1)({self.letter}) GDPR"

    def describe(self, lang: str = "en") -> str:
        """The basis in words with its Article, e.g. 'Contract (Art. 6(1)(b) GDPR)'.

        ``lang`` names the language of the answer letter (not of the process); the
        screens call :attr:`label` instead."""
        words = translate_to(lang, _BASIS_WORDS[self], context="letter")
        article = translate_to(lang, "Art. 6(1)({letter}) GDPR").format(letter=self.letter)
        return f"{words} ({article})"

    @property
    def label(self) -> str:
        """The basis in the process's language, short ("Consent" / "Einwilligung")."""
        return _(_BASIS_LABELS[self])

    @property
    def cited(self) -> str:
        """The Article as the process's language cites it ("Art. 6(1)(a) GDPR" /
        "Art. 6 Abs. 1 lit. a DSGVO")."""
        return _("Art. 6(1)({letter}) GDPR").format(letter=self.letter)

    def labelled(self) -> str:
        """Label and Article in the process's language, e.g. "Vertrag (Art. 6 Abs. 1 lit. b DSGVO)"."""
        return _("{label} ({article})").format(label=self.label, article=self.cited)


# The bases as the answer letter words them (in the letter's language: vault.i18n.translate_to).
_BASIS_WORDS: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: NC_("letter", "Consent"),
    LegalBasis.CONTRACT: NC_("letter", "Contract or pre-contractual steps"),
    LegalBasis.LEGAL_OBLIGATION: NC_("letter", "Legal obligation"),
    LegalBasis.VITAL_INTERESTS: NC_("letter", "Vital interests"),
    LegalBasis.PUBLIC_TASK: NC_("letter", "Public task"),
    LegalBasis.LEGITIMATE_INTERESTS: NC_("letter", "Legitimate interests"),
}

# The bases as the screens name them (vault.i18n: translated where shown, via LegalBasis.label).
_BASIS_LABELS: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: N_("Consent"),
    LegalBasis.CONTRACT: N_("Contract"),
    LegalBasis.LEGAL_OBLIGATION: N_("Legal obligation"),
    LegalBasis.VITAL_INTERESTS: N_("Vital interests"),
    LegalBasis.PUBLIC_TASK: N_("Public task"),
    LegalBasis.LEGITIMATE_INTERESTS: N_("Legitimate interests"),
}


class State(enum.Enum):
    """Processing state: active, or restricted (Art. 18 / Art. 17(3)(b): stored only)."""

    ACTIVE = "active"
    RESTRICTED = "restricted"

    @property
    def label(self) -> str:
        """The state in the process's language ("restricted" / "eingeschränkt")."""
        return _(_STATE_LABELS[self])


_STATE_LABELS = {State.ACTIVE: N_("active"), State.RESTRICTED: N_("restricted")}


@dataclass(frozen=True)
class RetentionRule:
    """A deletion rule in the DIN 66398 sense: start event + standard period.

    ``years``/``months`` count from the trigger date, or from the end of the
    trigger's calendar year when ``from_year_end`` is set (§257(5) HGB,
    §147(4) AO, §199(1) BGB).  ``until_withdrawn`` rules (consent) have no fixed
    end, only a review every ``review_months``.  ``obliges`` says whether the
    period is a statutory duty or legal-claims ground that keeps a record
    despite an erasure request (Art. 17(3)(b)/(e)); otherwise it is only a limit.
    """

    key: str
    label: str
    years: int = 0
    months: int = 0
    from_year_end: bool = False
    until_withdrawn: bool = False
    review_months: int | None = None
    obliges: bool = False
    reference: str = ""
    trigger_label: str = "trigger date"
    legal_claims: bool = False

    @property
    def erasure_ground(self) -> str:
        """Why the period keeps a record despite an erasure request: a statutory duty
        (Art. 17(3)(b)) or the establishment, exercise or defence of legal claims
        (Art. 17(3)(e)), which is a case-by-case necessity, not a duty."""
        return "Art. 17(3)(e) GDPR" if self.legal_claims else "Art. 17(3)(b) GDPR"


@dataclass(frozen=True, slots=True, order=True)
class Duty:
    """One more (rule, trigger) pair a record carries besides its main rule (issue 11.5):
    e.g. a consent contact who also received an invoice.  The record's end is the latest."""

    rule: str
    trigger: date


# Data-subject requests (vault.requests tracks them); here so front ends can name them
# without loading the store.


class RequestType(enum.Enum):
    """What the person asked for."""

    ACCESS = "access"  # Art. 15
    ERASURE = "erasure"  # Art. 17
    RECTIFICATION = "rectification"  # Art. 16
    OBJECTION = "objection"  # Art. 21
    PORTABILITY = "portability"  # Art. 20

    @property
    def article(self) -> str:
        return _ARTICLES[self]

    @property
    def label(self) -> str:
        """What the person asked for, in the process's language ("Erasure" / "Löschung")."""
        return _(_REQUEST_LABELS[self])

    @property
    def cited(self) -> str:
        """The Article in the process's language ("Art. 17 GDPR" / "Art. 17 DSGVO")."""
        return _("Art. {number} GDPR").format(number=_ARTICLES[self].split()[1])


_REQUEST_LABELS = {
    RequestType.ACCESS: N_("Access"),
    RequestType.ERASURE: N_("Erasure"),
    RequestType.RECTIFICATION: N_("Rectification"),
    RequestType.OBJECTION: N_("Objection"),
    RequestType.PORTABILITY: N_("Data portability"),
}

_ARTICLES = {
    RequestType.ACCESS: "Art. 15 GDPR",
    RequestType.ERASURE: "Art. 17 GDPR",
    RequestType.RECTIFICATION: "Art. 16 GDPR",
    RequestType.OBJECTION: "Art. 21 GDPR",
    RequestType.PORTABILITY: "Art. 20 GDPR",
}


class RequestStatus(enum.Enum):
    OPEN = "open"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The status in the process's language ("overdue" / "überfällig")."""
        return _(_STATUS_LABELS[self])


_STATUS_LABELS = {
    RequestStatus.OPEN: N_("open"),
    RequestStatus.DUE_SOON: N_("due soon"),
    RequestStatus.OVERDUE: N_("overdue"),
    RequestStatus.CLOSED: N_("closed"),
}


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """What the owner (or an import) proposes to store.  Validated by the Vault."""

    name: str
    basis: LegalBasis
    rule: str
    trigger: date | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    org: str = ""
    notes: str = ""
    source: str = ""
    purpose: str = ""
    consent_given: date | None = None
    consent_withdrawn: date | None = None
    uid: str = ""
    consent_method: str = ""  # how consent was given (form, e-mail, in person, ...): Art. 7(1)
    duties: tuple[Duty, ...] = ()


@dataclass(frozen=True, slots=True)
class Contact:
    """A stored contact, decrypted.  Dates are local calendar dates."""

    id: str
    name: str
    basis: LegalBasis
    rule: str
    trigger: date | None
    retention_end: date | None
    review_at: date | None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    org: str = ""
    notes: str = ""
    source: str = ""
    purpose: str = ""
    consent_given: date | None = None
    consent_withdrawn: date | None = None
    uid: str = ""
    state: State = State.ACTIVE
    hold: bool = False
    meta_version: int = 1
    created: datetime = field(default=datetime(1970, 1, 1))
    updated: datetime = field(default=datetime(1970, 1, 1))
    consent_method: str = ""
    duties: tuple[Duty, ...] = ()
    erasure_requested: date | None = None  # Art. 17(1): asked for (or consent withdrawn), kept only by a duty or hold
    objected: date | None = None  # Art. 21: the person objected on this day
    hold_reason: str = ""  # why a legal hold applies ("tax audit 2025")
    restriction_requested: date | None = None  # Art. 18(1): the person asked for the restriction on this day
    reviewed: date | None = None  # the owner last confirmed a consent record is still needed
    history: bytes = field(default=b"", compare=False, repr=False)  # vault.causal: signed, not sealed

    @property
    def is_restricted(self) -> bool:
        return self.state is State.RESTRICTED

    @property
    def is_consent_proof(self) -> bool:
        """A withdrawn consent's minimal proof: no contact data left, only the dates."""
        return self.rule == CONSENT_PROOF_RULE

    def pairs(self) -> tuple[tuple[str, date | None], ...]:
        """Every (rule, trigger) the record carries, its main rule first."""
        return ((self.rule, self.trigger), *((d.rule, d.trigger) for d in self.duties))

    def to_draft(self) -> ContactDraft:
        """The editable part of this contact, e.g. to prefill an edit form."""
        return ContactDraft(
            name=self.name,
            basis=self.basis,
            rule=self.rule,
            trigger=self.trigger,
            emails=self.emails,
            phones=self.phones,
            org=self.org,
            notes=self.notes,
            source=self.source,
            purpose=self.purpose,
            consent_given=self.consent_given,
            consent_withdrawn=self.consent_withdrawn,
            uid=self.uid,
            consent_method=self.consent_method,
            duties=self.duties,
        )


class EraseOutcome(enum.Enum):
    DELETED = "deleted"
    RESTRICTED = "restricted"


@dataclass(frozen=True)
class EraseResult:
    """What an erasure did, and why (shown to the owner before and after)."""

    outcome: EraseOutcome
    record_id: str
    reason: str
    purge_from: date | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One row of the accountability log (Art. 5(2)): ids and dates only."""

    at: datetime
    action: str
    record_id: str | None
    device: str
    detail: str = ""


# Unicode's control characters (general category Cc) are exactly U+0000-U+001F and
# U+007F-U+009F (a test holds this to unicodedata); one regex search is ten times faster
# than asking unicodedata about every character (issue 15: ten fields per imported entry).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab and line feed allowed


def clean_text(value: str, field_name: str, limit: int, *, multiline: bool = False) -> str:
    """NFC-normalise, strip, and refuse control characters and oversize values."""
    if not isinstance(value, str):
        raise InvalidInput(field_name, _("must be text"))
    value = unicodedata.normalize("NFC", value).strip()
    if len(value.encode("utf-8")) > limit:
        raise InvalidInput(field_name, _("is longer than {limit} bytes").format(limit=limit))
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value):
        raise InvalidInput(field_name, _("contains control characters"))
    return value


# email_validator and phonenumbers are imported where they are used: commands that
# never parse an address or a phone (`--help`, the purge) do not load them (issue 15).


def normalise_email(value: str) -> str:
    """Validate syntax (email-validator, no DNS) and return the normalised address."""
    import email_validator

    value = clean_text(value, "e-mail", MAX_SHORT)
    try:
        result = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise InvalidInput("e-mail", _("not a valid address ({why})").format(why=exc)) from None
    return str(result.normalized)


def normalise_phone(value: str, region: str = "DE") -> str:
    """Parse a phone number with ``region`` as default and return it in E.164."""
    value = clean_text(value, "phone", MAX_SHORT)
    facts = phone_facts(value, region)
    if facts is None:
        raise InvalidInput("phone", _("not a phone number"))
    e164, valid, extension, _reason = facts
    if not valid:
        raise InvalidInput("phone", _("not a valid phone number for its country"))
    if extension:
        # E.164 has no extension; refusing beats silently dropping it.
        raise InvalidInput("phone", _("extensions cannot be stored; put the extension in the notes"))
    return e164


def _not_possible(reason: int) -> str:
    """Why libphonenumber calls a number impossible, in words."""
    import phonenumbers

    result = phonenumbers.ValidationResult
    return {
        result.TOO_SHORT: _("too short"),
        result.IS_POSSIBLE_LOCAL_ONLY: _("too short, or the area code is missing"),
        result.TOO_LONG: _("too long"),
        result.INVALID_LENGTH: _("no number of its country has this length"),
        result.INVALID_COUNTRY_CODE: _("unknown country code"),
    }.get(reason, _("impossible length"))


def check_phone(value: str, region: str = "DE") -> tuple[str, bool]:
    """(E.164, valid) for a phone number, ``region`` being the default country.

    Unlike :func:`normalise_phone` (which every draft goes through and which stays
    strict), a number libphonenumber calls *possible* but not *valid* for its
    country (a mistyped digit, say) is returned with ``valid`` False: an import
    keeps it with a warning.  Raises :class:`InvalidInput` for what cannot be a
    phone number at all: no digits to read, a length no number of its country
    has, an unknown country code, or an extension (E.164 has none).  For a stored
    E.164 number ``check_phone(number)[1]`` says whether it deserves a warning mark.
    """
    value = clean_text(value, "phone", MAX_SHORT)
    facts = phone_facts(value, region)
    if facts is None:
        raise InvalidInput("phone", _("not a phone number"))
    e164, valid, extension, reason = facts
    if extension:
        raise InvalidInput("phone", _("extensions cannot be stored; put the extension in the notes"))
    if valid:
        return e164, True
    import phonenumbers

    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidInput("phone", _("not a phone number ({why})").format(why=_not_possible(reason)))
    return e164, False


def format_phone(e164: str) -> str:
    """E.164 -> international format for display, e.g. '+49 30 1234567'."""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def national_digits(e164: str) -> str:
    """Digits of the national format ('030 1234567' -> '0301234567'), for search."""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


def _dedupe(items: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return tuple(seen.values())


def normalise_draft(draft: ContactDraft, region: str = "DE") -> ContactDraft:
    """Validate every field; return a draft with e-mails and phones normalised.

    Raises :class:`InvalidInput` naming the first bad field.
    """
    name = clean_text(draft.name, "name", MAX_NAME)
    if not name:
        raise InvalidInput("name", _("must not be empty"))
    if not isinstance(draft.basis, LegalBasis):
        raise InvalidInput("basis", _("must be one of the Art. 6(1) bases"))
    if len(draft.emails) > MAX_ITEMS or len(draft.phones) > MAX_ITEMS:
        raise InvalidInput("contact", _("at most {count} e-mails and {count} phones").format(count=MAX_ITEMS))
    emails = _dedupe([normalise_email(e) for e in draft.emails if e.strip()])
    phones = _dedupe([normalise_phone(p, region) for p in draft.phones if p.strip()])
    if draft.consent_withdrawn and not draft.consent_given:
        raise InvalidInput("consent", _("withdrawn without having been given"))
    if draft.consent_given and draft.consent_withdrawn and draft.consent_withdrawn < draft.consent_given:
        raise InvalidInput("consent", _("withdrawn before it was given"))
    return replace(
        draft,
        name=name,
        emails=emails,
        phones=phones,
        org=clean_text(draft.org, "organisation", MAX_SHORT),
        notes=clean_text(draft.notes, "notes", MAX_NOTES, multiline=True),
        source=clean_text(draft.source, "source", MAX_SHORT),
        purpose=clean_text(draft.purpose, "purpose", MAX_SHORT),
        uid=clean_text(draft.uid, "uid", MAX_SHORT),
        consent_method=clean_text(draft.consent_method, "consent method", MAX_SHORT),
        duties=_clean_duties(draft.duties),
    )


def _clean_duties(duties: tuple[Duty, ...]) -> tuple[Duty, ...]:
    if len(duties) > MAX_DUTIES:
        raise InvalidInput("duties", _("at most {count} further rules per contact").format(count=MAX_DUTIES))
    for duty in duties:
        if not isinstance(duty, Duty) or not isinstance(duty.trigger, date):
            raise InvalidInput("duties", _("each further rule needs a rule and a date"))
    return tuple(sorted(set(duties)))
