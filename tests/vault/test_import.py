"""Import of vCard and CSV files: a corpus of real-world shapes, re-imports, hostile input."""

from __future__ import annotations

import base64
import codecs
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import draft
from vault import importers
from vault.errors import InvalidInput, UnknownRule
from vault.importers import ImportRefused, Outcome
from vault.model import Duty, LegalBasis
from vault.service import Vault

CORPUS = Path(__file__).resolve().parent.parent / "data" / "import"
TRIGGER = date(2025, 3, 10)


def imp(vault: Vault, path: Path, **options: object) -> importers.ImportReport:
    return vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", TRIGGER, **options)  # type: ignore[arg-type]


def by_name(vault: Vault) -> dict[str, object]:
    return {c.name: c for c in vault.contacts()}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- the corpus ---------------------------------------------------------------------------------

GOOD_FILES = {
    # file: (format, number of contacts)
    "android-2.1.vcf": ("vcard", 3),
    "ios-3.0.vcf": ("vcard", 2),
    "nextcloud-3.0.vcf": ("vcard", 2),
    "nextcloud-4.0.vcf": ("vcard", 2),
    "google.csv": ("google-csv", 3),
    "outlook.csv": ("outlook-csv", 2),
    "outlook-de.csv": ("outlook-csv", 1),
    "generic.csv": ("csv", 1),
    # issue 13.15-16: the files people have (tests/vault/test_import_files.py looks closer)
    "outlook-de-1252.csv": ("outlook-csv", 3),  # Windows-1252, semicolons, every cell quoted
    "excel-utf16.txt": ("csv", 2),  # Excel's "Unicode text": UTF-16 with BOM, tabs
    "google-formula.csv": ("google-csv", 2),  # a note starting with "=HYPERLINK("
    "thunderbird.csv": ("thunderbird-csv", 1),
    "thunderbird-de.csv": ("thunderbird-csv", 1),
    "apple.csv": ("csv", 1),
    "apple-de.csv": ("csv", 1),  # UTF-8 with BOM, semicolons
}


@pytest.mark.parametrize("name", sorted(GOOD_FILES))
def test_corpus_file_imports_every_contact(vault: Vault, name: str) -> None:
    kind, count = GOOD_FILES[name]
    report = imp(vault, CORPUS / name)
    assert report.format == kind
    assert report.errors == ()
    assert (report.added, report.committed) == (count, True)
    assert len(vault) == count
    assert all(e.record_id for e in report.entries)
    stored = vault.contacts()
    assert all(c.basis is LegalBasis.CONTRACT and c.retention_end == date(2033, 12, 31) for c in stored)
    assert all(c.source == f"import of the file {name} on 2026-06-15" for c in stored)
    assert len(vault.audit_log(action="imported")) == count


@pytest.mark.parametrize("name", sorted(GOOD_FILES))
def test_reimporting_the_same_file_creates_no_duplicates(vault: Vault, name: str) -> None:
    imp(vault, CORPUS / name)
    before = {c.id: c.meta_version for c in vault.contacts()}
    again = imp(vault, CORPUS / name)
    assert (again.added, again.merged) == (0, 0)
    assert again.skipped == GOOD_FILES[name][1]
    assert {c.id: c.meta_version for c in vault.contacts()} == before


def test_android_quoted_printable_with_soft_line_breaks_and_photo(vault: Vault) -> None:
    report = imp(vault, CORPUS / "android-2.1.vcf")
    people = by_name(vault)
    juergen = people["Jürgen Müller"]
    assert juergen.emails == ("Juergen.Mueller@example.org",)  # type: ignore[attr-defined]
    assert juergen.phones == ("+4915123456789", "+49301234567")  # type: ignore[attr-defined]
    assert juergen.org == "Müller & Söhne GmbH"  # type: ignore[attr-defined]
    assert juergen.notes == (  # type: ignore[attr-defined]
        "Erste Zeile\nZweite Zeile mit Umlauten äöü, und ein weicher Zeilenumbruch"
    )
    assert "Stefanie Weiß" in people and "Anna Schmidt" in people
    assert "PHOTO" in report.entries[0].message  # the photo was skipped, and the owner is told


def test_apple_grouped_properties_and_unsupported_fields(vault: Vault) -> None:
    report = imp(vault, CORPUS / "ios-3.0.vcf")
    claire = by_name(vault)["Claire Dubois"]
    assert claire.emails == ("claire@atelier-dubois.example",)  # type: ignore[attr-defined]
    assert claire.phones == ("+4315123456", "+49407654321")  # type: ignore[attr-defined]
    assert claire.org == "Atelier Dubois, Design"  # type: ignore[attr-defined]
    assert claire.notes == "Met at the trade fair, Hall 3.\nLikes tea."  # type: ignore[attr-defined]
    assert report.entries[0].message == "not imported: ADR, BDAY, PHOTO"


def test_nextcloud_uids_are_kept(vault: Vault) -> None:
    imp(vault, CORPUS / "nextcloud-3.0.vcf")
    imp(vault, CORPUS / "nextcloud-4.0.vcf")
    people = by_name(vault)
    assert people["Karl Becker"].uid == "5a1b2c3d-0000-4e5f-8a9b-0c1d2e3f4a5b"  # type: ignore[attr-defined]
    assert people["Mehmet Yılmaz"].uid == "urn:uuid:0e6c1a52-7d0b-4a58-9a3e-2f7f1c9b1d01"  # type: ignore[attr-defined]
    assert people["Sofia Rossi"].phones == ("+12125550100",)  # type: ignore[attr-defined]


def test_google_csv_multi_values_and_multi_line_notes(vault: Vault) -> None:
    report = imp(vault, CORPUS / "google.csv")
    people = by_name(vault)
    juergen = people["Jürgen Müller"]
    assert juergen.phones == ("+4915123456789", "+49301234567")  # type: ignore[attr-defined]
    assert juergen.notes == "Rechnung März\nbezahlt"  # type: ignore[attr-defined]
    assert people["Dr. Hanna Berg"].emails == ("hanna.berg@example.de", "h.berg@example.com")  # type: ignore[attr-defined]
    assert [e.line for e in report.entries] == [2, 4, 5]  # the first row spans two lines
    assert "Address 1 - Formatted" in report.ignored_columns


def test_outlook_csv_maps_its_columns_and_ignores_the_rest(vault: Vault) -> None:
    report = imp(vault, CORPUS / "outlook.csv")
    peter = by_name(vault)["Peter Klein"]
    assert (peter.org, peter.notes, peter.phones) == (  # type: ignore[attr-defined]
        "Klein KG",
        "Ansprechpartner Einkauf",
        ("+49407654321",),
    )
    assert "Business Fax" in report.ignored_columns and "Assistant's Phone" in report.ignored_columns


def test_german_outlook_csv_with_semicolons_and_bom(vault: Vault) -> None:
    imp(vault, CORPUS / "outlook-de.csv")
    uwe = by_name(vault)["Uwe Krüger"]
    assert (uwe.org, uwe.emails, uwe.phones) == (  # type: ignore[attr-defined]
        "Krüger AG",
        ("uwe.krueger@example.de",),
        ("+49301234567",),
    )


def test_utf16_csv_as_outlook_writes_it(vault: Vault, tmp_path: Path) -> None:
    text = "Name,E-mail Address\r\nZoë Ångström,zoe@example.org\r\n"
    path = write(tmp_path, "unicode.csv", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert imp(vault, path).added == 1
    assert vault.contacts()[0].name == "Zoë Ångström"


# --- preview, matching, merging --------------------------------------------------------------------


def test_dry_run_previews_and_writes_nothing(vault: Vault) -> None:
    vault.add(draft(name="Jürgen M.", emails=("juergen.mueller@example.org",), phones=()))
    audit_before = len(vault.audit_log())
    report = imp(vault, CORPUS / "google.csv", dry_run=True)
    assert report.dry_run and not report.committed
    assert [e.outcome for e in report.entries] == [Outcome.MERGED, Outcome.ADDED, Outcome.ADDED]
    assert report.entries[0].record_id == vault.contacts()[0].id
    assert len(vault) == 1 and len(vault.audit_log()) == audit_before
    assert vault.contacts()[0].phones == ()


def test_a_match_by_email_merges_new_details_and_keeps_the_legal_basis(vault: Vault) -> None:
    existing = vault.add(
        draft(
            name="J. Müller",
            emails=("JUERGEN.MUELLER@example.org",),
            phones=(),
            org="",
            notes="",
            basis=LegalBasis.CONSENT,
            rule="consent",
            trigger=date(2026, 1, 1),
            consent_given=date(2026, 1, 1),
            consent_method="web form",
        )
    )
    report = imp(vault, CORPUS / "google.csv")
    assert report.entries[0].outcome is Outcome.MERGED and report.entries[0].record_id == existing.id
    assert report.entries[0].message == "adds details to a stored contact; rule added: invoices-8y from 2025-03-10"
    merged = vault.get(existing.id)
    assert merged.name == "J. Müller"  # never overwritten
    assert merged.phones == ("+4915123456789", "+49301234567")
    assert (merged.org, merged.notes) == ("Müller & Söhne GmbH", "Rechnung März\nbezahlt")
    assert (merged.basis, merged.rule, merged.meta_version) == (LegalBasis.CONSENT, "consent", 2)
    assert (merged.consent_given, merged.consent_method) == (date(2026, 1, 1), "web form")
    assert merged.duties == (Duty("invoices-8y", TRIGGER),)  # the batch's rule, as a further duty
    assert merged.retention_end is None  # still open-ended: the consent runs until withdrawn
    assert [(a.record_id, a.detail) for a in vault.audit_log(action="updated")] == [(existing.id, "import")]
    assert len(vault) == 3


def test_a_match_by_phone_in_another_spelling_is_skipped(vault: Vault, tmp_path: Path) -> None:
    existing = vault.add(draft(name="Uwe K.", emails=(), phones=("+49 (30) 123 45 67",), org="Krüger AG"))
    path = write(tmp_path, "c.csv", b"Name,Phone,Company\r\nUwe Kr\xc3\xbcger,030/1234567,Kr\xc3\xbcger AG\r\n")
    report = imp(vault, path)
    assert report.entries[0].outcome is Outcome.SKIPPED and report.entries[0].record_id == existing.id
    assert len(vault) == 1


def test_duplicate_uids_in_one_file_become_one_record(vault: Vault, tmp_path: Path) -> None:
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:same-1\r\nFN:Twin One\r\nEMAIL:{}\r\nEND:VCARD\r\n"
    path = write(tmp_path, "twins.vcf", (card.format("one@example.org") + card.format("two@example.org")).encode())
    report = imp(vault, path)
    assert [e.outcome for e in report.entries] == [Outcome.ADDED, Outcome.MERGED]
    assert report.entries[0].record_id == report.entries[1].record_id
    assert [c.emails for c in vault.contacts()] == [("one@example.org", "two@example.org")]


def test_the_batch_rule_needs_its_trigger_date(vault: Vault) -> None:
    with pytest.raises(InvalidInput, match="trigger"):
        vault.import_file(CORPUS / "generic.csv", LegalBasis.CONTRACT, "invoices-8y")
    with pytest.raises(UnknownRule):
        vault.import_file(CORPUS / "generic.csv", LegalBasis.CONTRACT, "no-such-rule", TRIGGER)


def test_consent_batches_record_when_consent_was_given(vault: Vault) -> None:
    with pytest.raises(InvalidInput, match="consent"):  # the trigger is not the day consent was given
        vault.import_file(CORPUS / "generic.csv", LegalBasis.CONSENT, "consent", date(2026, 2, 1))
    assert len(vault) == 0
    vault.import_file(
        CORPUS / "generic.csv", LegalBasis.CONSENT, "consent", consent_given=date(2026, 2, 1), consent_method="web form"
    )
    contact = vault.contacts()[0]
    assert (contact.consent_given, contact.consent_method, contact.trigger) == (
        date(2026, 2, 1),
        "web form",
        date(2026, 2, 1),
    )
    assert (contact.retention_end, contact.review_at) == (None, date(2028, 2, 1))


# --- hostile and broken input ---------------------------------------------------------------------


def test_entry_errors_block_the_whole_import_and_are_reported_per_entry(vault: Vault) -> None:
    report = imp(vault, CORPUS / "broken-mixed.vcf")
    assert not report.committed and len(vault) == 0
    assert vault.audit_log(action="imported") == []
    outcomes = [(e.index, e.line, e.outcome) for e in report.entries]
    assert outcomes == [(1, 1, Outcome.ADDED), (2, 6, Outcome.ERROR), (3, 11, Outcome.ERROR), (4, 16, Outcome.ERROR)]
    messages = [e.message for e in report.errors]
    assert messages[0] == "name: contains control characters"
    assert messages[1].startswith("phone:")
    assert "END:VCARD" in messages[2]
    for error in report.errors:  # never echo the hostile text back
        assert error.name == "" and "\x1b" not in error.message and "Escape" not in error.message


def test_skip_invalid_imports_the_valid_entries_in_one_go(vault: Vault) -> None:
    report = imp(vault, CORPUS / "broken-mixed.vcf", skip_invalid=True)
    assert report.committed and report.added == 1 and len(report.errors) == 3
    assert [c.name for c in vault.contacts()] == ["Good Person"]


def test_invalid_utf8_and_nul_bytes_are_entry_errors_with_lines(vault: Vault) -> None:
    report = imp(vault, CORPUS / "broken-bytes.vcf", skip_invalid=True)
    assert [(e.line, e.message) for e in report.errors] == [
        (1, "not valid UTF-8 text (line 3)"),
        (5, "contains a NUL byte"),
    ]
    assert [c.name for c in vault.contacts()] == ["Fine Person"]


def test_hostile_csv_bytes_nul_and_escapes_are_refused_formulas_are_text(vault: Vault) -> None:
    report = imp(vault, CORPUS / "hostile.csv", skip_invalid=True)
    assert [(e.line, e.message) for e in report.errors] == [
        (4, "not valid UTF-8 text"),  # a stray byte in a UTF-8 file (it has umlauts): not read as Windows-1252
        (5, "contains a NUL byte"),
        (10, "notes: contains control characters"),  # a terminal escape
    ]
    people = by_name(vault)
    assert people["Plain Person"].notes == "multi\nline, with comma"  # type: ignore[attr-defined]
    # Issue 13.16: formula-like cells are text, stored verbatim (the CSV export escapes them).
    assert {'=HYPERLINK("http://evil.example")', "@SUM(1+1)", "-Minus Person"} < set(people)
    assert people["Jürgen Weiß"].notes == "=1+1"  # type: ignore[attr-defined]
    assert all(e.name == "" for e in report.errors)


def test_markup_is_stored_literally(vault: Vault) -> None:
    imp(vault, CORPUS / "markup.vcf")
    contact = vault.contacts()[0]
    assert contact.name == "[@click=app.quit]Click me[/] <script>alert(1)</script>"
    assert contact.notes == "[bold red]not markup[/bold red] & <b>not html</b>"


def test_a_ten_megabyte_photo_is_skipped_without_parsing(vault: Vault, tmp_path: Path) -> None:
    photo = base64.b64encode(b"\xff" * (10 * 1024 * 1024)).decode()
    folded = "\r\n ".join(photo[i : i + 74] for i in range(0, len(photo), 74))
    card = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Big Photo\r\nPHOTO;ENCODING=b;TYPE=JPEG:{folded}\r\nEND:VCARD\r\n"
    unfolded = f"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Long Line\r\nPHOTO;ENCODING=BASE64;JPEG:{photo}\r\n\r\nEND:VCARD\r\n"
    report = imp(vault, write(tmp_path, "photo.vcf", (card + unfolded).encode()))
    assert report.added == 2 and report.errors == ()
    assert {e.message for e in report.entries} == {"not imported: PHOTO"}


def test_a_card_beyond_the_entry_limit_is_an_error_and_the_rest_still_parses(vault: Vault, tmp_path: Path) -> None:
    lines = "".join(f"NOTE:line {i}\r\n" for i in range(30_000))  # deep, long card: over 256 KiB
    huge = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Huge\r\n{lines}END:VCARD\r\n"
    data = huge + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Small\r\nEND:VCARD\r\n"
    report = imp(vault, write(tmp_path, "huge.vcf", data.encode()), skip_invalid=True)
    assert [e.message for e in report.errors] == ["larger than the entry limit"]
    assert [c.name for c in vault.contacts()] == ["Small"]


def test_a_huge_csv_cell_is_an_entry_error(vault: Vault, tmp_path: Path) -> None:
    data = b'Name,Notes\r\nBig,"' + b"x" * (200 * 1024) + b'"\r\nSmall,fine\r\n'
    report = imp(vault, write(tmp_path, "huge.csv", data), skip_invalid=True)
    assert len(report.errors) == 1 and report.errors[0].line == 2
    assert [c.name for c in vault.contacts()] == ["Small"]


def test_notes_over_the_field_limit_are_refused(vault: Vault, tmp_path: Path) -> None:
    data = b"Name,Notes\r\nLong," + b"y" * (100 * 1024) + b"\r\n"
    report = imp(vault, write(tmp_path, "long.csv", data))
    assert [e.message for e in report.errors] == ["notes: is longer than 65536 bytes"]


def test_a_file_over_the_size_limit_is_refused_before_reading(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "big.vcf"
    with path.open("wb") as handle:
        handle.truncate(importers.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ImportRefused, match="larger than 64 MiB"):
        imp(vault, path)


def test_too_many_entries_are_refused(vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importers, "MAX_ENTRIES", 3)
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:P{}\r\nEND:VCARD\r\n"
    with pytest.raises(ImportRefused, match="more than 3 entries"):
        imp(vault, write(tmp_path, "many.vcf", "".join(card.format(i) for i in range(4)).encode()))
    assert len(vault) == 0


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("random.bin", b"\x00\x01\x02\xff" * 100, "neither vCard nor CSV"),
        ("columns.csv", b"Street,City\r\nMain St,Berlin\r\n", "no column"),
        ("empty.csv", b"", "no CSV header"),
    ],
)
def test_files_that_are_no_address_book_are_refused(
    vault: Vault, tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(ImportRefused, match=reason):
        imp(vault, write(tmp_path, name, data))


def test_text_outside_a_vcard_is_reported(vault: Vault, tmp_path: Path) -> None:
    data = b"garbage line\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ok\r\nEND:VCARD\r\n"
    report = imp(vault, write(tmp_path, "junk.vcf", data))
    assert [(e.line, e.message) for e in report.errors] == [(1, "text outside a vCard")]


def test_a_failure_while_writing_leaves_nothing_half_imported(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    existing = vault.add(draft(name="J. Müller", emails=("juergen.mueller@example.org",), phones=()))
    original = vault._book.sealer.seal
    calls = {"n": 0}

    # A crash in the middle of the transaction cannot be caused from outside: fail the third seal.
    def flaky(contact):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("simulated failure")
        return original(contact)

    monkeypatch.setattr(vault._book.sealer, "seal", flaky)
    with pytest.raises(OSError, match="simulated"):
        imp(vault, CORPUS / "google.csv")
    monkeypatch.undo()
    vault.load_contacts()
    assert [c.id for c in vault.contacts()] == [existing.id]
    assert vault.get(existing.id).meta_version == 1
    assert vault.audit_log(action="imported") == []


# --- pure helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("E-mail 1 - Value", "email"),
        ("E-mail 1 - Label", None),
        ("E-Mail-Adresse", "email"),
        ("Mobile Phone", "phone"),
        ("Telefon geschäftlich", "phone"),
        ("Business Fax", None),
        ("Organization Name", "org"),
        ("Organization Title", None),
        ("Vorname", "given"),
        ("Last Name", "family"),
        ("Display Name", "full"),
        ("E-mail Display Name", None),
        ("Birthday", None),
    ],
)
def test_csv_headers_are_classified(header: str, role: str | None) -> None:
    assert importers.classify_header(header) == role


def test_vcard_text_unescaping_keeps_unescaped_commas() -> None:
    assert importers.unescape(r"Müller, Jürgen\, Dr.\nline\;x\\y\q") == "Müller, Jürgen, Dr.\nline;x\\y\\q"
    assert importers.split_unescaped(r"A\;B;C;;", ";") == [r"A\;B", "C", "", ""]


def test_latin1_quoted_printable_and_unknown_charsets(vault: Vault, tmp_path: Path) -> None:
    data = (
        b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
        b"FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen M=FCller\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=X-NONSENSE;ENCODING=QUOTED-PRINTABLE:=FC\r\nEND:VCARD\r\n"
    )
    report = imp(vault, write(tmp_path, "latin1.vcf", data), skip_invalid=True)
    assert [e.message for e in report.errors] == ["not a readable vCard"]
    assert [c.name for c in vault.contacts()] == ["Jürgen Müller"]


def test_a_company_only_entry_is_named_by_its_organisation(vault: Vault, tmp_path: Path) -> None:
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\r\nORG:Pizza Roma\r\nTEL:+49 30 1234567\r\nEND:VCARD\r\n"
    assert imp(vault, write(tmp_path, "org.vcf", data)).added == 1
    assert vault.contacts()[0].name == "Pizza Roma"
