"""`sealbook export`, `import` and `request`, run in-process through the real parser."""

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

CORPUS = Path(__file__).resolve().parent.parent / "data" / "import"
CONFIG_TOML = """
[controller]
name = "Studio Beispiel"
address = "Musterweg 7, 10115 Berlin"
email = "privacy@studio.example"
supervisory_authority = "BlnBDI"

[[processors]]
name = "netcup GmbH"
purpose = "webspace"
country = "DE"
"""


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A vault with Jürgen in two records plus Anna; returns the common options."""
    monkeypatch.setattr(common, "harden", lambda: None)  # keep the test process dumpable
    vault_path = tmp_path / "cli.sqlite"
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    (tmp_path / "config.toml").write_text(CONFIG_TOML)
    vault = Vault.create(vault_path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True)
    vault.add(draft())
    vault.restrict(vault.add(draft(name="J. Mueller", phones=("0301234567",), emails=())).id)
    vault.add(draft(name="Anna Schmidt", emails=("anna@example.com",), phones=("+49 89 12345678",)))
    vault.close()
    yield [
        "--vault",
        str(vault_path),
        "--config",
        str(tmp_path / "config.toml"),
        "--passphrase-file",
        str(tmp_path / "pass"),
    ]


def run(capsys: pytest.CaptureFixture[str], command: list[str], options: list[str]) -> tuple[int, str, str]:
    code = main([*command, *options])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_by_phone_finds_both_records_and_warns_about_plaintext(
    setup: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "answer"
    code, out, err = run(capsys, ["export", "030 123 4567", "--out", str(out_dir), "--lang", "de", "--yes"], setup)
    assert code == 0, err
    assert "2 matching records" in out and "[restricted]" in out and "Anna" not in out
    assert "plaintext" in err and str(out_dir) in err
    assert stat.S_IMODE(out_dir.stat().st_mode) == 0o700
    assert "Studio Beispiel" in (out_dir / "answer.txt").read_text(encoding="utf-8")
    assert len(json.loads((out_dir / "data.json").read_text(encoding="utf-8"))["records"]) == 2


def test_export_json_output_for_scripts(setup: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, ["export", "Anna@Example.com", "--out", str(tmp_path / "a"), "--yes", "--json"], setup)
    assert code == 0
    result = json.loads(out)
    assert sorted(result["files"]) == sorted(["data.json", "contacts.vcf", "contacts.csv", "answer.txt", "answer.html"])
    assert len(result["record_ids"]) == 1


def test_export_without_yes_and_without_a_terminal_asks_for_yes(
    setup: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, ["export", "Müller", "--out", str(tmp_path / "answer")], setup)
    assert code == 1 and "--yes" in err
    assert "Jürgen Müller" in out  # the matching set was shown first
    assert not (tmp_path / "answer").exists()


def test_import_preview_then_import_then_reimport(setup: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "import",
        str(CORPUS / "nextcloud-4.0.vcf"),
        "--basis",
        "contract",
        "--rule",
        "invoices-8y",
        "--trigger",
        "2025-03-10",
    ]
    code, out, _ = run(capsys, [*args, "--dry-run"], setup)
    assert code == 0 and "preview" in out and "2 added, 0 merged, 0 skipped, 0 errors" in out
    code, out, _ = run(capsys, args, setup)
    assert code == 0 and "imported" in out and "2 added" in out
    code, out, _ = run(capsys, [*args, "--json"], setup)
    report = json.loads(out)
    assert (code, report["added"], report["skipped"], report["committed"]) == (0, 0, 2, True)


def test_import_with_errors_imports_nothing_and_says_how_to_proceed(
    setup: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    consent = ["--consent-given", "2026-01-20", "--consent-method", "web form"]
    args = ["import", str(CORPUS / "broken-mixed.vcf"), "--basis", "consent", "--rule", "consent", *consent]
    code, out, err = run(capsys, args, setup)
    assert code == 1 and "nothing was imported" in err and "--skip-invalid" in err
    assert "NOT imported" in out and "error    #2 (line 6) - name: contains control characters" in out
    assert "\x1b" not in out
    code, out, _ = run(capsys, [*args, "--skip-invalid"], setup)
    assert code == 0 and "1 added" in out


def test_import_with_basis_consent_needs_the_day_and_the_way(
    setup: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["import", str(CORPUS / "google.csv"), "--basis", "consent", "--rule", "consent"]
    code, _, err = run(capsys, args, setup)
    assert code != 0 and "consent: an import with the basis consent needs the day consent was given" in err
    code, _, err = run(capsys, [*args, "--consent-given", "2026-01-20"], setup)
    assert code != 0 and "needs how consent was given" in err
    code, out, err = run(
        capsys, [*args, "--consent-given", "2026-01-20", "--consent-method", "web form", "--json"], setup
    )
    assert code == 0, err
    report = json.loads(out)
    assert (report["added"], report["merged"], report["suppressed"]) == (2, 1, 0)  # Jürgen is stored already
    vault = Vault(Path(setup[1]))
    vault.unlock(PASSPHRASE)
    imported = [vault.get(e["record_id"]) for e in report["entries"] if e["outcome"] == "added"]
    vault.close()
    assert {(c.consent_given.isoformat() if c.consent_given else None, c.consent_method) for c in imported} == {
        ("2026-01-20", "web form")
    }


def test_import_lists_people_on_the_suppression_list_apart(
    setup: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = Vault(Path(setup[1]))
    vault.unlock(PASSPHRASE)
    (anna,) = vault.find_person(name="Anna Schmidt")
    vault.erase(anna.id)  # invoices-8y runs: restricted, her e-mail dropped and listed
    erased_on = vault.today().isoformat()
    vault.close()
    card = tmp_path / "back.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna S.\r\nEMAIL:anna@example.com\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Neu Person\r\nEMAIL:neu@example.com\r\nEND:VCARD\r\n"
    )
    args = ["import", str(card), "--basis", "contract", "--rule", "invoices-8y", "--trigger", "2025-03-10"]
    code, out, _ = run(capsys, [*args, "--dry-run"], setup)
    assert code == 0
    before, section = out.split("on the suppression list, left out (1)")
    assert "Anna" not in before and "added    #2 (line 6) Neu Person" in before
    assert f"suppressed #1 (line 1) Anna S. - on the suppression list: had their data erased on {erased_on}" in section
    assert "anna@" not in section and "--include-suppressed" in section
    assert "1 added, 0 merged, 0 skipped, 0 errors, 1 on the suppression list" in out
    code, out, _ = run(capsys, [*args, "--json"], setup)
    report = json.loads(out)
    assert (code, report["added"], report["suppressed"], report["committed"]) == (0, 1, 1, True)
    code, out, _ = run(capsys, [*args, "--include-suppressed"], setup)
    assert code == 0 and "1 added" in out and "imported as decided" in out and "left out" not in out


def test_import_merge_adds_the_batch_rule_and_says_so(setup: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    args = ["import", str(CORPUS / "google.csv"), "--basis", "legal-obligation", "--rule", "books-10y"]
    code, out, err = run(capsys, [*args, "--trigger", "2024-01-01"], setup)
    assert code == 0, err
    assert "merged   #1 (line 2) Jürgen Müller - adds details to a stored contact; rule added: books-10y from " in out
    assert "kept until 2034-12-31" in out and "2 added, 1 merged" in out


def test_import_refuses_an_unknown_basis(setup: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["import", str(CORPUS / "generic.csv"), "--basis", "whim", "--rule", "consent", *setup])
    assert caught.value.code == 2


def test_request_open_list_close(setup: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, ["request", "open", "access", "--received", "2020-01-10", "--note", "by letter", "--json"], setup
    )
    assert code == 0
    opened = json.loads(out)
    assert (opened["deadline"], opened["status"]) == ("2020-02-10", "overdue")
    code, out, err = run(capsys, ["request", "list", "--notes"], setup)
    assert code == 0 and "OVERDUE" in out and "by letter" in out
    assert "1 request overdue" in err and "Art. 12(3)" in err
    code, out, _ = run(capsys, ["request", "close", opened["id"][:8], "--note", "answered"], setup)
    assert code == 0 and "after the deadline" in out
    code, out, err = run(capsys, ["request", "list"], setup)
    assert "no open requests" in out and "overdue" not in err
    code, out, _ = run(capsys, ["request", "list", "--all", "--json"], setup)
    assert [r["status"] for r in json.loads(out)] == ["closed"]


def test_request_for_records_by_id_prefix(setup: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    vault = Vault(Path(setup[1]))
    vault.unlock(PASSPHRASE)
    anna = vault.find_person(name="Anna Schmidt")[0]
    vault.close()
    code, out, _ = run(capsys, ["request", "open", "erasure", anna.id[:8], "--json"], setup)
    assert code == 0 and json.loads(out)["record_ids"] == [anna.id]
    code, _, err = run(capsys, ["request", "open", "erasure", "ffffffff"], setup)
    assert code == 5 and "ffffffff" in err


def test_request_without_action_is_a_usage_error(setup: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, ["request"], setup[:2])
    assert code == 2 and "open,list,extend,close" in err


def test_import_basis_choices_match_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    help_text = capsys.readouterr().out
    for basis in LegalBasis:
        assert basis.value in help_text
    assert "64 MiB" in help_text  # the documented limits are in the help


def test_request_extend_moves_the_deadline_and_reminds_to_tell_the_person(
    setup: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, ["request", "open", "portability", "--json"], setup)
    opened = json.loads(out)
    informed = ["--informed", opened["received"]]
    code, out, _ = run(capsys, ["request", "extend", opened["id"], "--reason", "complex request", *informed], setup)
    assert code == 0 and f"the person was told on {opened['received']}" in out
    code, out, _ = run(capsys, ["request", "list", "--json"], setup)
    (listed,) = json.loads(out)
    assert listed["extended"] is True and listed["deadline"] > opened["deadline"]
    code, _, err = run(capsys, ["request", "extend", opened["id"], "--reason", "again", *informed], setup)
    assert code == 1 and "already extended" in err
