"""Finding one person and exporting the complete Art. 15 / Art. 20 answer."""

from __future__ import annotations

import csv
import dataclasses
import errno
import json
import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import vobject

from tests.conftest import PASSPHRASE, WEAK_KDF, FixedClock, draft
from vault import export
from vault.config import Config, Processor
from vault.errors import InvalidInput
from vault.export import FIELD_PATHS, SCHEMA_VERSION, build_portability, csv_cell, load_schema
from vault.model import Contact, Duty, LegalBasis
from vault.service import Vault

CONFIG = Config(
    controller_name="Freelance Studio Beispiel",
    controller_address="Musterweg 7\n10115 Berlin",
    controller_email="privacy@studio.example",
    supervisory_authority="Berliner Beauftragte für Datenschutz und Informationsfreiheit",
    processors=(
        Processor("netcup GmbH", "webspace for the encrypted backup", "DE"),
        Processor("Mail Provider Inc.", "e-mail hosting", "US", transfer="scc"),
    ),
)


@pytest.fixture
def dsar_vault(vault_path: Path, clock: FixedClock) -> Iterator[Vault]:
    v = Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock, config=CONFIG)
    yield v
    v.close()


@pytest.fixture
def person(dsar_vault: Vault) -> tuple[Contact, Contact]:
    """One person in two records: an invoice contact and an older, restricted inquiry."""
    first = dsar_vault.add(draft(source="business card at the trade fair, 2025", purpose="invoicing"))
    second = dsar_vault.add(
        draft(
            name="J. Mueller",
            emails=("J.Mueller@Example.ORG", "juergen.mueller@EXAMPLE.org"),
            phones=("030 1234567",),
            org="",
            notes="Asked for a quote; said no.\nCall back in spring \\ maybe.",
            basis=LegalBasis.CONSENT,
            rule="consent",
            trigger=date(2026, 1, 20),
            consent_given=date(2026, 1, 20),
            consent_method="web form",
        )
    )
    second = dsar_vault.restrict(second.id)
    dsar_vault.add(draft(name="Anna Schmidt", emails=("anna@example.com",), phones=("+49 89 12345678",), org=""))
    return first, second


def _export(vault: Vault, people: tuple[Contact, ...], out: Path, lang: str = "en") -> Path:
    return vault.export_person([c.id for c in people], out, lang).out_dir


# --- find_person ---------------------------------------------------------------------------


def test_find_person_matches_email_case_insensitively_including_restricted(
    dsar_vault: Vault, person: tuple[Contact, Contact]
) -> None:
    found = dsar_vault.find_person(email="JUERGEN.MUELLER@example.org")
    assert {c.id for c in found} == {c.id for c in person}
    assert any(c.is_restricted for c in found)


def test_find_person_compares_phones_in_e164(dsar_vault: Vault, person: tuple[Contact, Contact]) -> None:
    for spelling in ("+49 (30) 123 45 67", "030/1234567", "0049 30 1234567"):
        assert {c.id for c in dsar_vault.find_person(phone=spelling)} == {c.id for c in person}


def test_find_person_by_name_folds_accents_and_german_spellings(
    dsar_vault: Vault, person: tuple[Contact, Contact]
) -> None:
    assert [c.id for c in dsar_vault.find_person(name="mueller juergen")] == [person[0].id]
    assert {c.id for c in dsar_vault.find_person(name="Müller")} == {c.id for c in person}
    assert dsar_vault.find_person(name="Schmid") == []  # whole words, not substrings


def test_find_person_with_unparsable_phone_or_email_matches_nothing(
    dsar_vault: Vault, person: tuple[Contact, Contact]
) -> None:
    assert dsar_vault.find_person(phone="12", email="not-an-address") == []


# --- the export folder ---------------------------------------------------------------------


def test_export_writes_owner_only_files_in_an_owner_only_folder(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path
) -> None:
    out = _export(dsar_vault, person, tmp_path / "answer")
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert sorted(p.name for p in out.iterdir()) == sorted(export.EXPORT_FILES)
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sealbook-export-")]


def test_export_is_audited_per_record_id_without_personal_data(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path
) -> None:
    _export(dsar_vault, person, tmp_path / "answer")
    rows = dsar_vault.audit_log(action="exported")
    assert sorted(r.record_id for r in rows if r.record_id) == sorted(c.id for c in person)
    assert all(r.detail == "" for r in rows)


def test_export_into_a_non_empty_folder_is_refused_and_changes_nothing(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path
) -> None:
    out = tmp_path / "answer"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not empty"):
        _export(dsar_vault, person, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert dsar_vault.audit_log(action="exported") == []


def test_export_into_an_existing_empty_folder_works(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path
) -> None:
    out = tmp_path / "answer"
    out.mkdir(mode=0o755)
    _export(dsar_vault, person, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert (out / "data.json").is_file()


def test_a_failed_write_leaves_no_folder_and_no_audit_row(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full or failing disk cannot be caused portably from a test: fake the fsync error.
    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(export.ExportFailed) as caught:
        _export(dsar_vault, person, tmp_path / "answer")
    assert "Müller" not in str(caught.value) and "answer" not in str(caught.value)
    assert not (tmp_path / "answer").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sealbook-export-")]
    assert dsar_vault.audit_log(action="exported") == []


def test_export_of_no_records_writes_the_negative_answer(dsar_vault: Vault, tmp_path: Path) -> None:
    # Issue 11 point 10: no matching record is answered with a letter, not with nothing.
    out = dsar_vault.export_person([], tmp_path / "answer").out_dir
    assert sorted(p.name for p in out.iterdir()) == sorted(export.NEGATIVE_FILES)
    assert "we hold no personal data about you" in (out / "answer.txt").read_text(encoding="utf-8")
    rows = dsar_vault.audit_log(action="exported")
    assert [(r.record_id, r.detail) for r in rows] == [(None, "negative answer")]


# --- data.json --------------------------------------------------------------------------------


def _validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _lookup(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        value = value[part]
    return value


def _as_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, Duty):
        return {"rule": value.rule, "trigger": value.trigger.isoformat()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int)):
        return value.value
    return value


def test_every_stored_field_has_a_place_in_data_json() -> None:
    assert set(FIELD_PATHS) == {f.name for f in dataclasses.fields(Contact)}


def test_data_json_validates_and_holds_every_stored_field(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path
) -> None:
    out = _export(dsar_vault, person, tmp_path / "answer")
    document = json.loads((out / "data.json").read_text(encoding="utf-8"))
    _validator().validate(document)
    assert document["schema_version"] == SCHEMA_VERSION == 2
    assert [r["name"] for r in document["recipients"]] == ["netcup GmbH", "Mail Provider Inc."]
    by_id = {r["id"]: r for r in document["records"]}
    assert set(by_id) == {c.id for c in person}
    for contact in person:
        record = by_id[contact.id]
        for attribute, path in FIELD_PATHS.items():
            assert _lookup(record, path) == _as_json(getattr(contact, attribute)), attribute
    invoice = by_id[person[0].id]["retention"]
    assert (invoice["retention_end"], invoice["purge_from"]) == ("2033-12-31", "2034-01-01")


# Issue 11 point 5: the fields the rights and several duties brought (dated 2026-06-15).
RIGHTS_FIELDS = ("consent_method", "duties", "erasure_requested", "objected", "restriction_requested", "reviewed",
                 "hold_reason")  # fmt: skip


@pytest.fixture
def rights_records(dsar_vault: Vault) -> tuple[Contact, ...]:
    """Records carrying every field issue 11 added, set through the Vault as the owner would."""
    duty = dsar_vault.add(draft(name="Duty Person", duties=(Duty("limitation-3y", date(2025, 9, 30)),)))
    dsar_vault.erase(duty.id)  # kept by the invoice duty: restricted, erasure requested 2026-06-15
    objecting = dsar_vault.add(draft(name="Objecting Person", emails=("o@example.org",), phones=()))
    dsar_vault.object(objecting.id, on=date(2026, 6, 10))
    consent = dsar_vault.add(
        draft(name="Consent Person", emails=("c@example.org",), phones=(), basis=LegalBasis.CONSENT, rule="consent",
              trigger=None, consent_given=date(2025, 1, 20), consent_method="web form")
    )  # fmt: skip
    dsar_vault.reviewed(consent.id)
    dsar_vault.hold(consent.id, reason="tax audit 2025", requested=date(2026, 6, 1))
    return tuple(dsar_vault.get(c.id) for c in (duty, objecting, consent))


def test_data_json_holds_every_field_issue_11_added(
    dsar_vault: Vault, rights_records: tuple[Contact, ...], tmp_path: Path
) -> None:
    out = _export(dsar_vault, rights_records, tmp_path / "answer")
    document = json.loads((out / "data.json").read_text(encoding="utf-8"))
    _validator().validate(document)
    by_id = {r["id"]: r for r in document["records"]}
    for attribute in RIGHTS_FIELDS:  # each field is set on some record, so the comparison is not vacuous
        assert any(getattr(c, attribute) for c in rights_records), attribute
        for contact in rights_records:
            assert _lookup(by_id[contact.id], FIELD_PATHS[attribute]) == _as_json(getattr(contact, attribute))
    duty, objecting, consent = (by_id[c.id] for c in rights_records)
    assert duty["retention"]["duties"] == [{"rule": "limitation-3y", "trigger": "2025-09-30"}]
    assert duty["requests"] == {"erasure_requested": "2026-06-15", "objected": None, "restriction_requested": None}
    assert [(p["rule"], p["retention_end"], p["erasure_exception"]) for p in duty["retention"]["periods"]] == [
        ("invoices-8y", "2033-12-31", "Art. 17(3)(b) GDPR"),
        ("limitation-3y", "2028-12-31", "Art. 17(3)(e) GDPR"),
    ]
    assert objecting["requests"]["objected"] == "2026-06-10"
    assert consent["consent"] == {"given": "2025-01-20", "withdrawn": None, "method": "web form"}
    assert consent["retention"]["hold_reason"] == "tax audit 2025"  # Art. 15: complete, owner fields too
    assert consent["retention"]["reviewed"] == "2026-06-15"
    assert consent["requests"]["restriction_requested"] == "2026-06-01"
    assert consent["retention"]["periods"][0]["retention_end"] is None  # until withdrawn


def test_the_portability_export_leaves_out_owner_fields(dsar_vault: Vault, rights_records: tuple[Contact, ...]) -> None:
    consent = rights_records[2]
    assert consent.hold_reason and consent.reviewed and consent.restriction_requested
    files = build_portability(list(rights_records), CONFIG, dsar_vault.rules, exported_at=dsar_vault.now(),
                              today=date(2026, 6, 15), lang="en")  # fmt: skip
    raw = files["portability.json"].decode("utf-8")
    records = json.loads(raw)["records"]
    assert [r["name"] for r in records] == ["Consent Person"]  # the person's own, on consent
    assert set(records[0]) == {"name", "emails", "phones", "organisation"}
    for owner in ("hold_reason", "tax audit", "reviewed", "requests", "web form", "duties", "periods", "retention"):
        assert owner not in raw, owner
    assert "tax audit" not in files["contacts.vcf"].decode("utf-8")


def test_the_version_1_schema_stays_shipped_for_older_exports() -> None:
    from importlib import resources

    old = json.loads(resources.files("vault.schemas").joinpath("data-v1.schema.json").read_text(encoding="utf-8"))
    assert old["properties"]["schema_version"] == {"const": 1}
    assert load_schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_the_schema_refuses_a_record_with_a_missing_or_unknown_field(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path
) -> None:
    out = _export(dsar_vault, person, tmp_path / "answer")
    document = json.loads((out / "data.json").read_text(encoding="utf-8"))
    del document["records"][0]["emails"]
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(document)
    document = json.loads((out / "data.json").read_text(encoding="utf-8"))
    document["records"][0]["shoe_size"] = 44
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(document)


# --- contacts.vcf ------------------------------------------------------------------------------


def test_contacts_vcf_parses_back_to_the_same_data(dsar_vault: Vault, tmp_path: Path) -> None:
    tricky = dsar_vault.add(
        draft(
            name="Müller, Jürgen; Dr.",
            org="Müller; Söhne, Partner \\ Co",
            notes="Line one,\nline two; with \\ backslash and a very long sentence that needs folding at "
            "seventy-five octets, with ümläuts crossing the boundary ääääääääääääää.",
            emails=("a@example.org", "b@example.org"),
            phones=("+49 30 1234567", "+43 1 5123456"),
        )
    )
    plain = dsar_vault.add(draft(name="Anna Schmidt", emails=(), phones=(), org="", notes=""))
    out = _export(dsar_vault, (tricky, plain), tmp_path / "answer")
    raw = (out / "contacts.vcf").read_bytes()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    cards = list(vobject.readComponents(raw.decode("utf-8")))
    assert sorted(card.x_sealbook_id.value for card in cards) == sorted((tricky.id, plain.id))
    for card in cards:
        contact = dsar_vault.get(card.x_sealbook_id.value)
        assert card.version.value == "4.0"
        assert card.fn.value == contact.name
        assert card.uid.value == f"urn:uuid:{contact.id}"
        assert card.x_sealbook_id.value == contact.id
        assert card.x_sealbook_basis.value == contact.basis.value
        assert tuple(e.value for e in card.contents.get("email", [])) == contact.emails
        assert tuple(t.value.removeprefix("tel:") for t in card.contents.get("tel", [])) == contact.phones
        org = card.contents.get("org")
        assert (org[0].value[0] if org else "") == contact.org
        note = card.contents.get("note")
        assert (note[0].value if note else "") == contact.notes


def test_reimporting_an_export_creates_no_duplicates(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path
) -> None:
    out = _export(dsar_vault, person, tmp_path / "answer")
    before = len(dsar_vault)
    report = dsar_vault.import_file(out / "contacts.vcf", LegalBasis.CONTRACT, "invoices-8y", date(2025, 1, 1))
    # Merging may add the batch's rule as a further duty (issue 11.5), but never a contact or a detail.
    assert (report.added, report.merged - report.rules_added, report.merged + report.skipped) == (0, 0, 2)
    assert len(dsar_vault) == before


# --- contacts.csv ------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\0"])
def test_csv_cells_starting_like_a_formula_are_escaped(prefix: str) -> None:
    assert csv_cell(prefix + "1+1") == "'" + prefix + "1+1"


def test_harmless_csv_cells_are_left_alone() -> None:
    assert csv_cell("Jürgen Müller") == "Jürgen Müller"
    assert csv_cell("") == ""


def test_exported_csv_escapes_formulas_in_stored_names(dsar_vault: Vault, tmp_path: Path) -> None:
    evil = dsar_vault.add(draft(name='=HYPERLINK("http://evil.example","x")', notes="@SUM(A1)"))
    out = _export(dsar_vault, (evil,), tmp_path / "answer")
    rows = list(csv.DictReader((out / "contacts.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0]["name"] == "'" + evil.name
    assert rows[0]["notes"] == "'@SUM(A1)"
    assert rows[0]["phones"] == "'+49301234567"


# --- the answer letter ---------------------------------------------------------------------------

ITEM_HEADINGS = {
    "en": [f"Art. 15(1)({x}) GDPR" for x in "abcdefgh"],
    "de": [f"Art. 15 Abs. 1 lit. {x} DSGVO" for x in "abcdefgh"],
}
ITEM_CONTENT = {
    "en": [
        "invoicing",  # (a) the record's purpose
        "Contract or pre-contractual steps (Art. 6(1)(b) GDPR)",  # (a) legal basis
        "Consent (Art. 6(1)(a) GDPR)",
        "contact data: e-mail addresses",  # (b)
        "contact data: phone numbers",
        "netcup GmbH: processor acting on our behalf",  # (c)
        "purpose: webspace for the encrypted backup; established in: Germany",
        "established in: United States; third country outside the EU/EEA",  # (c) + Art. 15(2)
        "standard contractual clauses",
        "Starting point: invoice date 2025-03-10",  # (d) the trigger, named as what it is
        "starts at the end of that calendar year (2025-12-31) and ends on 2033-12-31",  # (d) concrete end
        "deleted automatically from 2034-01-01",
        "kept until you withdraw your consent",  # (d) consent criterion
        "rectification",  # (e)
        "erasure",
        "restriction of processing",
        "object at any time, on grounds relating to your particular situation",  # Art. 21(1) with its condition
        "supervisory authority",  # (f)
        "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
        "source: business card at the trade fair, 2025",  # (g)
        "source: not recorded",  # (g) never "collected from you" by default
        "No automated decision-making, including profiling",  # (h)
        "restricted (Art. 18 GDPR)",
    ],
    "de": [
        "invoicing",
        "Vertrag oder vorvertragliche Maßnahmen (Art. 6 Abs. 1 lit. b DSGVO)",
        "Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)",
        "Kontaktdaten: E-Mail-Adressen",
        "Kontaktdaten: Telefonnummern",
        "netcup GmbH: Auftragsverarbeiter",
        "Zweck: webspace for the encrypted backup; Sitz: Deutschland",
        "Sitz: USA; Drittland außerhalb der EU/des EWR",
        "Standardvertragsklauseln",
        "Ausgangspunkt: Rechnungsdatum 10.03.2025",
        "beginnt mit dem Ende dieses Kalenderjahres (31.12.2025) und endet am 31.12.2033",
        "Rechnungen und Buchungsbelege: 8 Jahre ab Ende des Kalenderjahres",
        "Ab dem 01.01.2034 wird der Datensatz automatisch gelöscht",
        "gespeichert, bis Sie Ihre Einwilligung widerrufen",
        "Berichtigung",
        "Löschung",
        "Einschränkung der Verarbeitung",
        "Widerspruch gegen eine Verarbeitung einzulegen, die auf Art. 6 Abs. 1 lit. e oder f DSGVO beruht",
        "Aufsichtsbehörde",
        "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
        "Herkunft: business card at the trade fair, 2025",
        "Herkunft: keine Angabe",
        "Eine automatisierte Entscheidungsfindung einschließlich Profiling",
        "eingeschränkt (Art. 18 DSGVO)",
    ],
}


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_letter_holds_every_art15_item_and_both_records(
    dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path, lang: str
) -> None:
    out = _export(dsar_vault, person, tmp_path / "answer", lang)
    text = (out / "answer.txt").read_text(encoding="utf-8")
    page = (out / "answer.html").read_text(encoding="utf-8")
    import html as html_module

    unescaped = html_module.unescape(page)
    for document in (text, unescaped):
        positions = [document.index(heading) for heading in ITEM_HEADINGS[lang]]
        assert positions == sorted(positions)  # (a) to (h), in order
        for snippet in ITEM_CONTENT[lang]:
            assert snippet in document, snippet
        for needle in ("Freelance Studio Beispiel", "Musterweg 7", "10115 Berlin", "privacy@studio.example"):
            assert needle in document
        for contact in person:
            assert contact.name in document and contact.id in document
        assert "+49 30 1234567" in document
    assert f'<html lang="{lang}">' in page
    for key in "abcdefgh":
        assert f'id="art15-{key}"' in page


def test_the_letter_says_when_no_recipient_exists(vault: Vault, tmp_path: Path) -> None:
    contact = vault.add(draft())
    out = vault.export_person([contact.id], tmp_path / "answer", "en").out_dir
    text = (out / "answer.txt").read_text(encoding="utf-8")
    assert "We do not disclose your data to any recipient." in text
    assert "(not configured)" in text  # the controller is missing from the config, and the letter says so


def test_the_html_letter_escapes_markup_from_stored_fields(dsar_vault: Vault, tmp_path: Path) -> None:
    contact = dsar_vault.add(draft(name="<script>alert(1)</script>", notes='<img src=x onerror="x()">'))
    out = _export(dsar_vault, (contact,), tmp_path / "answer")
    page = (out / "answer.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "default-src 'none'" in page


def test_unknown_language_is_refused(dsar_vault: Vault, person: tuple[Contact, Contact], tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        _export(dsar_vault, person, tmp_path / "answer", "fr")
    assert not (tmp_path / "answer").exists()


def test_export_module_needs_no_vault_for_the_files(person: tuple[Contact, Contact], dsar_vault: Vault) -> None:
    files = export.build_export(
        list(person), CONFIG, dsar_vault.rules, exported_at=dsar_vault.now(), today=date(2026, 6, 15), lang="de"
    )
    assert set(files) == set(export.EXPORT_FILES)
    assert b"Datum: 15.06.2026" in files["answer.txt"]
    assert os.sep not in "".join(files)


@pytest.mark.parametrize(
    "criteria",
    [
        {"name": "müller jürgen"},
        {"name": "Mueller"},
        {"email": "JUERGEN.MUELLER@example.org"},
        {"phone": "030 1234567"},
        {"phone": "+49 (30) 123-4567"},
        {"name": "nobody"},
        {"email": "x@y.z"},
        {"phone": "not a phone"},
    ],
)
def test_find_person_prefilter_never_drops_a_match(vault: Vault, criteria: dict[str, str]) -> None:
    from vault.export import find_person

    vault.add(draft())
    vault.add(draft(name="Müller, Jürgen", emails=("J.Mueller@Example.org",), phones=("+49 30 1234567",)))
    vault.add(draft(name="Erika Weiß", emails=("erika@example.org",), phones=("0171 2345678",)))
    everything = vault.contacts(include_restricted=True)
    assert vault.find_person(**criteria) == find_person(everything, **criteria)
