"""Fixed contacts and configs for the answer letters (issue 11, points 2-6 and 8-13).

Built as :class:`Contact` objects with fixed ids and dates, not through a vault,
so the golden letters in tests/data/letters/ do not depend on random record ids
or on the clock.  The cases after an erasure request or a withdrawal are what the
core's policy makes of a record (tests/vault/test_letter.py checks that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from vault.config import Config, Processor, Wording
from vault.export import TEXT_FILE, build_export
from vault.model import Contact, Duty, LegalBasis, State
from vault.retention import RuleBook

TODAY = date(2026, 6, 15)
EXPORTED_AT = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
RULES = RuleBook()

HOST = Processor(
    "Beispiel Hosting GmbH",
    "storage of the encrypted backup",
    "DE",
    purpose_by_lang=(("de", "Speicherung der verschlüsselten Sicherung"), ("en", "storage of the encrypted backup")),
)
MAIL_US = Processor(
    "Example Mail Inc.",
    "",
    "US",
    transfer="adequacy",
    adequacy_decision="EU-US Data Privacy Framework",
    purpose_by_lang=(("de", "E-Mail-Postfach"), ("en", "e-mail mailbox")),
)
CALENDAR_US = Processor(
    "Example Calendar LLC",
    "",
    "US",
    transfer="scc",
    purpose_by_lang=(("de", "Terminplanung"), ("en", "scheduling appointments")),
)
TAX_ADVISER = Processor(
    "Steuerkanzlei Muster",
    "",
    "DE",
    role="controller",
    purpose_by_lang=(("de", "Buchhaltung und Steuererklärungen"), ("en", "bookkeeping and tax returns")),
)

CONFIG = Config(
    controller_name="Erika Beispiel – Übersetzungen",
    controller_address="Musterstraße 1\n10115 Berlin",
    controller_email="datenschutz@beispiel-uebersetzungen.example",
    supervisory_authority="Berliner Beauftragte für Datenschutz und Informationsfreiheit",
    other_systems=(
        Wording("", (("de", "Rechnungen und Buchhaltung"), ("en", "invoices and bookkeeping"))),
        Wording("", (("de", "E-Mail-Postfach"), ("en", "e-mail mailbox"))),
    ),
    signature="Erika Beispiel",
    processors=(HOST,),
)
THIRD_COUNTRY_CONFIG = replace(CONFIG, processors=(HOST, MAIL_US, CALENDAR_US, TAX_ADVISER))


def contact(number: int, **overrides: Any) -> Contact:
    """A contact with the fixed id ...000<number>; an invoice contact unless overridden."""
    fields: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "name": "Jürgen Müller",
        "basis": LegalBasis.CONTRACT,
        "rule": "invoices-8y",
        "trigger": date(2025, 3, 10),
        "retention_end": date(2033, 12, 31),
        "review_at": None,
        "emails": ("juergen.mueller@example.org",),
        "phones": ("+49301234567",),
        "org": "Müller & Söhne GmbH",
        "created": datetime(2025, 3, 10, 9, 30),
        "updated": datetime(2026, 2, 1, 16, 0),
    }
    fields.update(overrides)
    return Contact(**fields)


# Restricted after an erasure request: the invoice duty keeps it; source and purpose were never recorded.
RESTRICTED = (contact(1, state=State.RESTRICTED, notes="Asked for erasure on 2026-02-01."),)

# Kept on consent: until withdrawn; a review date is stored but belongs to the owner, not the letter.
CONSENT = (
    contact(
        2,
        basis=LegalBasis.CONSENT,
        rule="consent",
        trigger=date(2025, 11, 3),
        retention_end=None,
        review_at=date(2027, 11, 3),
        consent_given=date(2025, 11, 3),
        org="",
        phones=(),
        source="contact form on the website",
        purpose="newsletter about new translation services",
        created=datetime(2025, 11, 3, 8, 15),
        updated=datetime(2025, 11, 3, 8, 15),
    ),
)

# Two active records while recipients include processors in the USA and an independent controller.
THIRD_COUNTRY = (
    contact(3, source="business card, trade fair Frankfurt 2025", purpose="invoicing a translation order"),
    contact(
        4,
        name="J. Müller",
        rule="limitation-3y",
        trigger=date(2025, 9, 30),
        retention_end=date(2028, 12, 31),
        emails=("j.mueller@mueller-soehne.example",),
        phones=(),
        purpose="handling the translation contract",
        created=datetime(2025, 4, 2, 11, 0),
        updated=datetime(2025, 9, 30, 17, 45),
    ),
)

# Erasure asked for on 2026-04-20; only the limitation period keeps it, for legal claims
# (Art. 17(3)(e)), not a statutory duty.  Minimised as policy.DEFAULT_KEEP leaves it.
LIMITATION = (
    contact(
        9,
        rule="limitation-3y",
        trigger=date(2025, 9, 30),
        retention_end=date(2028, 12, 31),
        emails=(),
        phones=(),
        source="business card, trade fair Frankfurt 2025",
        purpose="handling the translation contract",
        state=State.RESTRICTED,
        erasure_requested=date(2026, 4, 20),
        created=datetime(2025, 4, 2, 11, 0),
        updated=datetime(2026, 4, 20, 10, 5),
    ),
)

# Erasure asked for on 2026-02-01 of an invoice contact that also carries the limitation
# period of its contract: restricted until the later end (the invoice duty), then erased.
ERASURE_PENDING = (
    contact(
        10,
        duties=(Duty("limitation-3y", date(2025, 9, 30)),),
        emails=(),
        phones=(),
        source="business card, trade fair Frankfurt 2025",
        purpose="invoicing a translation order",
        state=State.RESTRICTED,
        erasure_requested=date(2026, 2, 1),
        updated=datetime(2026, 2, 1, 16, 0),
    ),
)

# The newsletter consent of CONSENT, withdrawn on 2026-03-10 with no duty running: what is
# left is the minimal proof (rule consent-proof), kept 3 years from the end of that year.
WITHDRAWN = (
    contact(
        11,
        basis=LegalBasis.CONSENT,
        rule="consent-proof",
        trigger=date(2026, 3, 10),
        retention_end=date(2029, 12, 31),
        consent_given=date(2025, 11, 3),
        consent_withdrawn=date(2026, 3, 10),
        consent_method="web form",
        emails=(),
        phones=(),
        org="",
        source="contact form on the website",
        purpose="newsletter about new translation services",
        state=State.RESTRICTED,
        created=datetime(2025, 11, 3, 8, 15),
        updated=datetime(2026, 3, 10, 9, 0),
    ),
)

# name -> (contacts, config); "negative" has no records: the negative answer.
CASES: dict[str, tuple[Sequence[Contact], Config]] = {
    "restricted": (RESTRICTED, CONFIG),
    "consent": (CONSENT, CONFIG),
    "third-country": (THIRD_COUNTRY, THIRD_COUNTRY_CONFIG),
    "negative": ((), CONFIG),
    "limitation": (LIMITATION, CONFIG),
    "erasure-pending": (ERASURE_PENDING, CONFIG),
    "withdrawn": (WITHDRAWN, CONFIG),
}


def letter_text(contacts: Sequence[Contact], config: Config = CONFIG, lang: str = "en") -> str:
    """answer.txt of the access export (Art. 15) for these contacts."""
    files = build_export(contacts, config, RULES, exported_at=EXPORTED_AT, today=TODAY, lang=lang)
    return files[TEXT_FILE].decode("utf-8")
