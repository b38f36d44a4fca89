"""The import's faster, streaming paths (issue 15) give exactly what the slow ones gave.

* vCard content lines are read with vobject's own line grammar instead of its
  ContentLine objects; quoted-printable lines still go through ContentLine.
  A property test holds the two to the same names and values.
* Entries stream from the parser through the planner, validated and checked
  against the suppression list a chunk at a time: an entry past the first
  chunk is still caught, and a later duplicate still merges into an earlier one.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import draft
from vault.importers import plan as planning
from vault.importers import read_entries
from vault.importers.reading import stream_entries
from vault.importers.vcard import _content_lines, _logical_lines, split_unescaped, unescape
from vault.model import LegalBasis
from vault.service import Vault


def _slow_content_lines(text: str) -> list[tuple[str, str]]:
    """The parser before issue 15: a vobject ContentLine for every line."""
    out = []
    for logical, number in vobject.base.getLogicalLines(io.StringIO(text), True):
        line = vobject.base.textLineToContentLine(logical, number)
        name = str(line.name).upper()
        if name not in ("BEGIN", "END"):
            out.append((name, line.value))
    return out


def _outcome(parse, text: str):  # type: ignore[no-untyped-def]
    try:
        return list(parse(text))
    except Exception:  # the importer turns any error into "not a readable vCard": which one does not matter
        return "unreadable"


NAMES = st.sampled_from(["FN", "fn", "N", "EMAIL", "item1.EMAIL", "TEL", "X-FOO", "ORG", "NOTE", "a_b", "BAD NAME"])
PARAMS = st.sampled_from(
    [
        "",
        ";TYPE=work",
        ";type=HOME,pref",
        ';TYPE="a:b;c"',
        ";CHARSET=UTF-8",
        ";ENCODING=QUOTED-PRINTABLE",
        ";encoding=quoted-printable",
        ";QUOTED-PRINTABLE",
        ";CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE",
        ";PREF",
        ";X=",
    ]
)
VALUES = st.lists(st.sampled_from([*'abcÄü 12=;:,\\"\t', "=FC", "=\r\n ", "\r\n "]), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(NAMES, PARAMS, VALUES), min_size=1, max_size=6))
def test_fast_content_lines_give_what_vobject_content_lines_gave(lines: list[tuple[str, str, str]]) -> None:
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\n" + "".join(f"{n}{p}:{v}\r\n" for n, p, v in lines) + "END:VCARD"
    slow = _outcome(_slow_content_lines, text)
    fast = _outcome(lambda t: [(n, v) for n, v in _content_lines(t)], text)
    if isinstance(slow, str) or isinstance(fast, str):
        assert isinstance(slow, str) and isinstance(fast, str)
    else:
        assert fast == slow


LINES = ["FN:a", "N:b;c", " folded", "\tfolded", "", " ", "\r", "X=", "a;QUOTED-PRINTABLE:x=", "\u212a", "TEL:+49"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=10), st.sampled_from(["\r\n", "\n"]))
def test_the_logical_lines_shortcut_gives_what_vobject_gives(lines: list[str], end: str) -> None:
    text = end.join(lines)
    assert list(_logical_lines(text)) == list(vobject.base.getLogicalLines(io.StringIO(text), True))


def test_a_quoted_printable_line_is_still_decoded_with_its_charset() -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen M=\r\n=FCller\r\nEND:VCARD"
    )
    assert list(_content_lines(text)) == [("VERSION", "2.1"), ("FN", "Jürgen Müller")]


@pytest.mark.parametrize("value", ["", "plain", "a\\,b", "a\\nb\\N", "trailing\\", "x\\;y;z", "\\\\;"])
def test_the_shortcuts_for_text_without_backslashes_change_nothing(value: str) -> None:
    def slow_unescape(v: str) -> str:
        out, i = [], 0
        while i < len(v):
            if v[i] == "\\" and i + 1 < len(v):
                out.append({"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}.get(v[i + 1], v[i : i + 2]))
                i += 2
            else:
                out.append(v[i])
                i += 1
        return "".join(out)

    assert unescape(value) == slow_unescape(value)
    if "\\" not in value:
        assert split_unescaped(value, ";") == value.split(";")


def _card(i: int, email: str | None = None) -> str:
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nEMAIL:{email or f'p{i}@example.org'}\r\nEND:VCARD\r\n"


def test_streamed_entries_are_the_entries_read_at_once() -> None:
    data = ("".join(_card(i) for i in range(50)) + "stray text\n").encode()
    kind, streamed, _ = stream_entries(data, "x.vcf")
    assert (kind, list(streamed)) == ("vcard", read_entries(data, "x.vcf")[1])


def test_a_listed_person_past_the_first_chunk_is_caught(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planning, "CHUNK_ENTRIES", 7)
    gone = vault.add(draft(name="Gone", emails=("gone@example.org",), phones=(), basis=LegalBasis.LEGITIMATE_INTERESTS,
                           rule="inquiry-6m", trigger=date(2026, 5, 1)))  # fmt: skip
    vault.erase(gone.id)
    cards = [_card(i) for i in range(30)]
    cards[17] = _card(17, "GONE@example.org")
    cards[25] = _card(25, "p3@example.org")  # the same person as entry 4: merged into it, in another chunk
    path = tmp_path / "many.vcf"
    path.write_text("".join(cards), encoding="utf-8")
    report = vault.import_file(path, LegalBasis.CONTRACT, "invoices-8y", date(2025, 3, 10))
    assert [e.index for e in report.suppressed] == [18]
    assert (report.added, report.merged, report.skipped) == (28, 0, 1)
    assert report.entries[25].message.startswith("already in an earlier entry")
    assert len(vault) == 28
