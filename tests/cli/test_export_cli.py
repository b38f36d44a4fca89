"""`sealbook export`: the negative answer and the portability export (issue 11, points 10 and 13).

Run in-process through the real parser against a real vault file; the clock is
the real one, so these tests check files and wording, not dates (the dated
vectors are in tests/vault/test_letter.py).
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, draft
from tui.cli import common, main
from vault.model import LegalBasis
from vault.service import Vault

CONFIG_TOML = """
[controller]
name = "Studio Beispiel"
address = "Musterweg 7, 10115 Berlin"
email = "privacy@studio.example"
supervisory_authority = "BlnBDI"
other_systems = [{ de = "Rechnungen", en = "invoices" }, "Mailbox"]
signature = "Erika Beispiel"

[[processors]]
name = "Example Mail Inc."
purpose = { de = "E-Mail-Postfach", en = "e-mail mailbox" }
country = "US"
transfer = "adequacy"
adequacy_decision = "EU-US Data Privacy Framework"
"""


@pytest.fixture
def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A vault with Jürgen on a contract (with an owner note) and on legitimate interests; the common options."""
    monkeypatch.setattr(common, "harden", lambda: None)  # keep the test process dumpable
    vault_path = tmp_path / "cli.sqlite"
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    (tmp_path / "config.toml").write_text(CONFIG_TOML)
    vault = Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True)
    vault.add(draft(notes="Owner note: mentioned colleague Anna."))
    vault.add(draft(name="J. Müller", basis=LegalBasis.LEGITIMATE_INTERESTS, rule="inquiry-6m", emails=()))
    vault.close()
    yield ["--vault", str(vault_path), "--config", str(tmp_path / "config.toml"), "--passphrase-file",
           str(tmp_path / "pass")]  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], command: list[str], options: list[str]) -> tuple[int, str, str]:
    code = main([*command, *options])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("lang", "negative"),
    [
        ("en", "we hold no personal data about you there"),
        ("de", "Dort sind keine personenbezogenen Daten zu Ihnen gespeichert"),
    ],
)
def test_export_with_no_match_writes_the_negative_answer(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str, negative: str
) -> None:
    out_dir = tmp_path / "answer"
    code, out, err = run(capsys, ["export", "Nobody Here", "--out", str(out_dir), "--lang", lang, "--yes"], options)
    assert code == 0, err
    assert "no record matches" in out and "negative answer" in out
    assert "other_systems" in err  # the owner is reminded to check the invoices and the mailbox too
    assert sorted(p.name for p in out_dir.iterdir()) == ["answer.html", "answer.txt"]
    assert stat.S_IMODE(out_dir.stat().st_mode) == 0o700
    text = (out_dir / "answer.txt").read_text(encoding="utf-8")
    assert negative in text
    assert ("invoices" if lang == "en" else "Rechnungen") in text and "Mailbox" in text
    assert text.endswith("\nErika Beispiel\n")


def test_export_with_no_match_still_asks_first(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, ["export", "Nobody Here", "--out", str(tmp_path / "answer")], options)
    assert code == 1 and "--yes" in err
    assert not (tmp_path / "answer").exists()


def test_export_with_no_match_in_json_reports_no_records(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, ["export", "x@y.example", "--out", str(tmp_path / "a"), "--yes", "--json"], options)
    assert code == 0
    result = json.loads(out)
    assert result["record_ids"] == [] and sorted(result["files"]) == ["answer.html", "answer.txt"]


def test_portability_flag_writes_only_the_provided_data_on_consent_or_contract(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "art20"
    code, out, err = run(capsys, ["export", "Müller", "--out", str(out_dir), "--lang", "de", "--yes",
                                  "--portability"], options)  # fmt: skip
    assert code == 0, err
    assert "2 matching records" in out and "Art. 20 export of 1 record" in out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "answer.html",
        "answer.txt",
        "contacts.vcf",
        "portability.json",
    ]
    document = json.loads((out_dir / "portability.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in document["records"]] == ["Jürgen Müller"]  # not the legitimate-interests record
    everything = "".join(p.read_text(encoding="utf-8") for p in out_dir.iterdir())
    assert "Owner note" not in everything and "Anna" not in everything and "X-SEALBOOK" not in everything
    assert "Art. 20 DSGVO (Datenübertragbarkeit)" in (out_dir / "answer.txt").read_text(encoding="utf-8")


def test_the_access_export_next_to_it_stays_complete(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "art15"
    code, _, err = run(capsys, ["export", "Müller", "--out", str(out_dir), "--yes"], options)
    assert code == 0, err
    document = json.loads((out_dir / "data.json").read_text(encoding="utf-8"))
    assert len(document["records"]) == 2
    assert "Owner note: mentioned colleague Anna." in [r["notes"] for r in document["records"]]
    text = (out_dir / "answer.txt").read_text(encoding="utf-8")
    assert "We found 2 records about you" in text
    assert "EU-US Data Privacy Framework" in text and "purpose: e-mail mailbox" in text
