"""Imports of the files people have (issue 13, points 15-17).

15. Encodings (UTF-8 with or without BOM, UTF-16 from Excel, Windows-1252 from a
    German Outlook), delimiters (``,`` ``;`` tab) and the English and German
    headers of Outlook, Google, Apple and Thunderbird exports.
16. A cell that starts like a spreadsheet formula is text: imported verbatim,
    escaped on CSV export; only control characters and invalid UTF-8 are refused.
17. A phone number that is possible but not valid for its country is kept with a
    warning; only one that cannot be a phone number at all is refused.

The files under tests/data/import/ are synthetic: invented people, example.*
domains, and German numbers from the ranges the Bundesnetzagentur keeps for
fiction (030 23125, 040 66969, 069 90009, 0221 4710, 089 99998, 0176 04690).
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import draft
from vault import importers
from vault.errors import InvalidInput
from vault.importers import ImportRefused, Outcome, ParsedEntry, plan_import
from vault.importers.csvfile import excel_separator
from vault.importers.phones import KEPT_WARNING
from vault.model import LegalBasis, check_phone
from vault.service import Vault

CORPUS = Path(__file__).resolve().parent.parent / "data" / "import"
TRIGGER = date(2025, 3, 10)


def imp(vault: Vault, path: Path, **options: object) -> importers.ImportReport:
    return vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", TRIGGER, **options)  # type: ignore[arg-type]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def people(vault: Vault) -> dict[str, object]:
    return {c.name: c for c in vault.contacts()}


# --- 15: encodings ----------------------------------------------------------------------------------


def test_a_german_outlook_export_in_windows_1252_with_semicolons(vault: Vault) -> None:
    path = CORPUS / "outlook-de-1252.csv"
    assert "Müller".encode("cp1252") in path.read_bytes()  # the file really is Windows-1252 ...
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # ... and not UTF-8: this failed with "header line is not readable"
    report = imp(vault, path)
    assert (report.format, report.committed, report.errors) == ("outlook-csv", True, ())
    found = people(vault)
    assert set(found) == {"Jürgen Müller", "Stefanie Anna Weiß", "Bäckerei Groß KG"}  # "Herr"/"Frau" dropped
    juergen = found["Jürgen Müller"]
    assert juergen.emails == ("juergen.mueller@example.de",)  # type: ignore[attr-defined]
    # "Telefon geschäftlich", then "Mobiltelefon"; the assistant's number and the fax are not imported
    assert juergen.phones == ("+493023125456", "+4917604690123")  # type: ignore[attr-defined]
    assert juergen.org == "Müller & Söhne GmbH"  # type: ignore[attr-defined]
    assert juergen.notes == "Rechnung März – bezahlt „pünktlich“, 1.250 €\nBitte nur per E-Mail."  # type: ignore[attr-defined]
    stefanie = found["Stefanie Anna Weiß"]
    assert stefanie.org == "Weiß Design; Büro Süd"  # type: ignore[attr-defined]  # a ";" inside a quoted cell
    assert stefanie.emails == ("stefanie.weiss@example.de", "s.weiss@example.org")  # type: ignore[attr-defined]
    assert stefanie.phones == ("+498999998345",)  # type: ignore[attr-defined]  # "Telefon privat"
    assert found["Bäckerei Groß KG"].phones == ("+492214710234",)  # type: ignore[attr-defined]  # "Telefon Firma"
    for column in ("Telefon Assistent", "Fax geschäftlich", "E-Mail: Angezeigter Name", "Name Assistent", "Position"):
        assert column in report.ignored_columns


def test_excel_unicode_text_is_utf16_with_tabs(vault: Vault) -> None:
    data = (CORPUS / "excel-utf16.txt").read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE) and b"\t\x00" in data
    report = imp(vault, CORPUS / "excel-utf16.txt")
    assert (report.added, report.errors) == (2, ())
    found = people(vault)
    zoe, lukasz = found["Zoë Ångström"], found["Łukasz Żółć"]
    assert (zoe.phones, zoe.org) == (("+46812345678",), "Ångström AB")  # type: ignore[attr-defined]
    assert zoe.notes == "Spricht Schwedisch,\nEnglisch; und Deutsch"  # type: ignore[attr-defined]
    assert (lukasz.phones, lukasz.notes) == (("+494066969812",), "Ελληνικά: γεια σου")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Name,Notiz\r\nJürgen,Grüße\r\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "Name,Notiz\r\nJürgen,Grüße\r\n".encode(), "utf-8"),
        (codecs.BOM_UTF16_LE + "Name,Notiz\r\nJürgen,Grüße\r\n".encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + "Name,Notiz\r\nJürgen,Grüße\r\n".encode("utf-16-be"), "utf-16"),
        ("Name,Notiz\r\nJürgen,Grüße\r\n".encode("utf-16-le"), "utf-16-le"),  # no BOM
        (codecs.BOM_UTF32_LE + "Name,Notiz\r\nJürgen,Grüße\r\n".encode("utf-32-le"), "utf-32"),
        ("Name,Notiz\r\nJürgen,Grüße – 5 €\r\n".encode("cp1252"), "cp1252"),
    ],
)
def test_the_encoding_is_detected(data: bytes, encoding: str) -> None:
    text, found = importers.decode_csv(data)
    assert found == encoding
    assert text.lstrip("\ufeff").startswith("Name,Notiz\r\nJürgen,Grüße")


def test_a_utf8_file_with_a_stray_byte_stays_utf8_and_only_that_row_is_an_error(vault: Vault, tmp_path: Path) -> None:
    data = "Name,E-mail\r\nJürgen Weiß,jw@example.org\r\n".encode() + b"Bad \xfc Byte,bad@example.org\r\n"
    text, encoding = importers.decode_csv(data)
    assert encoding == "utf-8" and "Jürgen Weiß" in text
    report = imp(vault, write(tmp_path, "stray.csv", data), skip_invalid=True)
    assert [(e.line, e.message) for e in report.errors] == [(3, "not valid UTF-8 text")]
    assert [c.name for c in vault.contacts()] == ["Jürgen Weiß"]


def test_a_file_windows_1252_does_not_define_is_not_guessed(vault: Vault, tmp_path: Path) -> None:
    data = b"Name,E-mail\r\nBad \x81\x8d Bytes,bad@example.org\r\nFine,fine@example.org\r\n"  # 0x81, 0x8D: undefined
    assert importers.decode_csv(data)[1] == "utf-8"
    report = imp(vault, write(tmp_path, "undefined.csv", data), skip_invalid=True)
    assert [(e.line, e.message) for e in report.errors] == [(2, "not valid UTF-8 text")]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("russian.csv", "Имя,Фамилия,Улица\r\nИван,Петров,Ленина 1\r\n".encode()),  # UTF-8, unknown language
        ("russian-1251.csv", "Имя;Фамилия;Телефон\r\nИван;Петров;+7 495 1234567\r\n".encode("cp1251")),
        ("japanese.csv", "名前,電話\r\n山田,03-1234-5678\r\n".encode("shift_jis")),
    ],
)
def test_a_header_in_an_unknown_language_or_encoding_is_not_readable(
    vault: Vault, tmp_path: Path, name: str, data: bytes
) -> None:
    with pytest.raises(ImportRefused, match="the CSV header line is not readable"):
        imp(vault, write(tmp_path, name, data))
    assert len(vault) == 0


# --- 15: delimiters ----------------------------------------------------------------------------------


def test_a_tab_separated_file_with_commas_and_semicolons_in_cells(vault: Vault, tmp_path: Path) -> None:
    data = (
        "Name\tE-Mail\tTelefon\tNotizen\r\n"
        "Erika Muster, Dr.\terika@example.org\t030 23125 451\tja; nein, vielleicht\r\n"
    )
    assert importers.sniff_delimiter(data) == "\t"
    imp(vault, write(tmp_path, "tabs.tsv.csv", data.encode()))
    (erika,) = vault.contacts()
    assert (erika.name, erika.phones, erika.notes) == ("Erika Muster, Dr.", ("+493023125451",), "ja; nein, vielleicht")


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ('Name,Notes\r\n"Weiß; Stefanie","a;b;c;d;e"\r\n"Groß; Otto","f;g;h"\r\n', ","),  # ';' only inside quotes
        ('Name;Notes\r\n"Weiß, Stefanie";"a,b,c,d,e"\r\n"Groß, Otto";"f,g"\r\n', ";"),  # ',' only inside quotes
        ("Name;E-Mail;Telefon\r\nA, B;a@example.org;1\r\n", ";"),  # an unquoted ',' in a cell
        ("Name\tE-mail\r\nA;B,C\ta@example.org\r\n", "\t"),
        ('"E-Mail; privat; dienstlich",Name\r\nanna@example.org,Anna\r\n', ","),  # more ';' than ',' in the header
        ("Name\r\nAnna\r\n", ","),  # one column: the comma, as before
    ],
)
def test_the_delimiter_is_detected(text: str, delimiter: str) -> None:
    assert importers.sniff_delimiter(text) == delimiter


def test_a_semicolon_file_with_commas_inside_quoted_fields(vault: Vault, tmp_path: Path) -> None:
    data = 'Vorname;Nachname;Notizen;E-Mail-Adresse\r\nOtto;Groß;"Rechnung 1, 2; 3";otto@example.de\r\n'
    report = imp(vault, write(tmp_path, "semi.csv", data.encode()))
    assert report.errors == ()
    (otto,) = vault.contacts()
    assert (otto.name, otto.notes, otto.emails) == ("Otto Groß", "Rechnung 1, 2; 3", ("otto@example.de",))


def test_excel_sep_line_names_the_delimiter(vault: Vault, tmp_path: Path) -> None:
    data = "sep=;\r\nName;E-mail\r\nA, B;ab@example.org\r\n"
    assert excel_separator(data) == ";"
    report = imp(vault, write(tmp_path, "sep.csv", data.encode()))
    assert [(e.line, e.name) for e in report.entries] == [(3, "A, B")]


# --- 15: headers ----------------------------------------------------------------------------------


def test_thunderbird_exports_in_english_and_german(vault: Vault) -> None:
    imp(vault, CORPUS / "thunderbird.csv")
    de = imp(vault, CORPUS / "thunderbird-de.csv")
    found = people(vault)
    olivia = found["Olivia Bennett"]
    assert (olivia.emails, olivia.phones, olivia.org) == (  # type: ignore[attr-defined]
        ("olivia.bennett@example.co.uk",),
        ("+442079460958",),  # "Work Phone"; "Fax Number" is not imported
        "Bennett Press",
    )
    mehmet = found["Mehmet Yılmaz"]
    assert mehmet.emails == ("mehmet.yilmaz@example.de", "memo@example.org")  # type: ignore[attr-defined]
    assert mehmet.phones == ("+494066969813", "+491713920012")  # type: ignore[attr-defined]  # Tel. dienstlich, Mobil-Tel.-Nr.
    assert mehmet.notes == "Termine nur vormittags"  # type: ignore[attr-defined]
    assert {"Arbeitstitel", "Fax-Nummer", "Spitzname", "Geburtstag"} <= set(de.ignored_columns)


def test_apple_exports_in_english_and_german(vault: Vault) -> None:
    imp(vault, CORPUS / "apple.csv")
    de = imp(vault, CORPUS / "apple-de.csv")
    found = people(vault)
    claire, anna = found["Claire Dubois"], found["Anna Schmidt-Lüdenscheidt"]
    assert (claire.phones, claire.notes) == (("+33123456789",), "Likes tea.")  # type: ignore[attr-defined]
    assert (anna.emails, anna.phones, anna.org) == (  # type: ignore[attr-defined]
        ("anna@schmidt-grafik.example",),
        ("+493023125457",),
        "Schmidt Grafik",
    )
    assert de.ignored_columns == ("Berufsbezeichnung", "Fax (privat)")


@pytest.mark.parametrize(
    ("header", "role"),
    [
        # Outlook (de)
        ("Anrede", "prefix"),
        ("Weitere Vornamen", "middle"),
        ("Telefon geschäftlich 2", "phone"),
        ("Haupttelefon", "phone"),
        ("Autotelefon", "phone"),
        ("Telefon Assistent", None),
        ("Fax privat", None),
        ("E-Mail-Typ", None),
        ("E-Mail: Angezeigter Name", None),
        ("E-Mail 2: Adresse", "email"),
        ("Name des/der Vorgesetzten", None),
        ("Organisations-Nr.", None),
        ("Telex", None),
        ("Straße geschäftlich", None),
        # Outlook (en)
        ("E-mail 2 Address", "email"),
        ("Assistant's Phone", None),
        ("Given Yomi", None),
        # Google
        ("Phonetic First Name", None),
        ("Phone 2 - Value", "phone"),
        ("Organization Title", None),
        ("Labels", None),
        ("Zweiter Vorname", "middle"),
        ("Telefon 1 - Wert", "phone"),
        # Thunderbird
        ("Primary Email", "email"),
        ("Mobile Number", "phone"),
        ("Pager Number", None),
        ("Screen Name", None),
        ("Anzeigename", "full"),
        ("Primäre E-Mail-Adresse", "email"),
        ("Tel. dienstlich", "phone"),
        ("Mobil-Tel.-Nr.", "phone"),
        ("Arbeitstitel", None),
        ("Fax-Nummer", None),
        # Apple
        ("Email (work)", "email"),
        ("Phone (iPhone)", "phone"),
        ("Phone (home fax)", None),
        ("Telefon (mobil)", "phone"),
        ("Notiz", "notes"),
        ("Job title", None),
        # others
        ("Handynummer", "phone"),
        ("Titel", "prefix"),
        ("Mailing Address", None),
    ],
)
def test_headers_of_the_usual_exports_are_classified(header: str, role: str | None) -> None:
    assert importers.classify_header(header) == role


def test_decomposed_umlauts_in_headers_are_recognised() -> None:
    assert importers.classify_header(unicodedata.normalize("NFD", "Primäre E-Mail-Adresse")) == "email"
    assert importers.classify_header(unicodedata.normalize("NFD", "Vollständiger Name")) == "full"


# --- 16: formula-like cells are text --------------------------------------------------------------


def test_a_hyperlink_note_is_imported_verbatim_and_escaped_on_csv_export(vault: Vault, tmp_path: Path) -> None:
    report = imp(vault, CORPUS / "google-formula.csv")
    assert (report.committed, report.errors) == (True, ())
    found = people(vault)
    haruka, tobias = found["Haruka Sato"], found["Tobias Klein"]
    note = '=HYPERLINK("https://crm.example.org/4711";"Akte 4711")'
    assert haruka.notes == note  # type: ignore[attr-defined]
    assert haruka.phones == ("+4915228817386",)  # type: ignore[attr-defined]  # the phonetic names are no phones
    assert tobias.notes == "@Tobias: Angebot schicken\n-- zweite Zeile"  # type: ignore[attr-defined]
    assert tobias.org == "+Plus Werbung GmbH"  # type: ignore[attr-defined]
    out = vault.export_person([haruka.id, tobias.id], tmp_path / "answer").out_dir  # type: ignore[attr-defined]
    text = (out / "contacts.csv").read_text(encoding="utf-8-sig")
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    assert rows["Haruka Sato"]["notes"] == "'" + note  # a spreadsheet shows it, never runs it
    assert rows["Tobias Klein"]["notes"] == "'@Tobias: Angebot schicken\n-- zweite Zeile"
    assert rows["Tobias Klein"]["organisation"] == "'+Plus Werbung GmbH"


def test_formula_like_names_from_csv_and_vcard_are_the_same_text(vault: Vault, tmp_path: Path) -> None:
    csv_file = write(tmp_path, "f.csv", b'Name,E-mail\r\n"=1+1",one@example.org\r\n')
    vcf_file = write(
        tmp_path, "f.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:=2+2\r\nEMAIL:two@example.org\r\nEND:VCARD\r\n"
    )
    assert imp(vault, csv_file).added == 1 and imp(vault, vcf_file).added == 1
    assert sorted(c.name for c in vault.contacts()) == ["=1+1", "=2+2"]


def test_control_characters_in_a_formula_like_note_are_still_refused(vault: Vault, tmp_path: Path) -> None:
    data = b'Name,Notes\r\nA,"=HYPERLINK(\x1b]8;;x\x07)"\r\nB,"=ok"\r\n'
    report = imp(vault, write(tmp_path, "esc.csv", data))
    assert not report.committed and len(vault) == 0
    assert [(e.line, e.message, e.name) for e in report.errors] == [(2, "notes: contains control characters", "")]


# --- 17: phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "region", "result"),
    [
        ("030 23125 456", "DE", ("+493023125456", True)),
        ("0171 392001", "DE", ("+49171392001", False)),  # a digit missing: possible, not valid
        ("+49 171 392001", "ZZ", ("+49171392001", False)),
        ("+49 123 456789", "DE", ("+49123456789", False)),  # no such area code
        ("0664 123456", "AT", ("+43664123456", True)),
    ],
)
def test_check_phone_tells_valid_from_possible(value: str, region: str, result: tuple[str, bool]) -> None:
    assert check_phone(value, region) == result


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("12", "phone: not a phone number (too short, or the area code is missing)"),
        ("+49 30 1234567 89012345", "phone: not a phone number (too long)"),
        ("ruf mich an", "phone: not a phone number"),
        ("030 23125 456 ext. 12", "phone: extensions cannot be stored"),
        ("+999 12345", "phone: not a phone number"),
    ],
)
def test_check_phone_refuses_what_cannot_be_a_phone_number(value: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_phone(value, "DE")
    assert str(caught.value).startswith(says)


def test_a_possible_but_invalid_phone_is_kept_with_a_warning(vault: Vault, tmp_path: Path) -> None:
    data = "Name,Phone,E-mail\r\nMia Vertipper,+49 171 392001,mia@example.org\r\nOle Fine,+49 30 23125 452,\r\n"
    path = write(tmp_path, "typo.csv", data.encode())
    report = imp(vault, path)
    assert (report.committed, report.errors) == (True, ())
    assert [(e.outcome, e.message) for e in report.entries] == [(Outcome.ADDED, KEPT_WARNING), (Outcome.ADDED, "")]
    assert "+49" not in report.entries[0].message  # the warning never echoes the number
    mia = people(vault)["Mia Vertipper"]
    assert mia.phones == ("+49171392001",)  # type: ignore[attr-defined]  # the digits as typed, in E.164
    again = imp(vault, path)  # the kept number matches on a re-import: no duplicate
    assert (again.added, again.skipped) == (0, 2)


def test_an_impossible_phone_is_refused_per_entry(vault: Vault, tmp_path: Path) -> None:
    data = (
        "Name,Phone\r\n"
        "Too Short,+49 12\r\n"
        "Too Long,+49 30 1234567 89012345\r\n"
        "No Digits,ruf mich an\r\n"
        "Kept,+49 171 392001\r\n"
    )
    path = write(tmp_path, "bad.csv", data.encode())
    report = imp(vault, path)
    assert not report.committed and len(vault) == 0  # one bad entry blocks the import, as before
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "phone: not a phone number (too short, or the area code is missing)"),
        (3, "phone: not a phone number (too long)"),
        (4, "phone: not a phone number"),
    ]
    report = imp(vault, path, skip_invalid=True)
    assert [c.name for c in vault.contacts()] == ["Kept"]


def test_other_fields_are_named_before_a_refused_phone(vault: Vault, tmp_path: Path) -> None:
    path = write(tmp_path, "both.csv", b"Name,E-mail,Phone\r\nBoth Bad,not-an-address,12\r\n")
    (error,) = imp(vault, path).errors
    assert error.message.startswith("e-mail: not a valid address")


def test_two_kept_phones_and_a_merge_into_a_stored_contact(vault: Vault, tmp_path: Path) -> None:
    stored = vault.add(draft(name="Mia V.", emails=("mia@example.org",), phones=("+49 30 23125 453",)))
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mia Vertipper\r\nEMAIL:mia@example.org\r\n"
        "TEL;TYPE=CELL:+49 171 392001\r\nTEL;TYPE=WORK:+49 123 456789\r\nEND:VCARD\r\n"
    )
    report = imp(vault, write(tmp_path, "mia.vcf", card.encode()))
    (entry,) = report.entries
    assert entry.outcome is Outcome.MERGED and entry.record_id == stored.id
    assert "2 phones kept as typed, not valid numbers for their country: check them" in entry.message
    assert vault.get(stored.id).phones == ("+493023125453", "+49171392001", "+49123456789")
    # A later import merging into the contact keeps the kept numbers (they are not refused again).
    more = write(tmp_path, "more.csv", b"Name,E-mail,Phone\r\nMia,mia@example.org,+49 30 23125 454\r\n")
    assert imp(vault, more).entries[0].outcome is Outcome.MERGED
    assert vault.get(stored.id).phones[-1] == "+493023125454"


def test_a_national_number_is_kept_in_the_vaults_region_and_never_guessed(vault: Vault) -> None:
    entry = ParsedEntry(1, 2, name="Mia Vertipper", phones=("0171 392001",))

    def plan(region: str | None) -> importers.ImportPlan:
        return plan_import("f.csv", "csv", [entry], [], basis=LegalBasis.CONTRACT, rule="invoices-8y",
                           trigger=TRIGGER, source="test", validate=vault._validated, rules=vault.rules,
                           region=region)  # fmt: skip

    kept = plan("DE")
    assert [(e.outcome, e.message) for e in kept.entries] == [(Outcome.ADDED, KEPT_WARNING)]
    assert kept.new[0].phones == ("+49171392001",)
    # Without the region a national number is left to the vault's own check (which refuses it):
    # "0171 392001" read in the wrong country would be a wrong number.
    unknown = plan(None)
    assert [e.message for e in unknown.entries] == ["phone: not a valid phone number for its country"]
    short = replace(entry, phones=("12",))
    refused = plan_import("f.csv", "csv", [short], [], basis=LegalBasis.CONTRACT, rule="invoices-8y", trigger=TRIGGER,
                          source="test", validate=vault._validated, rules=vault.rules, region="DE")  # fmt: skip
    assert [e.message for e in refused.entries] == [
        "phone: not a phone number (too short, or the area code is missing)"
    ]


def test_the_form_and_cli_still_refuse_an_invalid_number(vault: Vault) -> None:
    with pytest.raises(InvalidInput, match="not a valid phone number for its country"):
        vault.add(draft(phones=("+49 171 392001",)))


def test_a_mistyped_national_number_is_kept_through_the_vault(vault: Vault, tmp_path: Path) -> None:
    """The vault passes its own default region: "0171 392001" (a digit short) is kept, with a warning."""
    path = tmp_path / "mistyped.vcf"
    path.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Tippfehler Test\r\nTEL:0171 392001\r\nEND:VCARD\r\n")
    report = vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10))
    assert report.added == 1, [e.message for e in report.entries]
    assert "check it" in report.entries[0].message
    (contact,) = vault.contacts()
    assert contact.phones and contact.phones[0].startswith("+49171")
