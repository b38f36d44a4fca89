"""Field validation, the config file, and a full disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from tests.conftest import PASSPHRASE, FixedClock, draft
from vault.config import Config, load_config
from vault.errors import ConfigError, InvalidInput, StorageFull
from vault.model import LegalBasis, format_phone, national_digits, normalise_email, normalise_phone
from vault.service import Vault


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("030 1234567", "+49301234567"),
        ("+49 (0)30 123-4567", "+49301234567"),
        ("0049 30 1234567", "+49301234567"),
        ("+43 1 58858", "+43158858"),
        ("0171 2345678", "+491712345678"),
    ],
)
def test_phones_are_parsed_to_e164_with_the_default_region(raw: str, e164: str) -> None:
    assert normalise_phone(raw, "DE") == e164


def test_phone_display_and_national_digits() -> None:
    assert format_phone("+49301234567") == "+49 30 1234567"
    assert national_digits("+49301234567") == "0301234567"


@pytest.mark.parametrize("bad", ["12", "abc", "+49 30", "+49 30 1234567890123456", "030 1234567 ext. 99"])
def test_impossible_phones_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        normalise_phone(bad, "DE")
    assert info.value.field == "phone"


@pytest.mark.parametrize("bad", ["plain", "a@b", "two@@example.org", "space in@example.org", "x@-example-.org"])
def test_invalid_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_email(bad)


def test_international_email_is_kept() -> None:
    assert normalise_email("jürgen@müller.de") == "jürgen@müller.de"


def test_legal_basis_names_its_article_in_both_languages() -> None:
    assert LegalBasis.CONTRACT.describe() == "Contract or pre-contractual steps (Art. 6(1)(b) GDPR)"
    assert LegalBasis.CONSENT.describe("de") == "Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)"
    assert [b.letter for b in LegalBasis] == list("abcdef")


def test_missing_config_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml") == Config()


def test_config_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'region = "at"\nidle_lock_minutes = 10\n[controller]\nname = "Erika Beispiel"\n'
        '[[processors]]\nname = "Host GmbH"\ncountry = "DE"\n[rules.own-2y]\nyears = 2\n'
    )
    config = load_config(path)
    assert config.region == "AT" and config.idle_lock_minutes == 10
    assert config.controller_name == "Erika Beispiel"
    assert config.processors[0].name == "Host GmbH"
    assert "own-2y" in config.rulebook()


@pytest.mark.parametrize(
    "text",
    [
        'region = "Germany"',
        "idle_lock_minutes = -1",
        "[rules.x]\nyears = 'many'",
        "not toml at all [",
        "\xff\xfe",
        "[rules.invoices-8y]\nyears = 1",
    ],
)
def test_bad_config_gets_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError):
        load_config(path)


def test_full_disk_is_reported_and_loses_nothing(vault: Vault, vault_path: Path, clock: FixedClock) -> None:
    kept = [vault.add(draft(name=f"Kept {i}")) for i in range(3)]
    engine = vault._store.engine
    engine.dispose()
    pages = {}

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        count = cursor.execute("PRAGMA page_count").fetchone()[0]
        pages["cap"] = count + 2
        cursor.execute(f"PRAGMA max_page_count={count + 2}")
        cursor.close()

    with pytest.raises(StorageFull):
        for i in range(200):
            vault.add(draft(name=f"Filler {i}", notes="x" * 60_000))
    assert pages
    in_memory = len(vault)
    vault.close()
    with Vault(vault_path, clock=clock) as again:
        again.unlock(PASSPHRASE)
        assert len(again) == in_memory
        assert {k.id for k in kept} <= {c.id for c in again.contacts()}
        assert again._store.integrity_ok()
