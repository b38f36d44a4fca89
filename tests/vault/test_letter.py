"""The answer letter (Art. 15) and the portability export (Art. 20): issue 11, points 8-13.

Every test builds its letter from fixed contacts (tests/vault/letter_cases.py) on
the fixed date 2026-06-15, in English and German where text is involved.

The golden letters live in tests/data/letters/<case>/<lang>/answer.txt and are
compared byte for byte.  After a deliberate change of wording, regenerate them with

    SEALBOOK_UPDATE_GOLDENS=1 .venv/bin/python -m pytest -q tests/vault/test_letter.py

then read the diff as the person receiving the letter would, and commit it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import vobject

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from tests.vault.letter_cases import (
    CALENDAR_US,
    CASES,
    CONFIG,
    CONSENT,
    ERASURE_PENDING,
    EXPORTED_AT,
    HOST,
    LIMITATION,
    MAIL_US,
    RESTRICTED,
    RULES,
    TAX_ADVISER,
    THIRD_COUNTRY,
    THIRD_COUNTRY_CONFIG,
    TODAY,
    WITHDRAWN,
    contact,
    letter_text,
)
from vault import policy
from vault.config import Config, Processor, Wording, parse_config
from vault.errors import ConfigError
from vault.export import (
    EXPORT_FILES,
    NEGATIVE_FILES,
    PORTABILITY_FILE,
    PORTABILITY_FILES,
    build_export,
    build_portability,
    effective_basis,
)
from vault.export.catalogue import LANGUAGES, messages
from vault.model import Contact, Duty, LegalBasis, State
from vault.retention import RuleBook, rule_from_mapping
from vault.service import Vault

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "data" / "letters"
UPDATE_GOLDENS = os.environ.get("SEALBOOK_UPDATE_GOLDENS") == "1"


# --- golden letters ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_letter_matches_its_reviewed_golden_file(case: str, lang: str) -> None:
    contacts, config = CASES[case]
    text = letter_text(contacts, config, lang)
    golden = GOLDEN_DIR / case / lang / "answer.txt"
    if UPDATE_GOLDENS:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(text.encode("utf-8"))
    assert golden.read_bytes() == text.encode("utf-8"), f"{golden} differs; see the module docstring"


def test_every_catalogue_has_the_same_message_ids() -> None:
    ids = {lang: set(messages(lang)) for lang in LANGUAGES}
    assert ids["de"] == ids["en"]


# --- point 8: nothing invented; the basis during restriction is the duty ---------------------


@pytest.mark.parametrize(
    ("lang", "empty", "invented"),
    [
        ("en", "not recorded", ("collected from you", "our business relationship")),
        ("de", "keine Angabe", ("bei Ihnen selbst erhoben", "Geschäftsbeziehung")),
    ],
)
def test_empty_source_and_purpose_are_stated_as_not_recorded(lang: str, empty: str, invented: tuple[str, ...]) -> None:
    text = letter_text((contact(1, source="", purpose=""),), lang=lang)
    source, purpose = ("Source", "Purpose") if lang == "en" else ("Herkunft", "Zweck")
    assert f"    {source}: {empty}\n" in text and f"    {purpose}: {empty}\n" in text
    assert f"{source.lower() if lang == 'en' else source}: {empty}." in text  # Art. 15(1)(g)
    assert f"{purpose.lower() if lang == 'en' else purpose}: {empty};" in text  # Art. 15(1)(a)
    for phrase in invented:
        assert phrase not in text


@pytest.mark.parametrize(
    ("lang", "duty", "old"),
    [
        (
            "en",
            "Legal obligation (Art. 6(1)(c) GDPR in conjunction with §147(1) Nr. 4, (3) and (4) AO; §14b(1) UStG)",
            "Contract or pre-contractual steps",
        ),
        (
            "de",
            "Rechtliche Verpflichtung (Art. 6 Abs. 1 lit. c DSGVO in Verbindung mit § 147 Abs. 1 Nr. 4, Abs. 3 und 4 "
            "AO; § 14b Abs. 1 UStG)",
            "Vertrag oder vorvertragliche Maßnahmen",
        ),
    ],
)
def test_a_restricted_invoice_record_states_the_duty_not_the_old_contract(lang: str, duty: str, old: str) -> None:
    text = letter_text(RESTRICTED, lang=lang)
    basis = "Legal basis" if lang == "en" else "Rechtsgrundlage"
    assert f"    {basis}: {duty}\n" in text
    assert old not in text
    active = letter_text((replace(RESTRICTED[0], state=State.ACTIVE),), lang=lang)
    assert f"    {basis}: {old}" in active


@pytest.mark.parametrize(
    ("lang", "claims"),
    [("en", "Legitimate interests (Art. 6(1)(f) GDPR)"), ("de", "Berechtigte Interessen (Art. 6 Abs. 1 lit. f DSGVO)")],
)
def test_a_restricted_record_kept_for_legal_claims_states_art_6_1_f(lang: str, claims: str) -> None:
    kept = contact(1, rule="limitation-3y", trigger=date(2025, 9, 30), retention_end=date(2028, 12, 31),
                   state=State.RESTRICTED)  # fmt: skip
    assert effective_basis(kept, RULES.get("limitation-3y")) is LegalBasis.LEGITIMATE_INTERESTS
    assert claims in letter_text((kept,), lang=lang)


def test_a_restricted_record_without_a_duty_keeps_its_basis() -> None:
    inquiry = contact(1, rule="inquiry-6m", trigger=date(2026, 1, 15), retention_end=date(2026, 7, 15),
                      state=State.RESTRICTED)  # fmt: skip
    assert effective_basis(inquiry, RULES.get("inquiry-6m")) is LegalBasis.CONTRACT


# --- point 9: storage period --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "fields", "sentence"),
    [
        (
            "en",
            ("    Invoice date: 2025-03-10\n", "    Period starts: 2025-12-31\n", "    Retention ends: 2033-12-31\n"),
            "Starting point: invoice date 2025-03-10; the period starts at the end of that calendar year "
            "(2025-12-31) and ends on 2033-12-31. The record is deleted automatically from 2034-01-01.",
        ),
        (
            "de",
            (
                "    Rechnungsdatum: 10.03.2025\n",
                "    Beginn der Frist: 31.12.2025\n",
                "    Aufbewahrung endet: 31.12.2033\n",
            ),
            "Ausgangspunkt: Rechnungsdatum 10.03.2025; die Frist beginnt mit dem Ende dieses Kalenderjahres "
            "(31.12.2025) und endet am 31.12.2033. Ab dem 01.01.2034 wird der Datensatz automatisch gelöscht.",
        ),
    ],
)
def test_the_trigger_is_named_and_the_period_starts_at_year_end(
    lang: str, fields: tuple[str, ...], sentence: str
) -> None:
    text = letter_text((contact(1),), lang=lang)
    for row in fields:
        assert row in text
    assert sentence in text
    assert "Start of the retention period" not in text and "Beginn der Aufbewahrungsfrist" not in text


@pytest.mark.parametrize(
    ("lang", "sentence", "year_end"),
    [
        ("en", "Starting point: date of the last contact 2026-01-15; the period ends on 2026-07-15.", "Period starts"),
        (
            "de",
            "Ausgangspunkt: Datum des letzten Kontakts 15.01.2026; die Frist endet am 15.07.2026.",
            "Beginn der Frist",
        ),
    ],
)
def test_a_period_that_does_not_start_at_year_end_says_so(lang: str, sentence: str, year_end: str) -> None:
    inquiry = contact(1, rule="inquiry-6m", trigger=date(2026, 1, 15), retention_end=date(2026, 7, 15))
    text = letter_text((inquiry,), lang=lang)
    assert sentence in text
    assert year_end not in text


@pytest.mark.parametrize(
    ("lang", "until", "review_words"),
    [
        ("en", "kept until you withdraw your consent (Art. 7(3) GDPR)", ("review", "2027-11-03")),
        ("de", "gespeichert, bis Sie Ihre Einwilligung widerrufen (Art. 7 Abs. 3 DSGVO)", ("Überprüf", "03.11.2027")),
    ],
)
def test_consent_records_say_until_withdrawn_and_show_no_review_date(
    lang: str, until: str, review_words: tuple[str, ...]
) -> None:
    assert CONSENT[0].review_at == date(2027, 11, 3)
    text = letter_text(CONSENT, lang=lang)
    assert until in text
    for word in review_words:
        assert word not in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hgb_is_cited_only_for_a_merchant(lang: str) -> None:
    freelancer = letter_text(RESTRICTED, CONFIG, lang)
    merchant = letter_text(RESTRICTED, replace(CONFIG, merchant=True), lang)
    assert "HGB" not in freelancer and "AO" in freelancer and "UStG" in freelancer
    assert "HGB" in merchant and "257" in merchant


def test_the_merchant_key_defaults_to_false_and_must_be_a_boolean() -> None:
    assert parse_config({}).merchant is False
    assert parse_config({"controller": {"merchant": True}}).merchant is True
    with pytest.raises(ConfigError, match="merchant"):
        parse_config({"controller": {"merchant": "yes"}})


def test_an_owner_rule_is_labelled_with_its_own_trigger() -> None:
    table = {"label": "Tax adviser file", "years": 7, "from_year_end": True, "obliges": True}
    rules = RuleBook([rule_from_mapping("adviser-7y", {**table, "trigger_label": "date of the engagement letter"})])
    record = contact(1, rule="adviser-7y", trigger=date(2024, 5, 2), retention_end=date(2031, 12, 31))
    files = build_export([record], CONFIG, rules, exported_at=EXPORTED_AT, today=TODAY, lang="en")
    text = files["answer.txt"].decode("utf-8")
    assert "    Date of the engagement letter: 2024-05-02\n" in text
    assert 'rule "Tax adviser file". Starting point: date of the engagement letter 2024-05-02;' in text
    assert "owner-defined" not in text


# --- point 10: what the letter covers; the negative answer -------------------------------------


@pytest.mark.parametrize(
    ("lang", "covers", "systems"),
    [
        ("en", "This answer covers the data in our address book.", ("- invoices and bookkeeping", "- e-mail mailbox")),
        ("de", "Diese Auskunft bezieht sich auf die Daten in unserem Adressbuch.",
         ("- Rechnungen und Buchhaltung", "- E-Mail-Postfach")),
    ],
)  # fmt: skip
def test_the_letter_covers_the_address_book_and_lists_the_other_systems(
    lang: str, covers: str, systems: tuple[str, ...]
) -> None:
    for contacts in (RESTRICTED, ()):
        text = letter_text(contacts, CONFIG, lang)
        assert covers in text
        for line in systems:
            assert line in text
    bare = letter_text(RESTRICTED, replace(CONFIG, other_systems=()), lang)
    assert covers in bare and systems[0] not in bare


@pytest.mark.parametrize(
    ("lang", "negative"),
    [
        ("en", "we hold no personal data about you there (Art. 15(1) GDPR)"),
        ("de", "Dort sind keine personenbezogenen Daten zu Ihnen gespeichert (Art. 15 Abs. 1 DSGVO)"),
    ],
)
def test_no_record_gives_the_negative_answer_and_no_data_files(lang: str, negative: str) -> None:
    files = build_export([], CONFIG, RULES, exported_at=EXPORTED_AT, today=TODAY, lang=lang)
    assert sorted(files) == sorted(NEGATIVE_FILES)
    text = files["answer.txt"].decode("utf-8")
    assert negative in text
    assert "Art. 77" in text  # the right to complain still applies
    assert "Record 1" not in text and "Datensatz 1" not in text
    assert negative.split(" (")[0] in files["answer.html"].decode("utf-8")


def test_other_systems_come_from_the_config_as_text_or_by_language() -> None:
    config = parse_config({"controller": {"other_systems": ["Mailbox", {"de": "Rechnungen", "en": "invoices"}]}})
    assert [w.in_lang("de") for w in config.other_systems] == ["Mailbox", "Rechnungen"]
    assert [w.in_lang("en") for w in config.other_systems] == ["Mailbox", "invoices"]
    with pytest.raises(ConfigError, match="other_systems"):
        parse_config({"controller": {"other_systems": "Mailbox"}})


# --- point 11: recipients; the right to object --------------------------------------------------


def _processor(**item: Any) -> Processor:
    return parse_config({"processors": [{"name": "X", **item}]}).processors[0]


def test_a_processor_has_a_role_a_country_and_outside_the_eea_a_transfer_basis() -> None:
    host = _processor(country="de")
    assert (host.role, host.country, host.is_third_country) == ("processor", "DE", False)
    assert _processor(country="DE", role="controller").role == "controller"
    assert _processor(country="EL").is_third_country is False  # the EU's code for Greece
    assert _processor(country="GR").is_third_country is False
    us = _processor(country="US", transfer="adequacy", adequacy_decision="EU-US Data Privacy Framework")
    assert (us.is_third_country, us.transfer, us.adequacy_decision) == (
        True,
        "adequacy",
        "EU-US Data Privacy Framework",
    )
    assert _processor(country="IN", transfer="scc").transfer == "scc"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({}, "country"),
        ({"country": "Germany"}, "country"),
        ({"country": "DE", "role": "subcontractor"}, "role"),
        ({"country": "US"}, "transfer"),
        ({"country": "US", "transfer": "trust me"}, "transfer"),
        ({"country": "US", "transfer": "adequacy"}, "adequacy_decision"),
    ],
)
def test_an_incomplete_recipient_is_refused(item: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _processor(**item)


@pytest.mark.parametrize(
    ("lang", "lines"),
    [
        (
            "en",
            (
                "- Example Mail Inc.: processor acting on our behalf and on our instructions (Art. 28 GDPR); purpose: "
                "e-mail mailbox; established in: United States; third country outside the EU/EEA: the transfer is "
                "based on an adequacy decision of the European Commission (Art. 45 GDPR): EU-US Data Privacy "
                "Framework\n",
                "established in: United States; third country outside the EU/EEA: the transfer is based on standard "
                "contractual clauses adopted by the European Commission (Art. 46(2)(c) GDPR)",
                "- Steuerkanzlei Muster: independent controller (Art. 4(7) GDPR); purpose: bookkeeping and tax "
                "returns; established in: Germany\n",
            ),
        ),
        (
            "de",
            (
                "- Example Mail Inc.: Auftragsverarbeiter, der in unserem Auftrag und nach unserer Weisung handelt "
                "(Art. 28 DSGVO); Zweck: E-Mail-Postfach; Sitz: USA; Drittland außerhalb der EU/des EWR: Die "
                "Übermittlung beruht auf einem Angemessenheitsbeschluss der EU-Kommission (Art. 45 DSGVO): EU-US "
                "Data Privacy Framework\n",
                "Sitz: USA; Drittland außerhalb der EU/des EWR: Die Übermittlung beruht auf Standardvertragsklauseln "
                "der EU-Kommission (Art. 46 Abs. 2 lit. c DSGVO)",
                "- Steuerkanzlei Muster: eigenständig Verantwortlicher (Art. 4 Nr. 7 DSGVO); Zweck: Buchhaltung und "
                "Steuererklärungen; Sitz: Deutschland\n",
            ),
        ),
    ],
)
def test_the_letter_states_role_country_and_transfer_basis_of_each_recipient(lang: str, lines: tuple[str, ...]) -> None:
    text = letter_text(THIRD_COUNTRY, THIRD_COUNTRY_CONFIG, lang)
    for line in lines:
        assert line in text
    assert "Art. 15(2)" in text or "Art. 15 Abs. 2" in text
    assert MAIL_US.name in text and CALENDAR_US.name in text and TAX_ADVISER.name in text


@pytest.mark.parametrize(
    ("lang", "condition", "none"),
    [
        ("en", "on grounds relating to your particular situation, to processing based on Art. 6(1)(e) or (f) GDPR "
               "(Art. 21(1) GDPR)", "none of your data are processed on the basis of Art. 6(1)(e) or (f)"),
        ("de", "aus Gründen, die sich aus Ihrer besonderen Situation ergeben, jederzeit Widerspruch gegen eine "
               "Verarbeitung einzulegen, die auf Art. 6 Abs. 1 lit. e oder f DSGVO beruht (Art. 21 Abs. 1 DSGVO)",
         "eine Verarbeitung auf Grundlage von Art. 6 Abs. 1 lit. e oder f DSGVO findet derzeit nicht statt"),
    ],
)  # fmt: skip
def test_the_right_to_object_is_stated_with_its_condition(lang: str, condition: str, none: str) -> None:
    contract = letter_text((contact(1),), lang=lang)
    assert condition in contract and none in contract
    interests = letter_text((contact(1, basis=LegalBasis.LEGITIMATE_INTERESTS),), lang=lang)
    assert condition in interests and none not in interests


# --- point 12: German a freelancer can send as is ------------------------------------------------


def test_the_german_letter_uses_the_wording_of_the_trade() -> None:
    restricted = letter_text((replace(RESTRICTED[0], hold=True),), lang="de")
    assert restricted.count("Ihr Auskunftsersuchen") >= 2  # title and first sentence
    assert "    Löschsperre: ja\n" in restricted and "Für Datensatz 1 besteht derzeit eine Löschsperre" in restricted
    assert "Aufbewahrungssperre" not in restricted
    assert "ausschließlich manuell bearbeitet" in restricted
    assert "Mitgliedstaat Ihres gewöhnlichen Aufenthaltsorts" in restricted
    assert "Anfrage auf Auskunft" not in restricted


@pytest.mark.parametrize(
    ("lang", "one", "two", "slash"),
    [
        ("en", "We found one record about you", "We found 2 records about you", "record(s)"),
        ("de", "einen Datensatz zu Ihnen gefunden", "2 Datensätze zu Ihnen gefunden", "Datensatz/Datensätze"),
    ],
)
def test_singular_and_plural_are_correct(lang: str, one: str, two: str, slash: str) -> None:
    single = letter_text(RESTRICTED, lang=lang)
    double = letter_text(THIRD_COUNTRY, THIRD_COUNTRY_CONFIG, lang)
    assert one in single and two in double
    assert slash not in single and slash not in double


def test_company_names_need_no_grammatical_gender() -> None:
    text = letter_text(THIRD_COUNTRY, THIRD_COUNTRY_CONFIG, "de")
    for gendered in ("seinen Sitz", "ihren Sitz", "hat seinen", "hat ihren"):
        assert gendered not in text
    assert f"{MAIL_US.name}: Auftragsverarbeiter" in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_salutation_and_signature_come_from_the_config(lang: str) -> None:
    config = replace(CONFIG, salutation=Wording("", (("de", "Sehr geehrter Herr Müller,"), ("en", "Dear Mr Müller,"))))
    text = letter_text(RESTRICTED, config, lang)
    salutation = "Dear Mr Müller," if lang == "en" else "Sehr geehrter Herr Müller,"
    regards = "Kind regards" if lang == "en" else "Mit freundlichen Grüßen"
    assert f"\n{salutation}\n\n" in text
    assert text.endswith(f"\n{regards}\nErika Beispiel\n")
    default = letter_text(RESTRICTED, replace(CONFIG, signature=""), lang)
    assert default.endswith(f"\n{regards}\n{CONFIG.controller_name}\n")
    assert ("Dear Sir or Madam," if lang == "en" else "Sehr geehrte Damen und Herren,") in default


def test_the_config_carries_salutation_signature_and_purposes_in_both_languages() -> None:
    config = parse_config(
        {
            "controller": {"salutation": {"de": "Guten Tag,", "en": "Hello,"}, "signature": "Erika Beispiel"},
            "processors": [{"name": "Host", "country": "DE", "purpose": {"de": "Webspace", "en": "web space"}}],
        }
    )
    assert (config.salutation.in_lang("de"), config.salutation.in_lang("en"), config.signature) == (
        "Guten Tag,", "Hello,", "Erika Beispiel",
    )  # fmt: skip
    assert (config.processors[0].purpose_in("de"), config.processors[0].purpose_in("en")) == ("Webspace", "web space")


@pytest.mark.parametrize(
    ("lang", "purpose"),
    [("en", "storage of the encrypted backup"), ("de", "Speicherung der verschlüsselten Sicherung")],
)
def test_processor_purposes_are_written_in_the_letters_language(lang: str, purpose: str) -> None:
    assert HOST.purpose_in(lang) == purpose
    assert f"{purpose}; " in letter_text(RESTRICTED, CONFIG, lang)


# --- point 13: portability is its own export -----------------------------------------------------

PORTABLE = contact(5, notes="Mentioned his colleague Anna Schmidt, anna@example.com.", source="referral by Anna",
                   purpose="translation order", uid="phone-book-17")  # fmt: skip
CONSENTED = replace(CONSENT[0], id="00000000-0000-4000-8000-000000000006")
DUTY_ONLY = replace(RESTRICTED[0], id="00000000-0000-4000-8000-000000000007")  # restricted: kept for the duty
INTERESTS = contact(8, basis=LegalBasis.LEGITIMATE_INTERESTS, rule="inquiry-6m", trigger=date(2026, 1, 15),
                    retention_end=date(2026, 7, 15))  # fmt: skip


def _portability(lang: str = "en") -> dict[str, bytes]:
    return build_portability([PORTABLE, CONSENTED, DUTY_ONLY, INTERESTS], CONFIG, RULES, exported_at=EXPORTED_AT,
                             today=TODAY, lang=lang)  # fmt: skip


def test_portability_holds_only_what_the_person_provided_on_consent_or_contract() -> None:
    files = _portability()
    assert sorted(files) == sorted(PORTABILITY_FILES)
    document = json.loads(files[PORTABILITY_FILE])
    assert document["format"] == "sealbook-portability" and "Art. 20" in document["title"]
    assert [r["name"] for r in document["records"]] == ["Jürgen Müller", "Jürgen Müller"]
    assert {tuple(r) for r in document["records"]} == {("name", "emails", "phones", "organisation")}
    raw = files[PORTABILITY_FILE].decode("utf-8") + files["contacts.vcf"].decode("utf-8")
    for private in ("Anna", "referral", "translation order", "phone-book-17", PORTABLE.id, DUTY_ONLY.id, "X-SEALBOOK"):
        assert private not in raw, private
    cards = list(vobject.readComponents(files["contacts.vcf"].decode("utf-8")))
    assert len(cards) == 2 and all("note" not in card.contents for card in cards)


@pytest.mark.parametrize(
    ("lang", "title", "found"),
    [
        ("en", "Your data for transfer under Art. 20 GDPR (data portability)", "the data from 2 records"),
        ("de", "Ihre Daten zur Übertragung nach Art. 20 DSGVO (Datenübertragbarkeit)", "die Daten aus 2 Datensätzen"),
    ],
)
def test_the_portability_letter_is_titled_as_art_20(lang: str, title: str, found: str) -> None:
    text = _portability(lang)["answer.txt"].decode("utf-8")
    assert title in text and found in text
    assert "Art. 20(4)" in text or "Art. 20 Abs. 4" in text
    assert "Art. 15(1)(a)" not in text and "Art. 15 Abs. 1 lit. a" not in text


@pytest.mark.parametrize(("lang", "none"), [("en", "None of the data"), ("de", "keine der Daten")])
def test_portability_without_a_portable_record_says_so(lang: str, none: str) -> None:
    files = build_portability([DUTY_ONLY, INTERESTS], CONFIG, RULES, exported_at=EXPORTED_AT, today=TODAY, lang=lang)
    assert json.loads(files[PORTABILITY_FILE])["records"] == []
    assert none in files["answer.txt"].decode("utf-8")


def test_the_access_export_stays_complete() -> None:
    files = build_export([PORTABLE, DUTY_ONLY], CONFIG, RULES, exported_at=EXPORTED_AT, today=TODAY, lang="en")
    assert sorted(files) == sorted(EXPORT_FILES)
    document = json.loads(files["data.json"])
    assert {r["id"] for r in document["records"]} == {PORTABLE.id, DUTY_ONLY.id}
    assert any(r["notes"] == PORTABLE.notes for r in document["records"])
    assert "X-SEALBOOK-SOURCE:referral by Anna" in files["contacts.vcf"].decode("utf-8")
    assert "Anna Schmidt" in files["answer.txt"].decode("utf-8")


@pytest.fixture
def portability_vault(vault_path: Path, clock: FixedClock) -> Iterator[Vault]:
    v = Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock, config=CONFIG)
    yield v
    v.close()


def test_the_vault_writes_and_logs_the_portability_export(portability_vault: Vault, tmp_path: Path) -> None:
    kept = portability_vault.add(draft())
    restricted = portability_vault.restrict(portability_vault.add(draft(name="J. Müller")).id)
    result = portability_vault.export_person([kept.id, restricted.id], tmp_path / "art20", "de", portability=True)
    assert sorted(result.files) == sorted(PORTABILITY_FILES)
    assert result.record_ids == (kept.id,)
    rows = portability_vault.audit_log(action="exported")
    assert [(r.record_id, r.detail) for r in rows] == [(kept.id, "art. 20")]


def test_a_config_processor_built_in_code_needs_no_transfer_inside_the_eea() -> None:
    # Processors built in code (tests, front ends) skip parse_config; the letter still says what is missing.
    config = replace(CONFIG, processors=(Processor("Somewhere Ltd", "", "US"),))
    text = letter_text(RESTRICTED, config, "en")
    assert "basis of the transfer: not recorded" in text and "purpose: not recorded" in text
    assert isinstance(config, Config)


# --- issue 11 points 2-6: several duties, legal claims, erasure, withdrawal, objection ----------
# Every record below is what the core's policy makes of it (vault.policy), on the fixed dates.

LIMITATION_DUTY = Duty("limitation-3y", date(2025, 9, 30))


def _consent(**overrides: Any) -> Contact:
    """The consent record of the golden case "consent", with the way consent was given recorded."""
    return replace(CONSENT[0], **{"consent_method": "web form", **overrides})


def test_the_golden_cases_are_what_the_core_makes_of_a_record() -> None:
    keep = policy.DEFAULT_KEEP
    active = replace(ERASURE_PENDING[0], state=State.ACTIVE, erasure_requested=None, phones=("+49301234567",),
                     emails=("juergen.mueller@example.org",), notes="Prefers e-mail.")  # fmt: skip
    assert policy.pending_erasure(active, RULES, date(2026, 2, 1), keep) == ERASURE_PENDING[0]
    active = replace(LIMITATION[0], state=State.ACTIVE, erasure_requested=None, emails=("j@example.org",))
    assert policy.pending_erasure(active, RULES, date(2026, 4, 20), keep) == LIMITATION[0]
    withdrawn = _consent(consent_withdrawn=date(2026, 3, 10), id=WITHDRAWN[0].id, updated=WITHDRAWN[0].updated)
    assert policy.after_withdrawal(withdrawn, RULES, date(2026, 3, 10), keep) == WITHDRAWN[0]


# point 5 (several duties per record): every (rule, trigger) pair with its own trigger and end


@pytest.mark.parametrize(
    ("lang", "lines"),
    [
        (
            "en",
            (
                '- Record 1: kept under the rule "Invoices and booking vouchers: 8 years from the end of the year" '
                "(§147(1) Nr. 4, (3) and (4) AO; §14b(1) UStG). Starting point: invoice date 2025-03-10; the period "
                "starts at the end of that calendar year (2025-12-31) and ends on 2033-12-31.\n",
                "Starting point: end of the contract 2025-09-30; the period starts at the end of that calendar year "
                "(2025-12-31) and ends on 2028-12-31.\n",
                "- Record 1 is kept until the latest of these periods ends, that is until 2033-12-31. It is deleted "
                "automatically from 2034-01-01.\n",
                "    Further retention rule: Limitation period for claims: 3 years from the end of the year (end of "
                "the contract: 2025-09-30)\n",
            ),
        ),
        (
            "de",
            (
                "- Datensatz 1: Aufbewahrung nach der Regel „Rechnungen und Buchungsbelege: 8 Jahre ab Ende des "
                "Kalenderjahres“ (§ 147 Abs. 1 Nr. 4, Abs. 3 und 4 AO; § 14b Abs. 1 UStG). Ausgangspunkt: "
                "Rechnungsdatum 10.03.2025; die Frist beginnt mit dem Ende dieses Kalenderjahres (31.12.2025) und "
                "endet am 31.12.2033.\n",
                "Ausgangspunkt: Vertragsende 30.09.2025; die Frist beginnt mit dem Ende dieses Kalenderjahres "
                "(31.12.2025) und endet am 31.12.2028.\n",
                "- Datensatz 1 wird aufbewahrt, bis die späteste dieser Fristen endet, also bis zum 31.12.2033. Ab "
                "dem 01.01.2034 wird er automatisch gelöscht.\n",
                "    Weitere Aufbewahrungsregel: Verjährungsfrist für Ansprüche: 3 Jahre ab Ende des Kalenderjahres "
                "(Vertragsende: 30.09.2025)\n",
            ),
        ),
    ],
)
def test_every_rule_of_a_record_is_listed_with_its_own_trigger_and_end(lang: str, lines: tuple[str, ...]) -> None:
    record = policy.with_dates(contact(1, duties=(LIMITATION_DUTY,)), RULES)
    assert record.retention_end == date(2033, 12, 31)
    text = letter_text((record,), lang=lang)
    for line in lines:
        assert line in text
    assert "2029-01-01" not in text and "01.01.2029" not in text  # a pair's own end is not the record's


def test_the_record_is_kept_until_the_latest_end_even_when_a_further_rule_gives_it() -> None:
    # Limitation of a contract ended 2025-09-30, and an invoice of 2026-05-04: the invoice keeps it longer.
    record = policy.with_dates(contact(1, rule="limitation-3y", trigger=date(2025, 9, 30),
                                       duties=(Duty("invoices-8y", date(2026, 5, 4)),)), RULES)  # fmt: skip
    assert record.retention_end == date(2034, 12, 31)
    text = letter_text((record,))
    assert "that is until 2034-12-31. It is deleted automatically from 2035-01-01." in text
    assert "Starting point: invoice date 2026-05-04;" in text
    assert "    Retention ends: 2034-12-31\n" in text


@pytest.mark.parametrize(
    ("lang", "consent_line", "open_end"),
    [
        ("en", "- Record 1: kept until you withdraw your consent (Art. 7(3) GDPR).\n", "that end is not yet known"),
        ("de", "- Datensatz 1: gespeichert, bis Sie Ihre Einwilligung widerrufen (Art. 7 Abs. 3 DSGVO).\n",
         "dieses Ende steht noch nicht fest"),
    ],
)  # fmt: skip
def test_a_consent_record_with_a_duty_is_not_said_to_be_deleted_on_withdrawal(
    lang: str, consent_line: str, open_end: str
) -> None:
    record = policy.with_dates(_consent(duties=(Duty("invoices-8y", date(2026, 1, 15)),)), RULES)
    assert record.retention_end is None
    text = letter_text((record,), lang=lang)
    assert consent_line in text and open_end in text
    assert "then it is deleted" not in text and "danach wird er gelöscht" not in text


def test_a_further_owner_rule_is_labelled_with_its_own_trigger() -> None:
    table = {"label": "Tax adviser file", "years": 7, "from_year_end": True, "obliges": True}
    rules = RuleBook([rule_from_mapping("adviser-7y", {**table, "trigger_label": "date of the engagement letter"})])
    record = policy.with_dates(contact(1, duties=(Duty("adviser-7y", date(2024, 5, 2)),)), rules)
    files = build_export([record], CONFIG, rules, exported_at=EXPORTED_AT, today=TODAY, lang="en")
    text = files["answer.txt"].decode("utf-8")
    assert 'Record 1: kept under the rule "Tax adviser file". Starting point: date of the engagement letter ' in text
    assert "    Further retention rule: Tax adviser file (date of the engagement letter: 2024-05-02)\n" in text
    assert json.loads(files["data.json"])["records"][0]["retention"]["duties"] == [
        {"rule": "adviser-7y", "trigger": "2024-05-02"}
    ]


# point 2: legal claims (Art. 17(3)(e)) are never called a statutory duty (Art. 17(3)(b))

CLAIMS = {
    "en": "as far as necessary for the establishment, exercise or defence of legal claims (Art. 17(3)(e) GDPR)",
    "de": "soweit dies zur Geltendmachung, Ausübung oder Verteidigung von Rechtsansprüchen erforderlich ist "
    "(Art. 17 Abs. 3 lit. e DSGVO)",
}
STATUTORY = {"en": ("17(3)(b)", "statutory"), "de": ("17 Abs. 3 lit. b", "Aufbewahrungspflicht")}
LIMITATION_PERIOD = {"en": "(§§195, 199(1) BGB)", "de": "(§§ 195, 199 Abs. 1 BGB)"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_limitation_letter_states_legal_claims_not_a_statutory_duty(lang: str) -> None:
    text = letter_text(LIMITATION, lang=lang)
    assert f"{LIMITATION_PERIOD[lang]}, {CLAIMS[lang]}" in text or f"{LIMITATION_PERIOD[lang]} {CLAIMS[lang]}" in text
    for word in STATUTORY[lang]:
        assert word not in text, word
    assert ("Art. 6(1)(f)" if lang == "en" else "Art. 6 Abs. 1 lit. f") in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_statutory_duty_stays_art_17_3_b(lang: str) -> None:
    text = letter_text(RESTRICTED, lang=lang)
    duty = "statutory retention duty applies (Art. 17(3)(b) GDPR)"
    assert (duty if lang == "en" else "gesetzliche Aufbewahrungspflicht (Art. 17 Abs. 3 lit. b DSGVO)") in text
    assert CLAIMS[lang] not in text and "17(3)(e)" not in text and "17 Abs. 3 lit. e" not in text


def test_an_owner_rule_is_a_legal_claims_ground_by_its_flag_as_in_the_core() -> None:
    table = {"label": "Warranty claims", "years": 5, "from_year_end": True, "reference": "§ 634a BGB; 17(3)(e)",
             "trigger_label": "acceptance of the work"}  # fmt: skip
    flagged = RuleBook([rule_from_mapping("warranty-5y", {**table, "legal_claims": True})])
    cited = RuleBook([rule_from_mapping("warranty-5y", {**table, "obliges": True})])  # cites (e), no flag
    record = contact(1, rule="warranty-5y", trigger=date(2025, 6, 1), retention_end=date(2030, 12, 31),
                     state=State.RESTRICTED)  # fmt: skip
    for rules, claims in ((flagged, True), (cited, False)):
        assert rules.get("warranty-5y").erasure_ground == ("Art. 17(3)(e) GDPR" if claims else "Art. 17(3)(b) GDPR")
        files = build_export([record], CONFIG, rules, exported_at=EXPORTED_AT, today=TODAY, lang="en")
        text = files["answer.txt"].decode("utf-8")
        assert (CLAIMS["en"] in text) is claims
        assert ("Legitimate interests (Art. 6(1)(f) GDPR)" in text) is claims
        assert ("Legal obligation (Art. 6(1)(c) GDPR" in text) is not claims


def test_the_consent_proof_rule_is_worded_in_the_letters_language() -> None:
    text = letter_text(WITHDRAWN, lang="de")
    assert "Nachweis einer widerrufenen Einwilligung: 3 Jahre ab Ende des Kalenderjahres" in text
    assert "Ausgangspunkt: Datum des Widerrufs 10.03.2026;" in text
    assert "Proof of a withdrawn consent" not in text and "date consent was withdrawn" not in text


# point 3: a pending erasure, a withdrawn consent, how consent was given


@pytest.mark.parametrize(
    ("lang", "sentences"),
    [
        (
            "en",
            (
                "- Record 1: You requested the erasure of your data on 2026-02-01 (Art. 17 GDPR). Processing of your "
                "data is therefore restricted (Art. 18 GDPR): we keep them only while one of the following periods "
                "runs.\n",
                "that is until 2033-12-31. It is deleted automatically from 2034-01-01.",
                "    Erasure requested: 2026-02-01\n",
            ),
        ),
        (
            "de",
            (
                "- Datensatz 1: Sie haben am 01.02.2026 die Löschung Ihrer Daten verlangt (Art. 17 DSGVO). Die "
                "Verarbeitung Ihrer Daten ist deshalb eingeschränkt (Einschränkung der Verarbeitung, Art. 18 DSGVO): "
                "Wir bewahren sie nur noch auf, solange eine der folgenden Fristen läuft.\n",
                "also bis zum 31.12.2033. Ab dem 01.01.2034 wird er automatisch gelöscht.",
                "    Löschung verlangt: 01.02.2026\n",
            ),
        ),
    ],
)
def test_a_pending_erasure_says_when_it_was_asked_for_what_keeps_the_record_and_until_when(
    lang: str, sentences: tuple[str, ...]
) -> None:
    text = letter_text(ERASURE_PENDING, lang=lang)
    for sentence in sentences:
        assert sentence in text
    assert text.count(CLAIMS[lang]) == 1  # the limitation duty, once; the invoice duty is statutory


@pytest.mark.parametrize(
    ("lang", "one"),
    [("en", "we keep them only while the following period runs."),
     ("de", "Wir bewahren sie nur noch auf, solange die folgende Frist läuft.")],
)  # fmt: skip
def test_a_duty_that_has_ended_no_longer_keeps_a_pending_erasure(lang: str, one: str) -> None:
    old_letter = Duty("letters-6y", date(2018, 5, 2))  # ended 2024-12-31
    record = policy.pending_erasure(contact(1, duties=(old_letter,)), RULES, date(2026, 2, 1), policy.DEFAULT_KEEP)
    text = letter_text((record,), lang=lang)
    storage = text[text.index("Art. 15(1)(d)" if lang == "en" else "Art. 15 Abs. 1 lit. d") :]
    assert one in storage  # singular: one period runs
    assert "2024" not in storage.split("Art. 15(1)(e)" if lang == "en" else "Art. 15 Abs. 1 lit. e")[0]
    assert ("Business letters" if lang == "en" else "Geschäftsbriefe") in text  # still shown as stored data


def test_a_pending_erasure_kept_only_by_a_hold_says_so_without_the_internal_reason() -> None:
    held = contact(1, rule="inquiry-6m", trigger=date(2026, 1, 15), hold=True, hold_reason="tax audit 2025")
    record = policy.pending_erasure(held, RULES, date(2026, 5, 1), policy.DEFAULT_KEEP)
    text = letter_text((record,))
    assert "You requested the erasure of your data on 2026-05-01 (Art. 17 GDPR)." in text
    assert "we keep them only because a legal hold blocks their erasure, and erase them once it is lifted." in text
    assert "tax audit" not in text
    assert "Record 1 is currently under a legal hold" not in text  # said once, not twice
    assert "kept under the rule" not in text  # the inquiry rule does not keep it


def test_the_vault_s_erasure_reaches_the_letter(portability_vault: Vault, tmp_path: Path) -> None:
    kept = portability_vault.add(draft(duties=(LIMITATION_DUTY,)))
    portability_vault.erase(kept.id)
    out = portability_vault.export_person([kept.id], tmp_path / "art15", "en").out_dir
    text = (out / "answer.txt").read_text(encoding="utf-8")
    assert "You requested the erasure of your data on 2026-06-15 (Art. 17 GDPR)." in text
    assert "one of the following periods runs" in text and "that is until 2033-12-31." in text
    assert "Prefers e-mail." not in text  # notes go with the erasure request


@pytest.mark.parametrize(
    ("lang", "sentence", "method_row"),
    [
        ("en", "You gave your consent on 2025-11-03 (how: web form) and withdrew it on 2026-03-10 (Art. 7(3) GDPR).",
         "    How consent was given: web form\n"),
        ("de", "Sie haben Ihre Einwilligung am 03.11.2025 erteilt (Art der Einwilligung: web form) und am 10.03.2026 "
               "widerrufen (Art. 7 Abs. 3 DSGVO).", "    Art der Einwilligung: web form\n"),
    ],
)  # fmt: skip
def test_the_consent_proof_says_when_and_how_consent_was_given_and_withdrawn(
    lang: str, sentence: str, method_row: str
) -> None:
    text = letter_text(WITHDRAWN, lang=lang)
    assert sentence in text and method_row in text
    proof = "We keep only proof of your consent and of its withdrawal (Art. 7(1) GDPR)"
    assert (proof if lang == "en" else "Wir bewahren nur noch einen Nachweis Ihrer Einwilligung") in text
    assert CLAIMS[lang] in text
    for invented in ("requested the erasure", "Erasure requested", "Löschung verlangt", "Löschung Ihrer Daten"):
        assert invented not in text


@pytest.mark.parametrize(
    ("lang", "empty_row", "empty_sentence"),
    [
        ("en", "    How consent was given: not recorded\n", "(how: not recorded)"),
        ("de", "    Art der Einwilligung: keine Angabe\n", "(Art der Einwilligung: keine Angabe)"),
    ],
)
def test_how_consent_was_given_is_never_invented(lang: str, empty_row: str, empty_sentence: str) -> None:
    assert CONSENT[0].consent_method == ""
    assert empty_row in letter_text(CONSENT, lang=lang)
    assert empty_sentence in letter_text((replace(WITHDRAWN[0], consent_method=""),), lang=lang)
    recorded = letter_text((_consent(consent_method="per E-Mail vom 03.11.2025"),), lang=lang)
    label = empty_row.split(":")[0]
    assert f"{label}: per E-Mail vom 03.11.2025\n" in recorded


def test_a_consent_withdrawn_while_a_duty_runs_says_what_is_kept_and_why() -> None:
    consent = _consent(duties=(Duty("invoices-8y", date(2026, 1, 15)),), consent_withdrawn=date(2026, 5, 4))
    record = policy.after_withdrawal(consent, RULES, date(2026, 5, 4), policy.DEFAULT_KEEP)
    assert record.basis is LegalBasis.LEGAL_OBLIGATION and record.erasure_requested == date(2026, 5, 4)
    text = letter_text((record,))
    assert "You gave your consent on 2025-11-03 (how: web form) and withdrew it on 2026-05-04 (Art. 7(3) GDPR)." in text
    assert "Since then we no longer process your data on the basis of that consent." in text
    assert "we keep them only while one of the following periods runs." in text
    assert "Starting point: invoice date 2026-01-15;" in text and "2034-12-31" in text
    assert "2029-12-31" in text  # the proof of the withdrawal, 3 years from the end of 2026
    assert "Legal obligation (Art. 6(1)(c) GDPR in conjunction with §147(1)" in text
    assert "requested the erasure" not in text and "Erasure requested" not in text


# point 4: objection with its date; a restriction the person asked for; hold reasons stay internal


@pytest.mark.parametrize(
    ("lang", "sentence", "row"),
    [
        ("en", "You objected to the processing of your data on 2026-06-10 (Art. 21 GDPR).",
         "    Objection raised: 2026-06-10\n"),
        ("de", "Sie haben am 10.06.2026 der Verarbeitung Ihrer Daten widersprochen (Art. 21 DSGVO).",
         "    Widerspruch eingelegt: 10.06.2026\n"),
    ],
)  # fmt: skip
def test_an_objection_is_stated_with_its_date(lang: str, sentence: str, row: str) -> None:
    objected = replace(contact(1), objected=date(2026, 6, 10))
    record = policy.pending_erasure(objected, RULES, TODAY, policy.DEFAULT_KEEP)
    text = letter_text((record,), lang=lang)
    assert sentence in text and row in text
    assert "requested the erasure" not in text and "Löschung Ihrer Daten verlangt" not in text
    assert ("the date of your objection" if lang == "en" else "Datum Ihres Widerspruchs") in text


@pytest.mark.parametrize(
    ("lang", "sentence", "row"),
    [
        ("en", "Processing of your data is restricted at your request of 2026-06-01 (Art. 18(1) GDPR)",
         "    Restriction requested: 2026-06-01\n"),
        ("de", "Die Verarbeitung Ihrer Daten ist auf Ihren Wunsch vom 01.06.2026 eingeschränkt (Einschränkung der "
               "Verarbeitung, Art. 18 Abs. 1 DSGVO)", "    Einschränkung verlangt: 01.06.2026\n"),
    ],
)  # fmt: skip
def test_a_restriction_the_person_asked_for_is_stated_but_no_hold_reason_or_review(
    lang: str, sentence: str, row: str
) -> None:
    record = _consent(state=State.RESTRICTED, hold=True, hold_reason="tax audit 2025",
                      restriction_requested=date(2026, 6, 1), reviewed=date(2026, 2, 2))  # fmt: skip
    text = letter_text((record,), lang=lang)
    assert sentence in text and row in text
    assert ("Art. 18(3) GDPR" if lang == "en" else "Art. 18 Abs. 3 DSGVO") in text
    for internal in ("tax audit", "2026-02-02", "02.02.2026"):
        assert internal not in text


# point 6: the right to erasure names only the exceptions the records have


@pytest.mark.parametrize(
    ("contacts", "expected"),
    [
        (CONSENT, "- the right to erasure (Art. 17 GDPR);\n"),
        (RESTRICTED, "(Art. 17(3)(b) GDPR), the processing is restricted instead until the period ends;\n"),
        (LIMITATION, "(Art. 17(3)(e) GDPR), the processing is restricted instead for as long as that is necessary"),
        (ERASURE_PENDING, "applies (Art. 17(3)(b) GDPR) or the data are needed for the establishment"),
    ],
)
def test_the_right_to_erasure_names_the_exceptions_that_apply(contacts: tuple[Contact, ...], expected: str) -> None:
    assert expected in letter_text(contacts)
