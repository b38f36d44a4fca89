"""What lies on disk: no personal data in any file, and tampering is caught per record."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, FixedClock, draft
from vault.errors import VaultDamaged
from vault.model import LegalBasis
from vault.service import Vault

NAME = "Zacharias Quellbrünner"
EMAIL = "zacharias.quellbruenner@praxis-beispiel.de"
PHONE = "+49 30 98765432"
PHONE_E164 = "+493098765432"
ORG = "Quellbrünner Zahnmedizin"


def needles() -> list[bytes]:
    texts = [
        NAME,
        EMAIL,
        ORG,
        "Quellbr",
        "quellbruenner",
        PHONE_E164,
        "3098765432",
        "legitimate-interests",
        "Legitimate interests",
        "letters-6y",
    ]
    out: set[bytes] = set()
    for text in texts:
        for variant in (text, text.casefold(), text.upper()):
            for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le"):
                out.add(variant.encode(encoding))
            try:
                out.add(variant.encode("latin-1"))
            except UnicodeEncodeError:
                pass
    return sorted(out)


def vault_files(path: Path) -> list[Path]:
    return [p for p in path.parent.iterdir() if p.name.startswith(path.name)]


def test_no_personal_data_in_the_database_wal_or_shm(vault: Vault, vault_path: Path) -> None:
    vault.add(
        draft(
            name=NAME,
            emails=(EMAIL,),
            phones=(PHONE,),
            org=ORG,
            basis=LegalBasis.LEGITIMATE_INTERESTS,
            rule="letters-6y",
            trigger=date(2026, 3, 1),
        )
    )
    # While the vault is still open the WAL holds the fresh pages: check it too.
    files = vault_files(vault_path)
    assert any(p.name.endswith("-wal") for p in files)
    for f in files:
        data = f.read_bytes()
        for needle in needles():
            assert needle not in data, f"{needle!r} found in {f.name}"
    vault.close()
    for f in vault_files(vault_path):
        data = f.read_bytes()
        for needle in needles():
            assert needle not in data, f"{needle!r} found in {f.name}"


def test_the_needle_search_would_find_plaintext(tmp_path: Path) -> None:
    """Guard against a vacuous test above: the same search finds unencrypted data."""
    plain = tmp_path / "plain.sqlite"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (?)", (NAME,))
    assert any(needle in plain.read_bytes() for needle in needles())


COLUMNS = ["sealed", "meta_sig", "meta_version", "retention_end", "review_at", "hold"]


def _tamper(path: Path, record_id: str, column: str, offset: int) -> None:
    with sqlite3.connect(path) as conn:
        value = conn.execute(f"SELECT {column} FROM contacts WHERE id = ?", (record_id,)).fetchone()[0]
        if isinstance(value, bytes):
            raw = bytearray(value)
            raw[offset % len(raw)] ^= 0x01
            new: object = bytes(raw)
        elif column == "meta_version" or column == "hold":
            new = int(value) ^ 1 if column == "hold" else int(value) + 1
        else:
            new = "2099-12-31" if value != "2099-12-31" else "2098-12-31"
        conn.execute(f"UPDATE contacts SET {column} = ? WHERE id = ?", (new, record_id))


@pytest.mark.parametrize("column", COLUMNS)
def test_tampered_record_fails_alone_while_the_rest_open(
    vault: Vault, vault_path: Path, clock: FixedClock, column: str
) -> None:
    victim = vault.add(
        draft(
            name="Victim",
            basis=LegalBasis.CONSENT,
            rule="consent",
            trigger=date(2026, 1, 1),
            consent_given=date(2026, 1, 1),
            consent_method="form",
        )
    )
    others = [vault.add(draft(name=f"Other {i}")) for i in range(3)]
    vault.close()
    _tamper(vault_path, victim.id, column, offset=7)
    with Vault(vault_path, clock=clock) as again:
        again.unlock(PASSPHRASE)
        assert again.damaged_ids == (victim.id,)
        assert {c.id for c in again.contacts()} == {o.id for o in others}
        with pytest.raises(VaultDamaged, match=victim.id):
            again.get(victim.id)


def test_every_byte_of_a_sealed_record_is_protected(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    victim = vault.add(draft(name="Victim"))
    vault.close()
    with sqlite3.connect(vault_path) as conn:
        original = conn.execute("SELECT sealed FROM contacts").fetchone()[0]
    step = max(1, len(original) // 40)  # sampled: every 40th of the record, plus the ends
    offsets = sorted({*range(0, len(original), step), len(original) - 1})
    with Vault(vault_path, clock=clock) as again:
        again.derive_keys(PASSPHRASE)
        for offset in offsets:
            raw = bytearray(original)
            raw[offset] ^= 0x80
            with sqlite3.connect(vault_path) as conn:
                conn.execute("UPDATE contacts SET sealed = ?", (bytes(raw),))
            again.load_contacts()
            assert again.damaged_ids == (victim.id,), f"flip at {offset} went unnoticed"


def test_a_record_swapped_into_another_row_does_not_open(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    a = vault.add(draft(name="Alice"))
    b = vault.add(draft(name="Bob"))
    vault.close()
    with sqlite3.connect(vault_path) as conn:
        sealed_a = conn.execute("SELECT sealed FROM contacts WHERE id = ?", (a.id,)).fetchone()[0]
        conn.execute("UPDATE contacts SET sealed = ? WHERE id = ?", (sealed_a, b.id))
    with Vault(vault_path, clock=clock) as again:
        again.unlock(PASSPHRASE)
        assert again.damaged_ids == (b.id,)
        assert again.get(a.id).name == "Alice"
