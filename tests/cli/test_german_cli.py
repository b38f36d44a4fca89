"""Issue 14 at the command line: `sealbook` speaks German when asked to (LANG, the
config's `language`, `--lang de`) and English otherwise; help, argparse's own texts,
each family of error message and the confirmation prompt.

Most tests run the installed `sealbook` with a chosen environment (the locale is read
once per process); the confirmation needs a terminal and runs in-process.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import SEALBOOK, WEAK
from tests.conftest import PASSPHRASE, WEAK_KDF
from tui.cli import common, main
from tui.crash import crash_line
from vault import i18n
from vault.lockfile import lock_path_for
from vault.service import Vault

LOCALE = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private environment with no locale at all (English unless a test says otherwise)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOOK_") and k not in LOCALE}
    environ["SEALBOOK_CONFIG"] = str(tmp_path / "config.toml")
    environ["HOME"] = str(tmp_path / "home")
    for name, sub in (
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        environ[name] = str(tmp_path / "home" / sub)
    return environ


def sealbook(
    env: dict[str, str], *args: str, lang: str | None = None, stdin: str | None = None
) -> tuple[int, str, str]:
    environ = dict(env)
    if lang:
        environ["LANG"] = lang
    done = subprocess.run([SEALBOOK, *args], input=stdin, env=environ, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stdout, done.stderr


GERMAN = "de_DE.UTF-8"


@pytest.fixture
def vault_file(tmp_path: Path, env: dict[str, str]) -> Path:
    path = tmp_path / "v.sqlite"
    code, _out, err = sealbook(
        env, "init", "--vault", str(path), "--passphrase-file", "-", *WEAK, stdin=PASSPHRASE + "\n"
    )
    assert code == 0, err
    return path


# --- help ----------------------------------------------------------------------------------


def test_help_is_german_with_a_german_locale(env: dict[str, str]) -> None:
    code, out, _err = sealbook(env, "--help", lang=GERMAN)
    assert code == 0
    for word in ("Aufruf: sealbook", "Optionen:", "diese Hilfe anzeigen und beenden", "Exit-Codes:",
                 "Verschlüsseltes Adressbuch", "Tresordatei", "falsche Passphrase", "Sperrliste",
                 "Löschsperre", "abgelaufene Datensätze löschen"):  # fmt: skip
        assert word in out, word
    for english in ("usage:", "show this help message and exit", "exit codes:", "wrong passphrase",
                    "Encrypted, GDPR-aware address book"):  # fmt: skip
        assert english not in out, english


@pytest.mark.parametrize(
    "args",
    [["--lang", "de", "erase", "--help"], ["erase", "--lang", "de", "--help"], ["--lang=de", "erase", "--help"]],
    ids=["before", "after", "equals"],
)
def test_a_subcommand_help_is_german_with_lang_de(env: dict[str, str], args: list[str]) -> None:
    code, out, _err = sealbook(env, *args)
    assert code == 0
    assert "Aufruf: sealbook erase" in out
    assert "einen Kontakt löschen (Art. 17)" in out and "Aufbewahrungspflicht" in out and "Löschsperre" in out
    assert "Art. 17 Abs. 3 lit. e DSGVO" in " ".join(out.split())
    assert "ohne Rückfrage" in out and "do not ask for confirmation" not in out
    assert "erase a contact (Art. 17)" not in out and "usage:" not in out


def test_lang_en_overrides_a_german_locale(env: dict[str, str]) -> None:
    code, out, _err = sealbook(env, "--lang", "en", "--help", lang=GERMAN)
    assert code == 0
    assert "usage: sealbook" in out and "show this help message and exit" in out and "exit codes:" in out
    assert "Aufruf" not in out and "Optionen" not in out


def test_english_is_the_default_without_a_locale(env: dict[str, str]) -> None:
    code, out, _err = sealbook(env, "purge", "--help")
    assert code == 0
    assert "usage: sealbook purge" in out and "delete contacts whose retention period has ended" in out
    assert "Aufruf" not in out and "Bereinigung" not in out


def test_lc_all_decides_over_lang(env: dict[str, str]) -> None:
    code, out, _err = sealbook({**env, "LC_ALL": "C"}, "--help", lang=GERMAN)
    assert code == 0 and "usage:" in out and "Aufruf" not in out


def test_export_help_says_the_letter_follows_the_run(env: dict[str, str]) -> None:
    code, out, _err = sealbook(env, "export", "--help", lang=GERMAN)
    assert code == 0
    assert "Auskunft" in out and "Datenübertragbarkeit" in out and "Sprache des Antwortschreibens" in out


# --- the config's language ------------------------------------------------------------------


def test_the_config_language_applies_and_lang_beats_it(tmp_path: Path, env: dict[str, str]) -> None:
    Path(env["SEALBOOK_CONFIG"]).write_text('language = "de"\n', encoding="utf-8")
    missing = str(tmp_path / "missing.sqlite")
    code, _out, err = sealbook(env, "purge", "--vault", missing, lang="en_US.UTF-8")
    assert code == 5
    assert "keinen Tresor" in err and "No vault exists" not in err
    code, _out, err = sealbook(env, "--lang", "en", "purge", "--vault", missing)
    assert code == 5
    assert "No vault exists at this path" in err and "keinen Tresor" not in err


# --- each family of error message -----------------------------------------------------------


def test_wrong_passphrase_in_german(env: dict[str, str], vault_file: Path) -> None:
    code, _out, err = sealbook(
        env, "find", "x", "--vault", str(vault_file), "--passphrase-file", "-", lang=GERMAN, stdin="falsch falsch\n"
    )
    assert code == 3
    assert "Die Passphrase ist falsch; es wurde nichts geändert." in err
    assert "passphrase is wrong" not in err


def test_unknown_id_in_german(env: dict[str, str], vault_file: Path) -> None:
    code, _out, err = sealbook(
        env, "show", "abcdef12", "--vault", str(vault_file), "--passphrase-file", "-", lang=GERMAN,
        stdin=PASSPHRASE + "\n",
    )  # fmt: skip
    assert code == 5
    assert "keinen Kontakt" in err and "abcdef12" in err
    assert "No contact with this id" not in err


@pytest.mark.parametrize(
    ("args", "german"),
    [
        (["log", "--since", "2020-13-01"], "kein Datum (JJJJ-MM-TT): '2020-13-01'"),
        (["purge", "--today", "31.11.2026"], "erwartet ein Datum im Format JJJJ-MM-TT"),
        (["add", "--name", "X", "--basis", "contract", "--rule", "r", "--duty", "r:morgen"], "nach dem Doppelpunkt"),
    ],
    ids=["log-since", "purge-today", "duty"],
)
def test_an_invalid_date_in_german(env: dict[str, str], args: list[str], german: str) -> None:
    code, _out, err = sealbook(env, *args, lang=GERMAN)
    assert code == 2
    assert german in err and "Fehler: Argument" in err and "Aufruf:" in err
    assert "error:" not in err and "not a date" not in err and "expected a date" not in err


def test_vault_not_found_in_german(tmp_path: Path, env: dict[str, str]) -> None:
    code, _out, err = sealbook(env, "purge", "--vault", str(tmp_path / "nirgends.sqlite"), lang=GERMAN)
    assert code == 5
    assert "Unter diesem Pfad gibt es keinen Tresor" in err and "sealbook init" in err
    assert "No vault exists" not in err


def test_a_damaged_file_in_german(tmp_path: Path, env: dict[str, str]) -> None:
    garbage = tmp_path / "kaputt.sqlite"
    garbage.write_bytes(b"this is no vault at all\n" * 100)
    code, _out, err = sealbook(env, "purge", "--vault", str(garbage), lang=GERMAN)
    assert code == 4
    assert "kein sealbook-Tresor" in err
    assert "is not a sealbook vault" not in err


def test_busy_in_german(env: dict[str, str], vault_file: Path) -> None:
    fd = os.open(lock_path_for(vault_file), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        code, _out, err = sealbook(env, "purge", "--vault", str(vault_file), "--wait", "0.2", lang=GERMAN)
    finally:
        os.close(fd)
    assert code == 6
    assert "Ein anderer sealbook-Prozess arbeitet gerade mit diesem Tresor" in err and "später erneut" in err
    assert "try again later" not in err


def test_an_unknown_command_and_option_in_german(env: dict[str, str]) -> None:
    code, _out, err = sealbook(env, "sperren", lang=GERMAN)
    assert code == 2 and "ungültige Auswahl: 'sperren'" in err and "invalid choice" not in err
    code, _out, err = sealbook(env, "rules", "--farbe", lang=GERMAN)
    assert code == 2 and "unbekannte Argumente: --farbe" in err and "unrecognized arguments" not in err
    code, _out, err = sealbook(env, "show", lang=GERMAN)
    assert code == 2 and "diese Argumente fehlen: id" in err and "the following arguments are required" not in err


def test_a_refused_input_in_german(env: dict[str, str], vault_file: Path) -> None:
    code, _out, err = sealbook(
        env, "export", "--vault", str(vault_file), "--out", str(vault_file.parent / "out"), "--passphrase-file", "-",
        lang=GERMAN, stdin=PASSPHRASE + "\n",
    )  # fmt: skip
    assert code == 1
    assert "geben Sie einen Namen, eine E-Mail-Adresse oder eine Telefonnummer an" in err
    assert "give a name" not in err


def test_an_unexpected_error_is_one_german_line() -> None:
    try:
        i18n.set_language("de")
        line = crash_line(ValueError("secret"), None)
    finally:
        i18n.set_language("en")
    assert line == "sealbook: unerwarteter Fehler (ValueError); es wurde nichts weiter getan. " \
        "Es konnte kein Bericht geschrieben werden."  # fmt: skip
    assert "secret" not in line


# --- output and the confirmation ------------------------------------------------------------


@pytest.fixture
def german_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """main() in this process with LANG=de; the process language is English again afterwards."""
    for name in LOCALE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", GERMAN)
    monkeypatch.setenv("SEALBOOK_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setattr(common, "harden", lambda: None)  # keep the test process dumpable
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    path = tmp_path / "cli.sqlite"
    Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True).close()
    try:
        yield ["--vault", str(path), "--passphrase-file", str(tmp_path / "pass")]
    finally:
        i18n.set_language("en")
        common.CLI_LANGUAGE = None


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


INQUIRY = ["--basis", "contract", "--rule", "inquiry-6m", "--trigger", (date.today() - timedelta(days=5)).isoformat()]


@pytest.mark.parametrize("answer", ["j", "ja", "J", "y"])
def test_the_german_confirmation_accepts_j(
    german_in_process: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    code, out, err = run_main(capsys, "add", *german_in_process, "--name", "Uwe Ulm", *INQUIRY)
    assert code == 0, err
    record_id = out.strip()
    prompts: list[str] = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)

    def typed(prompt: str = "") -> str:
        prompts.append(prompt)
        return answer

    monkeypatch.setattr("builtins.input", typed)
    code, out, err = run_main(capsys, "erase", *german_in_process, record_id)
    assert code == 0, err
    assert prompts == ["Fortfahren? [j/N] "]
    assert "Würde sofort gelöscht" in out and "Datensatz sofort gelöscht" in out
    assert "Proceed?" not in out and "Would be deleted" not in out and "Nothing was changed" not in out
    code, out, err = run_main(capsys, "find", "Uwe", *german_in_process)
    assert code == 0 and out == "" and "Kein Kontakt passt." in err


def test_a_german_no_changes_nothing(
    german_in_process: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_main(capsys, "add", *german_in_process, "--name", "Uwe Ulm", *INQUIRY)
    assert code == 0, err
    record_id = out.strip()
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    code, out, _err = run_main(capsys, "erase", *german_in_process, record_id)
    assert code == 0 and "Es wurde nichts geändert." in out and "Nothing was changed" not in out


def test_show_speaks_german_with_german_dates_and_json_stays_iso(
    german_in_process: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(
        capsys, "add", *german_in_process, "--name", "Uwe Ulm", "--basis", "contract", "--rule", "invoices-8y",
        "--trigger", "2025-03-10",
    )  # fmt: skip
    assert code == 0, err
    record_id = out.strip()
    code, out, err = run_main(capsys, "show", *german_in_process, record_id)
    assert code == 0, err
    assert "Rechtsgrundlage:" in out and "Ende der Aufbewahrung:" in out and "Stichtag:" in out
    assert "31.12.2033" in out and "10.03.2025" in out
    assert "Legal basis" not in out and "2033-12-31" not in out
    code, out, err = run_main(capsys, "show", *german_in_process, record_id, "--json")
    assert code == 0 and '"retention_end": "2033-12-31"' in out and '"trigger": "2025-03-10"' in out


def test_the_english_output_is_unchanged_without_a_locale(
    german_in_process: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANG")
    code, _out, err = run_main(capsys, "find", "nobody", *german_in_process)
    assert code == 0 and "No contact matches." in err and "Kein Kontakt" not in err
