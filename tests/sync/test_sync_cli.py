"""`sealbook sync ...` end to end through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, WEAK_KDF, draft
from tests.sync.conftest import make_vault
from tui.cli import main


@pytest.fixture
def pass_file(tmp_path: Path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_text(PASSPHRASE + "\n")
    path.chmod(0o600)
    return path


def test_setup_push_clone_pull_status_round_trip(
    tmp_path: Path, clock: object, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_path = tmp_path / "a" / "vault.sqlite"
    a_path.parent.mkdir()
    vault = make_vault(a_path, clock)  # type: ignore[arg-type]
    vault.add(draft(name="Cli Person"))
    vault.close()
    folder = tmp_path / "shared"
    folder.mkdir()
    assert main(["sync", "setup", str(folder), "--vault", str(a_path)]) == 0
    assert main(["sync", "push", "--vault", str(a_path)]) == 0  # locked push: no passphrase needed
    out = capsys.readouterr()
    assert "Pushed version 1" in out.out
    assert "done" in out.err  # progress on stderr
    b_path = tmp_path / "b" / "vault.sqlite"
    assert main(["sync", "clone", str(folder), "--vault", str(b_path), "--passphrase-file", str(pass_file)]) == 0
    assert "Cloned version 1" in capsys.readouterr().out
    assert main(["sync", "pull", "--vault", str(b_path), "--passphrase-file", str(pass_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "up-to-date"
    assert main(["sync", "status", "--vault", str(b_path), "--json", "--check"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["configured"] and status["counter"] == 1 and status["remote_changed"] is False


def test_pull_of_damaged_blob_exits_4_with_a_clear_message(
    tmp_path: Path, clock: object, pass_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_path = tmp_path / "vault.sqlite"
    make_vault(a_path, clock).close()  # type: ignore[arg-type]
    folder = tmp_path / "shared"
    folder.mkdir()
    main(["sync", "setup", str(folder), "--vault", str(a_path)])
    main(["sync", "push", "--vault", str(a_path), "--quiet"])
    blob = folder / "sealbook.blob"
    blob.write_bytes(blob.read_bytes()[:-40])
    (tmp_path / "b").mkdir()
    capsys.readouterr()
    code = main(
        [
            "sync",
            "clone",
            str(folder),
            "--vault",
            str(tmp_path / "b" / "v.sqlite"),
            "--passphrase-file",
            str(pass_file),
            "--quiet",
        ]
    )
    assert code == 4
    assert "damaged, truncated or was tampered with" in capsys.readouterr().err
    assert not (tmp_path / "b" / "v.sqlite").exists()


def test_push_without_setup_says_how_to_set_up(
    tmp_path: Path, clock: object, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "vault.sqlite"
    make_vault(path, clock).close()  # type: ignore[arg-type]
    assert main(["sync", "push", "--vault", str(path)]) == 1
    assert "sealbook sync setup" in capsys.readouterr().err


_ = WEAK_KDF
