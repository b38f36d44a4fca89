"""Issue 13.8: a folder of .vcf files (a vdir, as khard and vdirsyncer keep one) is one import batch."""

from __future__ import annotations

import itertools
import os
from datetime import date
from pathlib import Path

import pytest

from vault import importers
from vault.importers import FolderRefused, ImportRefused, Outcome
from vault.model import LegalBasis
from vault.service import Vault

TRIGGER = date(2025, 3, 10)
NUMBERS = itertools.count(10000)  # a phone number of its own for every contact written


def imp(vault: Vault, path: Path, **options: object) -> importers.ImportReport:
    return vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", TRIGGER, **options)  # type: ignore[arg-type]


def khard_card(uid: str, given: str, family: str, email: str = "", phone: str = "") -> str:
    """A vCard as khard writes it (vobject's serialisation of vCard 3.0) into ``<uid>.vcf``."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "PRODID:-//PYVOBJECT//NONSGML Version 1//EN",
        f"UID:{uid}",
        *([f"EMAIL;TYPE=home:{email}"] if email else []),
        f"FN:{given} {family}",
        f"N:{family};{given};;;",
        *([f"TEL;TYPE=cell:{phone}"] if phone else []),
        "END:VCARD",
    ]
    return "\r\n".join(lines) + "\r\n"


def vdir(folder: Path, *people: tuple[str, str, str]) -> Path:
    """A khard address book: one ``<uid>.vcf`` per contact."""
    folder.mkdir(parents=True, exist_ok=True)
    for uid, given, family in people:
        email = f"{given.lower()}@{family.lower()}.example"
        card = khard_card(uid, given, family, email, f"+49 171 23{next(NUMBERS):05d}")
        (folder / f"{uid}.vcf").write_text(card, encoding="utf-8")
    return folder


KHARD = (
    ("c3f1a2b4-0001", "Anna", "Schmidt"),
    ("07d2e9aa-0002", "Bernd", "Becker"),
    ("a9b8c7d6-0003", "Chloé", "Weiß"),
)

BAD_EMAIL = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad-1\r\nFN:Bad Mail\r\nEMAIL:broken\r\nEND:VCARD\r\n"


def outcomes(report: importers.ImportReport) -> list[tuple[str, str]]:
    return [(e.file, e.outcome.value) for e in report.entries]


# --- what a folder is ---------------------------------------------------------------------------


def test_a_khard_vdir_is_imported_as_one_batch_in_sorted_order(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", *KHARD)
    report = imp(vault, book)
    assert report.committed and report.folder and report.format == "vcard" and report.file_name == "contacts"
    assert outcomes(report) == [(f"{uid}.vcf", "added") for uid in sorted(uid for uid, _, _ in KHARD)]
    assert [e.index for e in report.entries] == [1, 2, 3]
    stored = vault.contacts()
    assert sorted(c.name for c in stored) == ["Anna Schmidt", "Bernd Becker", "Chloé Weiß"]
    # One basis and rule for the batch, exactly as for one file; the UIDs stay for the next import.
    assert {(c.basis, c.rule, c.trigger) for c in stored} == {(LegalBasis.CONTRACT, "invoices-8y", TRIGGER)}
    assert {c.uid for c in stored} == {uid for uid, _, _ in KHARD}
    assert {c.source for c in stored} == {"import of the folder contacts on 2026-06-15"}


def test_reimporting_the_folder_adds_nobody_twice(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", *KHARD)
    imp(vault, book)
    again = imp(vault, book)
    assert again.added == 0 and again.skipped == 3 and len(vault) == 3


def test_the_preview_writes_nothing_and_numbers_entries_as_the_import_does(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", *KHARD)
    preview = imp(vault, book, dry_run=True)
    assert preview.dry_run and not preview.committed and len(vault) == 0
    done = imp(vault, book)
    assert [(e.index, e.file, e.outcome) for e in done.entries] == [
        (e.index, e.file, e.outcome) for e in preview.entries
    ]


def test_collections_of_a_vdirsyncer_storage_are_read_one_level_down(vault: Vault, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    vdir(storage / "work", ("w-2", "Bernd", "Becker"))
    vdir(storage / "personal", ("p-1", "Anna", "Schmidt"))
    vdir(storage / "personal" / "deeper", ("d-3", "Deep", "Down"))  # two levels down: not a collection
    (storage / "top.vcf").write_text(khard_card("t-4", "Top", "Level"), encoding="utf-8")
    report = imp(vault, storage)
    assert outcomes(report) == [("personal/p-1.vcf", "added"), ("top.vcf", "added"), ("work/w-2.vcf", "added")]
    assert "Deep Down" not in {c.name for c in vault.contacts()}


def test_the_same_person_in_two_collections_becomes_one_record(vault: Vault, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    vdir(storage / "a", ("same-uid", "Anna", "Schmidt"))
    (storage / "b").mkdir()
    (storage / "b" / "same-uid.vcf").write_text(
        khard_card("same-uid", "Anna", "Schmidt", "anna@other.example"), encoding="utf-8"
    )
    report = imp(vault, storage)
    assert [e.outcome for e in report.entries] == [Outcome.ADDED, Outcome.MERGED]
    assert "an earlier entry of this folder" in report.entries[1].message
    (anna,) = vault.contacts()
    assert set(anna.emails) == {"anna@schmidt.example", "anna@other.example"}


def test_hidden_files_and_folders_and_other_names_are_skipped(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", ("good-1", "Anna", "Schmidt"))
    hidden = vdir(book / ".vdirsyncer", ("hidden-1", "Hidden", "Folder"))
    (hidden / "status.vcf").write_text("not even a vCard")
    (book / ".hidden.vcf").write_text(khard_card("hidden-2", "Hidden", "File"), encoding="utf-8")
    (book / "good-2.vcf.tmp").write_text(khard_card("tmp-3", "Half", "Written"), encoding="utf-8")
    (book / ".displayname").write_text("Contacts")
    (book / "notes.txt").write_text("shopping list")
    report = imp(vault, book)
    assert outcomes(report) == [("good-1.vcf", "added")]
    assert [c.name for c in vault.contacts()] == ["Anna Schmidt"]


def test_upper_case_vcf_names_are_read(vault: Vault, tmp_path: Path) -> None:
    book = tmp_path / "phone"
    book.mkdir()
    (book / "ANNA.VCF").write_text(khard_card("u-1", "Anna", "Schmidt"), encoding="utf-8")
    assert outcomes(imp(vault, book)) == [("ANNA.VCF", "added")]


# --- links --------------------------------------------------------------------------------------


def test_a_link_out_of_the_folder_is_not_followed(vault: Vault, tmp_path: Path) -> None:
    outside = vdir(tmp_path / "elsewhere", ("out-1", "Other", "Book"))
    book = vdir(tmp_path / "contacts", ("good-1", "Anna", "Schmidt"))
    (book / "stolen.vcf").symlink_to(outside / "out-1.vcf")
    (book / "linked").symlink_to(outside, target_is_directory=True)
    report = imp(vault, book)
    assert not report.committed and len(vault) == 0
    assert [(e.file, e.message) for e in report.errors] == [
        ("linked", "linked: a link that leads out of the folder; not followed"),
        ("stolen.vcf", "stolen.vcf: a link that leads out of the folder; not followed"),
    ]
    rest = imp(vault, book, skip_invalid=True)
    assert rest.committed and [c.name for c in vault.contacts()] == ["Anna Schmidt"]


def test_a_link_inside_the_folder_is_read_once(vault: Vault, tmp_path: Path) -> None:
    book = tmp_path / "contacts"
    book.mkdir()
    # No UID, e-mail or phone: only reading the file once keeps this person from coming in twice.
    (book / "a.vcf").write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Only Name\r\nEND:VCARD\r\n")
    (book / "b.vcf").symlink_to("a.vcf")
    (book / "collection").symlink_to(book, target_is_directory=True)  # a loop: not entered
    report = imp(vault, book)
    assert outcomes(report) == [("a.vcf", "added")] and len(vault) == 1


# --- problems -----------------------------------------------------------------------------------


def test_a_bad_file_is_named_and_nothing_is_imported_unless_the_rest_is_asked_for(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", *KHARD)
    (book / "bad-1.vcf").write_text(BAD_EMAIL)
    report = imp(vault, book)
    assert not report.committed and len(vault) == 0
    (error,) = report.errors
    assert error.file == "bad-1.vcf" and error.line == 1
    assert error.message.startswith("bad-1.vcf: e-mail: ")
    rest = imp(vault, book, skip_invalid=True)
    assert rest.committed and rest.added == 3 and len(rest.errors) == 1 and len(vault) == 3


def test_the_line_of_a_problem_is_counted_in_its_own_file(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", ("a-1", "Anna", "Schmidt"))
    (book / "b-two.vcf").write_text(khard_card("b-2", "Bernd", "Becker") + BAD_EMAIL)
    report = imp(vault, book)
    (error,) = report.errors
    assert (error.file, error.index, error.line) == ("b-two.vcf", 3, 8)  # b-two's second card, its line 8


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not a vCard"),
        (b"Name,E-mail\r\nAnna,anna@example.org\r\n", "not a vCard"),
        (b"\x00\x01\x02\xff" * 50, "not a vCard"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut off\r\n", "the file ends inside a vCard (no END:VCARD)"),
    ],
    ids=["empty", "csv", "binary", "cut-off"],
)
def test_a_vcf_that_is_no_vcard_is_a_problem_of_its_own(
    vault: Vault, tmp_path: Path, content: bytes, problem: str
) -> None:
    book = vdir(tmp_path / "contacts", ("a-1", "Anna", "Schmidt"))
    (book / "odd.vcf").write_bytes(content)
    report = imp(vault, book)
    assert [e.message for e in report.errors] == [f"odd.vcf: {problem}"] and len(vault) == 0


def test_a_dangling_link_and_a_fifo_are_problems_not_hangs(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", ("a-1", "Anna", "Schmidt"))
    (book / "gone.vcf").symlink_to(book / "deleted.vcf")
    os.mkfifo(book / "pipe.vcf")  # opening it would wait for a writer forever
    report = imp(vault, book)
    assert [e.message for e in report.errors] == [
        "gone.vcf: No such file or directory",
        "pipe.vcf: not a file",
    ]
    assert len(vault) == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_a_problem(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", ("a-1", "Anna", "Schmidt"))
    locked = book / "locked.vcf"
    locked.write_text(khard_card("l-2", "Locked", "Out"), encoding="utf-8")
    locked.chmod(0)
    report = imp(vault, book)
    assert [e.message for e in report.errors] == ["locked.vcf: Permission denied"]


def test_a_file_name_that_is_not_utf8_is_a_problem_shown_printably(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", ("a-1", "Anna", "Schmidt"))
    try:
        (book / os.fsdecode(b"M\xfcller.vcf")).write_text(khard_card("m-2", "Jürgen", "Müller"), encoding="utf-8")
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    report = imp(vault, book)
    (error,) = report.errors
    assert error.file == "M\ufffdller.vcf"
    assert error.message == "M\ufffdller.vcf: the file name is not valid UTF-8; rename the file"
    error.message.encode("utf-8")  # printable and JSON-safe: no lone surrogate
    assert len(vault) == 0
    imp(vault, book, skip_invalid=True)
    assert [c.name for c in vault.contacts()] == ["Anna Schmidt"]


# --- refused folders and limits --------------------------------------------------------------------


def test_an_empty_folder_is_refused(vault: Vault, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FolderRefused, match=r"This folder cannot be imported.*no \.vcf file in this folder"):
        imp(vault, empty)


def test_a_folder_without_vcf_files_is_refused(vault: Vault, tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    (folder / ".hidden").mkdir(parents=True)
    (folder / ".hidden" / "a.vcf").write_text(khard_card("h-1", "Hidden", "Away"), encoding="utf-8")
    (folder / "contacts.csv").write_text("Name\r\nAnna\r\n")
    with pytest.raises(FolderRefused, match=r"no \.vcf file"):
        imp(vault, folder)
    assert len(vault) == 0


def test_a_folder_is_refused_as_an_import_refusal(vault: Vault, tmp_path: Path) -> None:
    """Callers that catch ImportRefused (a file) catch a refused folder too."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportRefused):
        imp(vault, tmp_path / "empty")


def test_a_folder_over_the_total_limit_is_refused_before_reading(vault: Vault, tmp_path: Path) -> None:
    book = tmp_path / "huge"
    book.mkdir()
    each = importers.MAX_FILE_BYTES - 1  # every file within its own limit
    for i in range(importers.MAX_FOLDER_BYTES // each + 1):
        with (book / f"{i}.vcf").open("wb") as handle:
            handle.truncate(each)  # sparse: costs no disk, and reading it would take long
    with pytest.raises(FolderRefused, match=r"larger than 256 MiB in all"):
        imp(vault, book)


def test_a_file_over_its_own_limit_is_a_problem_of_that_file(vault: Vault, tmp_path: Path) -> None:
    book = vdir(tmp_path / "contacts", ("a-1", "Anna", "Schmidt"))
    with (book / "big.vcf").open("wb") as handle:
        handle.truncate(importers.MAX_FILE_BYTES + 1)
    report = imp(vault, book)
    assert [e.message for e in report.errors] == ["big.vcf: larger than 64 MiB"]
    assert imp(vault, book, skip_invalid=True).added == 1


def test_the_entry_limit_counts_every_file_of_the_folder(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "MAX_ENTRIES", 3)
    book = tmp_path / "contacts"
    book.mkdir()
    for name in ("a", "b"):  # two cards each: every file within the limit, the folder not
        cards = khard_card(f"{name}-1", name.upper(), "One") + khard_card(f"{name}-2", name.upper(), "Two")
        (book / f"{name}.vcf").write_text(cards, encoding="utf-8")
    with pytest.raises(FolderRefused, match="more than 3 entries"):
        imp(vault, book, skip_invalid=True)
    assert len(vault) == 0


def test_the_file_count_limit_is_checked_before_reading(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "MAX_FOLDER_FILES", 2)
    book = vdir(tmp_path / "contacts", *KHARD)
    with pytest.raises(FolderRefused, match=r"more than 2 \.vcf files"):
        imp(vault, book)


def test_a_folder_that_grows_while_it_is_read_is_refused(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = vdir(tmp_path / "contacts", ("a-1", "Anna", "Schmidt"), ("b-2", "Bernd", "Becker"))
    monkeypatch.setattr(importers, "MAX_FOLDER_BYTES", 1000)
    reading = importers.read_folder(book)  # listed within the limit...
    with (book / "b-2.vcf").open("a") as grown:
        grown.write("NOTE:" + "x" * 1000 + "\r\n")  # ...and larger when its turn comes
    with pytest.raises(FolderRefused, match="larger than 0 MiB in all"):
        list(reading.entries())


def test_one_file_over_the_entry_limit_refuses_the_folder(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "MAX_ENTRIES", 3)
    book = tmp_path / "contacts"
    book.mkdir()
    (book / "all.vcf").write_text("".join(khard_card(f"u-{i}", "P", str(i)) for i in range(5)), encoding="utf-8")
    with pytest.raises(FolderRefused, match=r"This folder cannot be imported.*more than 3 entries"):
        imp(vault, book, skip_invalid=True)
