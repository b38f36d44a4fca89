"""The import's bulk paths (issue 15) give exactly what the one-row-at-a-time paths gave.

* Each phone number of an import is parsed once (vault.phonefacts): the answers, and
  the errors, are those of parsing it at every check.
* Control characters are found with one regex: the same characters as Unicode's Cc.
* Rows, audit rows and index buckets are written in bulk, a chunk at a time, inside the
  one transaction (vault.rowbatch): a failure late in the file still leaves nothing,
  and what is written reopens from the index cache without opening a row.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from vault import phonefacts, rowbatch
from vault.book import RecordBook
from vault.errors import InvalidInput
from vault.model import LegalBasis, check_phone, clean_text, normalise_phone
from vault.phonefacts import phones_parsed_once
from vault.service import Vault
from vault.store.repository import SealedRow

NUMBERS = [
    "+49 30 1234567",  # valid
    "030 1234567",  # valid with a default country
    "+49 30 12345678901234",  # too long
    "+49 1",  # too short
    "+49 30 123456",  # possible, maybe not valid
    "+1 202 555 0100",
    "+999 123",  # unknown country code
    "+49 30 1234567 ext. 12",  # an extension
    "no digits",
    "+44 20 7946 0958",
    "0171 1234567",
]


def _answer(check, value: str, region: str):  # type: ignore[no-untyped-def]
    try:
        return check(value, region)
    except InvalidInput as exc:
        return ("refused", str(exc))


@pytest.mark.parametrize("region", ["DE", "GB", "ZZ"])
def test_a_number_parsed_once_gets_the_answers_of_parsing_it_every_time(region: str) -> None:
    plain = [(_answer(check_phone, n, region), _answer(normalise_phone, n, region)) for n in NUMBERS]
    with phones_parsed_once():
        first = [(_answer(check_phone, n, region), _answer(normalise_phone, n, region)) for n in NUMBERS]
        again = [(_answer(normalise_phone, n, region), _answer(check_phone, n, region)) for n in NUMBERS]
    assert first == plain
    assert again == [(b, a) for a, b in plain]


def test_the_phone_memo_stays_small_and_ends_with_its_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phonefacts, "PHONE_MEMO_SIZE", 3)
    with phones_parsed_once():
        answers = [_answer(check_phone, n, "DE") for n in NUMBERS * 2]
        memo = phonefacts._PHONE_MEMO.get()
        assert memo is not None and len(memo) <= 3
    assert phonefacts._PHONE_MEMO.get() is None
    assert answers == [_answer(check_phone, n, "DE") for n in NUMBERS * 2]


def test_control_characters_are_exactly_unicodes_cc() -> None:
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue  # a lone surrogate is no text clean_text is given (it cannot be UTF-8)
        char = chr(code)
        control = unicodedata.category(char) == "Cc"
        for multiline in (False, True):
            refused = control and not (multiline and char in "\n\t")
            try:
                clean_text(f"a{char}b", "notes", 100, multiline=multiline)
            except InvalidInput:
                assert refused, (hex(code), multiline)
            else:
                assert not refused, (hex(code), multiline)


# --- bulk writes ------------------------------------------------------------------------


def _cards(count: int, start: int = 0) -> str:
    return "".join(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-{i}\r\nFN:Person {i}\r\nEMAIL:p{i}@example.org\r\n"
        f"TEL:+49 30 {1000000 + i}\r\nEND:VCARD\r\n"
        for i in range(start, start + count)
    )


def _reopened(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Vault, list[str]]:
    """The vault unlocked afresh, and the ids of the rows unlock had to open one by one."""
    opened: list[str] = []
    absorb = RecordBook.absorb

    def counting(self: RecordBook, rows: Iterable[SealedRow], *, flush: bool = True) -> None:
        rows = list(rows)
        opened.extend(row.id for row in rows)
        absorb(self, rows, flush=flush)

    monkeypatch.setattr(RecordBook, "absorb", counting)
    vault = Vault(path)
    vault.unlock(PASSPHRASE)
    return vault, opened


def test_a_failure_late_in_a_chunked_import_leaves_nothing(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rowbatch, "CHUNK", 7)
    path = tmp_path / "many.vcf"
    path.write_text(_cards(30), encoding="utf-8")
    original = vault._book.sealer.seal
    calls = {"n": 0}

    def flaky(contact):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 26:  # in the fourth chunk: three chunks were written by then
            raise OSError("simulated failure")
        return original(contact)

    monkeypatch.setattr(vault._book.sealer, "seal", flaky)
    with pytest.raises(OSError, match="simulated"):
        vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10))
    assert len(vault) == 0
    assert vault.audit_log(action="imported") == []
    vault.close()
    reopened, opened = _reopened(vault.path, monkeypatch)
    assert (len(reopened), opened, reopened.audit_log(action="imported")) == (0, [], [])
    reopened.close()


def test_a_chunked_import_and_its_merges_reopen_from_the_index_cache(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rowbatch, "CHUNK", 7)
    first, second = tmp_path / "first.vcf", tmp_path / "second.vcf"
    first.write_text(_cards(30), encoding="utf-8")
    second.write_text(_cards(20, start=20), encoding="utf-8")  # 10 known (a later invoice), 10 new
    report = vault.import_file(first, LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10))
    assert (report.added, report.merged) == (30, 0)
    report = vault.import_file(second, LegalBasis.CONTRACT, "invoices-8y", date(2026, 2, 1))
    assert (report.added, report.merged) == (10, 10)
    merged = {e.record_id for e in report.entries if e.record_id and e.duty is not None}
    assert len(merged) == 10
    log = [(e.action, e.record_id) for e in vault.audit_log() if e.action in ("imported", "updated")]
    ids = {c.uid: c.id for c in vault.contacts()}
    imported_first = [("imported", ids[f"card-{i}"]) for i in range(30)]
    assert log[:30] == imported_first  # one row per record, in file order
    assert sorted(log[30:40]) == sorted(("imported", ids[f"card-{i}"]) for i in range(30, 40))
    assert log[40:] == [("updated", ids[f"card-{i}"]) for i in range(20, 30)]
    before = {c.id: c for c in vault.contacts()}
    vault.close()
    reopened, opened = _reopened(vault.path, monkeypatch)
    assert opened == []  # every row is the one its index entry vouches for
    assert {c.id: c for c in reopened.contacts()} == before
    assert all(before[rid].meta_version == 2 and before[rid].duties for rid in merged)
    assert reopened.audit_check().ok
    reopened.close()
