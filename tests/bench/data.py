"""Deterministic synthetic contacts for the benchmark harness (tests.bench.harness).

The same generator writes the vCard file sealbook imports and the vdir (one
``.vcf`` per contact) the peer (khard) reads, so both tools search exactly the
same people.  Names mix German and other European spellings (umlauts, accents,
"ß"), so the accent- and spelling-insensitive search has real work to do.
E-mails and phone numbers are unique per contact, so the import adds every
entry (it merges entries that share an e-mail or a phone).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SEED = 15  # issue 15
VERSION = 1  # of what this module writes; the harness caches the files by it

FIRST = (
    "Jürgen", "Anna", "Chloé", "Bernd", "Zoë", "Mehmet", "Søren", "Ewa", "Björn", "Léa", "Hans",
    "Katarzyna", "Lukas", "Marie", "Özlem", "Paul", "Renée", "Stefan", "Tomáš", "Ute", "Yusuf",
)  # fmt: skip
LAST = (
    "Müller", "Schmidt", "Weiß", "Becker", "Öztürk", "Nowak", "Hoffmann", "Schäfer", "Koch", "Bauer",
    "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger",
    "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann", "Dvořák",
)  # fmt: skip
ORG = ("GmbH", "KG", "AG", "& Söhne", "Design", "Consulting", "Bau", "Studio", "e.V.", "")
AREA = ("30", "40", "89", "171", "221", "69")  # Berlin, Hamburg, München, a mobile, Köln, Frankfurt


@dataclass(frozen=True)
class Person:
    index: int
    uid: str
    first: str
    last: str
    email: str
    phone: str
    org: str
    note: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last} {self.index}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def people(count: int, *, start: int = 0, prefix: str = "bench") -> Iterator[Person]:
    """``count`` people numbered from ``start``; person ``i`` is always the same person."""
    for i in range(start, start + count):
        # Knuth's multiplicative hash of the number (and the seed): the same person for the
        # same i whatever the range it is generated in, spread evenly over the names.
        h = ((i + SEED) * 2654435761) & 0xFFFFFFFF
        first, last = FIRST[h % len(FIRST)], LAST[(h >> 8) % len(LAST)]
        org = f"{last} {ORG[(h >> 16) % len(ORG)]}".strip()
        yield Person(
            index=i,
            uid=f"{prefix}-{i}",
            first=first,
            last=last,
            email=f"{_ascii(first)[0]}.{i}@{_ascii(last)}-{i % 977}.example",
            phone=f"+49 {AREA[i % len(AREA)]} {1_000_000 + i}",
            org=org,
            note="Kunde seit 2020\\, Rechnung per E-Mail." if i % 3 else "",
        )


def vcard(p: Person) -> str:
    """One vCard 3.0 (CRLF line ends, as RFC 2426 writes them)."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"UID:{p.uid}",
        f"FN:{p.name}",
        f"N:{p.last};{p.first} {p.index};;;",
        f"EMAIL;TYPE=work:{p.email}",
        f"TEL;TYPE=cell:{p.phone}",
        f"ORG:{p.org}",
    ]
    if p.note:
        lines.append(f"NOTE:{p.note}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def write_vcf(path: Path, persons: Iterator[Person]) -> int:
    """All of ``persons`` in one .vcf file (what `sealbook import` reads); returns the count."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        for p in persons:
            out.write(vcard(p))
            n += 1
    return n


def write_vdir(folder: Path, persons: Iterator[Person]) -> int:
    """One .vcf per person in ``folder`` (a vdir, what khard and vdirsyncer use)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for p in persons:
        (folder / f"{p.uid}.vcf").write_text(vcard(p), encoding="utf-8", newline="")
        n += 1
    return n
