"""The core speaks German when the process does (issue 14): error sentences, validation
messages, retention rules, legal bases and request types, the config's `language`;
English stays as it was by default."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import vault
from tests.conftest import PASSPHRASE, FixedClock, draft
from vault import i18n
from vault.config import Config, load_config, parse_config
from vault.errors import (
    ConfigError,
    ContactNotFound,
    InvalidInput,
    StorageFull,
    VaultBusy,
    VaultDamaged,
    VaultError,
    VaultReadOnly,
    VaultTampered,
    WrongPassphrase,
)
from vault.model import LegalBasis, RequestType, normalise_draft
from vault.retention import BUILTIN_RULES, RuleBook, describe, erasure_ground, label, reference, trigger_label
from vault.service import Vault
from vault.sync.errors import RemoteUnreachable


@pytest.fixture
def german() -> Iterator[None]:
    i18n.set_language("de")
    try:
        yield
    finally:
        i18n.set_language("en")


def _all_errors() -> list[type[VaultError]]:
    for module in pkgutil.walk_packages(vault.__path__, "vault."):
        importlib.import_module(module.name)

    def below(cls: type[VaultError]) -> Iterator[type[VaultError]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return sorted({VaultError, *below(VaultError)}, key=lambda c: (c.__module__, c.__name__))


@pytest.mark.parametrize("cls", _all_errors(), ids=lambda c: c.__name__)
def test_every_error_has_its_own_marked_sentence_equal_to_its_docstring(cls: type[VaultError]) -> None:
    """`sentence` (marked for the catalogue) is the docstring's first line, so the two never drift."""
    assert "sentence" in cls.__dict__, f"{cls.__name__} needs sentence = N_(...)"
    first = (cls.__doc__ or "").strip().splitlines()[0]
    assert cls.__dict__["sentence"] == first


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (WrongPassphrase, "Die Passphrase ist falsch; es wurde nichts geändert."),
        (lambda: ContactNotFound("3f2a"), "Im Tresor gibt es keinen Kontakt mit dieser ID. (3f2a)"),
        (VaultDamaged, "Ein Teil des Tresors ist beschädigt oder wurde manipuliert und kann nicht geöffnet werden."),
        (
            VaultTampered,
            "Die Tresordatei wurde außerhalb von sealbook verändert (manipuliert); es wurde nichts gelöscht.",
        ),
        (VaultBusy, "Ein anderer sealbook-Prozess arbeitet gerade mit diesem Tresor; versuchen Sie es später erneut."),
        (StorageFull, "Der Datenträger ist voll; es wurde nichts geändert."),
        (
            VaultReadOnly,
            "Der Tresor kann hier nicht geschrieben werden (schreibgeschützte Datei, schreibgeschützter Ordner "
            "oder Datenträger); es wurde nichts geändert.",
        ),
        (lambda: RemoteUnreachable("dav.example.de"), "Der Sync-Server ist nicht erreichbar"),
    ],
)
def test_error_sentences_are_german(german: None, make, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert str(make()).startswith(expected)


def test_a_wrong_passphrase_is_refused_in_german(german: None, vault_path: Path, clock: FixedClock) -> None:
    from tests.conftest import WEAK_KDF

    Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True, clock=clock).close()
    locked = Vault(vault_path, clock=clock)
    with pytest.raises(WrongPassphrase) as caught:
        locked.unlock("not the passphrase")
    locked.close()
    assert str(caught.value) == "Die Passphrase ist falsch; es wurde nichts geändert."


def test_invalid_input_names_the_field_in_german_and_keeps_its_identifier(german: None) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_draft(draft(name="  "))
    assert caught.value.field == "name"  # front ends match on the identifier
    assert str(caught.value) == "Name: darf nicht leer sein"
    with pytest.raises(InvalidInput) as caught:
        normalise_draft(draft(emails=("kein-at-zeichen",)))
    assert caught.value.field == "e-mail"
    assert str(caught.value) == "E-Mail: keine gültige E-Mail-Adresse"


def test_validation_of_a_draft_is_german(german: None, vault: Vault) -> None:
    with pytest.raises(InvalidInput) as caught:
        vault.add(draft(basis=LegalBasis.CONSENT, rule="consent", trigger=None, consent_given=None))
    assert str(caught.value).startswith("Einwilligung: die Rechtsgrundlage Einwilligung braucht den Tag")
    assert "Art. 7 Abs. 1 DSGVO" in str(caught.value)


def test_rule_labels_are_german_as_the_statutes_name_them(german: None) -> None:
    rules = {rule.key: rule for rule in BUILTIN_RULES}
    assert label(rules["invoices-8y"]) == "Rechnungen und Buchungsbelege: 8 Jahre ab Ende des Kalenderjahres"
    assert label(rules["letters-6y"]).startswith("Handels- und Geschäftsbriefe: 6 Jahre")
    assert label(rules["books-10y"]).startswith("Bücher und Jahresabschlüsse: 10 Jahre")
    assert "§ 14b Abs. 1 UStG" in reference(rules["invoices-8y"])
    assert "§ 147 Abs. 1 Nr. 4" in reference(rules["invoices-8y"])
    assert trigger_label(rules["invoices-8y"]) == "Rechnungsdatum"
    assert erasure_ground(rules["limitation-3y"]) == "Art. 17 Abs. 3 lit. e DSGVO"
    assert erasure_ground(rules["books-10y"]) == "Art. 17 Abs. 3 lit. b DSGVO"
    assert describe(rules["consent"]).startswith("Einwilligung: bis zum Widerruf")
    for rule in BUILTIN_RULES:  # every built-in rule has its German label
        assert label(rule) != rule.label, rule.key


def test_an_owner_rule_keeps_the_owners_words(german: None) -> None:
    book = RuleBook(parse_config({"rules": {"adviser-7y": {"label": "Steuerberater", "years": 7}}}).rules)
    own = book.get("adviser-7y")
    assert label(own) == "Steuerberater"
    assert trigger_label(own) == "Stichtag"  # the default is sealbook's text


def test_bases_and_request_types_are_german(german: None) -> None:
    assert [b.label for b in LegalBasis] == [
        "Einwilligung",
        "Vertrag",
        "Rechtliche Verpflichtung",
        "Lebenswichtige Interessen",
        "Öffentliche Aufgabe",
        "Berechtigtes Interesse",
    ]
    assert LegalBasis.CONTRACT.cited == "Art. 6 Abs. 1 lit. b DSGVO"
    assert LegalBasis.LEGITIMATE_INTERESTS.labelled() == "Berechtigtes Interesse (Art. 6 Abs. 1 lit. f DSGVO)"
    assert [t.label for t in RequestType] == [
        "Auskunft",
        "Löschung",
        "Berichtigung",
        "Widerspruch",
        "Datenübertragbarkeit",
    ]
    assert RequestType.ERASURE.cited == "Art. 17 DSGVO"


def test_erasure_reasons_are_german_with_german_dates(german: None, vault: Vault) -> None:
    from vault import policy

    rules = RuleBook()
    contact = vault.add(draft(rule="invoices-8y", trigger=date(2025, 3, 10)))
    decision = policy.erase_decision(contact, rules, date(2026, 6, 15))
    assert decision.reason.startswith("eine Aufbewahrungspflicht gilt bis 31.12.2033 (§ 257 Abs. 1 Nr. 4")


@pytest.mark.parametrize("value", ["de", "en"])
def test_the_config_language_is_read(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'language = "{value}"\n', encoding="utf-8")
    config = load_config(path)
    assert config.language == value
    assert config.letter_language == value
    assert "language" not in config.extra


def test_no_config_language_means_none() -> None:
    assert parse_config({}).language is None
    assert Config().language is None


@pytest.mark.parametrize("bad", ["fr", "German", 1, ["de"], ""])
def test_an_unknown_config_language_is_refused_clearly(bad: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"language": bad})
    assert 'language must be one of "de", "en"' in str(caught.value)


def test_the_config_error_is_german_in_german(german: None) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"language": "fr"})
    assert str(caught.value).startswith("Die Konfigurationsdatei ist ungültig. (language muss einer der Werte")


def test_the_letter_language_follows_the_config_then_the_process() -> None:
    assert parse_config({"language": "de"}).letter_language == "de"
    assert parse_config({"language": "en", "letter_language": "de"}).letter_language == "de"  # the older key
    assert Config().letter_language == "en"
    i18n.set_language("de")
    try:
        assert Config().letter_language == "de"
    finally:
        i18n.set_language("en")


def test_english_is_unchanged_by_default() -> None:
    assert i18n.language() == "en"
    assert str(WrongPassphrase()) == "The passphrase is wrong; nothing was changed."
    assert str(ContactNotFound("3f2a")) == "No contact with this id exists in the vault. (3f2a)"
    with pytest.raises(InvalidInput) as caught:
        normalise_draft(draft(name=""))
    assert str(caught.value) == "name: must not be empty"
    rules = {rule.key: rule for rule in BUILTIN_RULES}
    assert label(rules["invoices-8y"]) == rules["invoices-8y"].label
    assert LegalBasis.CONSENT.label == "Consent"
    assert RequestType.ACCESS.label == "Access"
