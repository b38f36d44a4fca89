"""Issue 13.8: `sealbook import PATH` takes a folder of .vcf files (khard, vdirsyncer) as one batch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.conftest import PASSPHRASE
from vault.service import Vault

CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{email}\r\nEND:VCARD\r\n"


def names(vault_path: Path) -> list[str]:
    with Vault(vault_path) as vault:
        vault.unlock(PASSPHRASE)
        return sorted(c.name for c in vault.contacts())


def storage(tmp_path: Path) -> Path:
    """A vdirsyncer storage: two collections, one card with a broken e-mail, a status folder."""
    root = tmp_path / "contacts"
    for collection, uid, name, email in (
        ("personal", "p-1", "Anna Schmidt", "anna@schmidt.example"),
        ("work", "w-1", "Bernd Becker", "bernd@becker.example"),
        ("work", "w-2", "Broken Mail", "not-an-address"),
    ):
        (root / collection).mkdir(parents=True, exist_ok=True)
        (root / collection / f"{uid}.vcf").write_text(CARD.format(uid=uid, name=name, email=email))
    (root / ".status").mkdir()
    (root / ".status" / "x.vcf").write_text(CARD.format(uid="s", name="Status File", email="s@example.org"))
    return root


def imp(run: Run, vault_path: Path, path: Path, *options: str) -> tuple[int, str, str]:
    result = run("import", "--vault", str(vault_path), "--passphrase-file", "-", str(path),
                 "--basis", "contract", "--rule", "invoices-8y", "--trigger", "2025-03-10", *options)  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def test_a_folder_with_a_bad_file_names_it_and_imports_nothing(run: Run, cli_vault: Path, tmp_path: Path) -> None:
    code, out, err = imp(run, cli_vault, storage(tmp_path))
    assert code == 1 and "nothing was imported" in err and "--skip-invalid" in err
    assert out.startswith("contacts (vcard): NOT imported")
    assert "error    #3 (line 1) - work/w-2.vcf: e-mail: " in out
    assert "2 added, 0 merged, 0 skipped, 1 error" in out
    assert names(cli_vault) == []


def test_skip_invalid_imports_the_rest_of_the_folder(run: Run, cli_vault: Path, tmp_path: Path) -> None:
    code, out, err = imp(run, cli_vault, storage(tmp_path), "--skip-invalid", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["committed"] and report["added"] == 2 and report["errors"] == 1
    assert [(e["file"], e["outcome"]) for e in report["entries"]] == [
        ("personal/p-1.vcf", "added"),
        ("work/w-1.vcf", "added"),
        ("work/w-2.vcf", "error"),
    ]
    assert names(cli_vault) == ["Anna Schmidt", "Bernd Becker"]


def test_an_empty_folder_is_refused_in_one_sentence(run: Run, cli_vault: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = imp(run, cli_vault, tmp_path / "empty")
    assert code != 0 and out == ""
    assert "This folder cannot be imported; nothing was imported. (no .vcf file in this folder" in err
    assert "Traceback" not in err


def test_a_file_name_that_is_not_utf8_is_printed_without_a_crash(run: Run, cli_vault: Path, tmp_path: Path) -> None:
    root = tmp_path / "contacts"
    root.mkdir()
    (root / "a.vcf").write_text(CARD.format(uid="a", name="Anna Schmidt", email="anna@schmidt.example"))
    try:
        (root / os.fsdecode(b"M\xfcller.vcf")).write_text(CARD.format(uid="m", name="M", email="m@example.org"))
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    code, out, err = imp(run, cli_vault, root)
    assert code == 1 and "Traceback" not in err
    assert "M\ufffdller.vcf: the file name is not valid UTF-8; rename the file" in out


def test_the_help_says_a_folder_is_taken(run: Run) -> None:
    result = run("import", "--help", stdin=None)
    assert result.returncode == 0
    assert "PATH" in result.stdout and "or a folder of .vcf files as khard and vdirsyncer" in " ".join(
        result.stdout.split()
    )
