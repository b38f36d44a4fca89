"""The core commands, scripted with --passphrase-file - as the README documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import WEAK, Run

ADD = [
    "--name",
    "Jürgen Müller",
    "--email",
    "juergen@example.org",
    "--phone",
    "030 1234567",
    "--org",
    "Müller GmbH",
    "--basis",
    "contract",
    "--rule",
    "invoices-8y",
    "--trigger",
    "2025-03-10",
]
# Consent must be provable (Art. 7(1)): the day and how it was given.
CONSENT = ["--basis", "consent", "--rule", "consent", "--consent-given", "2025-01-02", "--consent-method", "web form"]


def add(run: Run, vault: Path, *extra: str) -> str:
    out = run("add", "--vault", str(vault), "--passphrase-file", "-", *(extra or ADD), check=True)
    return out.stdout.strip()


def test_init_add_find_show_roundtrip(run: Run, cli_vault: Path) -> None:
    record_id = add(run, cli_vault)
    assert len(record_id) == 36
    found = run("find", "--vault", str(cli_vault), "--passphrase-file", "-", "mueller", check=True)
    assert record_id[:8] in found.stdout and "Jürgen Müller" in found.stdout
    shown = run("show", "--vault", str(cli_vault), "--passphrase-file", "-", "--json", record_id, check=True)
    data = json.loads(shown.stdout)
    assert data["phones"] == ["+49301234567"]
    assert data["retention_end"] == "2033-12-31"
    assert data["basis_article"] == "Art. 6(1)(b) GDPR"
    human = run("show", "--vault", str(cli_vault), "--passphrase-file", "-", record_id[:6], check=True)
    assert "purge from 2034-01-01" in human.stdout


def test_vault_from_environment_variable(run: Run, cli_vault: Path, cli_env: dict[str, str]) -> None:
    cli_env["SEALBOOK_VAULT"] = str(cli_vault)
    record_id = add(run, cli_vault)
    found = run("find", "--passphrase-file", "-", "--json", "4930", check=True)
    assert [c["id"] for c in json.loads(found.stdout)] == [record_id]


def test_passphrase_from_a_file(run: Run, cli_vault: Path, tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("correct horse battery staple\n")
    record_id = add(run, cli_vault)
    out = run("show", "--vault", str(cli_vault), "--passphrase-file", str(secret), record_id, stdin=None)
    assert out.returncode == 0 and "Jürgen Müller" in out.stdout


def test_exit_codes_are_distinct(run: Run, cli_vault: Path, tmp_path: Path) -> None:
    assert run("find", "--vault", str(cli_vault), "--passphrase-file", "-", "x", stdin="wrong one\n").returncode == 3
    assert run("show", "--vault", str(cli_vault), "--passphrase-file", "-", "abcdef").returncode == 5
    assert run("find", "--vault", str(tmp_path / "none.sqlite"), "--passphrase-file", "-", "x").returncode == 5
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"\0" * 4096)
    assert run("find", "--vault", str(garbage), "--passphrase-file", "-", "x").returncode == 4
    assert run("add", "--vault", str(cli_vault)).returncode == 2  # missing --name: usage error
    bad = run(
        "add",
        "--vault",
        str(cli_vault),
        "--passphrase-file",
        "-",
        *ADD[:2],
        "--email",
        "nope",
        "--basis",
        "contract",
        "--rule",
        "invoices-8y",
        "--trigger",
        "2025-01-01",
    )
    assert bad.returncode == 1 and "e-mail" in bad.stderr and "nope" not in bad.stderr.replace("e-mail", "")


def test_damaged_record_is_reported_and_others_still_found(run: Run, cli_vault: Path) -> None:
    import sqlite3

    first = add(run, cli_vault)
    add(run, cli_vault, "--name", "Erika Weiß", *CONSENT)
    with sqlite3.connect(cli_vault) as conn:
        conn.execute("UPDATE contacts SET hold = 1 WHERE id = ?", (first,))
    out = run("find", "--vault", str(cli_vault), "--passphrase-file", "-", "weiss", check=True)
    assert "Erika Weiß" in out.stdout and first in out.stderr
    shown = run("show", "--vault", str(cli_vault), "--passphrase-file", "-", first)
    assert shown.returncode == 4 and "damaged" in shown.stderr


def test_weak_kdf_needs_the_flag_and_warns(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "weak.sqlite"
    refused = run("init", "--vault", str(target), "--passphrase-file", "-", *WEAK[:-1])
    assert refused.returncode == 1 and "floor" in refused.stderr and not target.exists()
    allowed = run("init", "--vault", str(target), "--passphrase-file", "-", *WEAK)
    assert allowed.returncode == 0 and "WARNING" in allowed.stderr


def test_edit_erase_hold_release_restrict_and_log(run: Run, cli_vault: Path) -> None:
    v = ["--vault", str(cli_vault), "--passphrase-file", "-"]
    record_id = add(run, cli_vault)
    edited = run("edit", *v, record_id, "--org", "Neu AG", "--json", check=True)
    assert json.loads(edited.stdout)["org"] == "Neu AG" and json.loads(edited.stdout)["meta_version"] == 2
    assert json.loads(run("hold", *v, record_id, "--json", check=True).stdout)["hold"] is True
    assert json.loads(run("release", *v, record_id, "--json", check=True).stdout)["hold"] is False
    preview = run("erase", *v, record_id, "--dry-run", check=True)
    assert "Would be restricted" in preview.stdout and "2034-01-01" in preview.stdout
    refused = run("erase", *v, record_id)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    run("erase", *v, record_id, "--yes", check=True)
    assert run("find", *v, "--json", "neu", check=True).stdout.strip() == "[]"
    assert "restricted" in run("find", *v, "--restricted", "neu", check=True).stdout
    consent = add(run, cli_vault, "--name", "Temp", *CONSENT)
    erased = run("erase", *v, consent, "--yes", "--json", check=True)
    assert json.loads(erased.stdout)["outcome"] == "deleted"
    log = json.loads(run("log", "--vault", str(cli_vault), "--json", stdin=None, check=True).stdout)
    actions = [(e["action"], e["record_id"]) for e in log]
    assert ("erased", consent) in actions and ("erase-requested", record_id) in actions
    only = json.loads(
        run("log", "--vault", str(cli_vault), "--json", "--action", "held", stdin=None, check=True).stdout
    )
    assert [e["action"] for e in only] == ["held"]
    assert "Müller" not in json.dumps(log) and "Neu AG" not in json.dumps(log)


def test_passwd_rewraps(run: Run, cli_vault: Path) -> None:
    record_id = add(run, cli_vault)
    run(
        "passwd",
        "--vault",
        str(cli_vault),
        "--passphrase-file",
        "-",
        "--new-passphrase-file",
        "-",
        stdin="correct horse battery staple\nan entirely new passphrase\n",
        check=True,
    )
    assert run("show", "--vault", str(cli_vault), "--passphrase-file", "-", record_id).returncode == 3
    ok = run(
        "show", "--vault", str(cli_vault), "--passphrase-file", "-", record_id, stdin="an entirely new passphrase\n"
    )
    assert ok.returncode == 0


def test_rules_lists_builtin_and_owner_rules(run: Run, cli_env: dict[str, str]) -> None:
    Path(cli_env["SEALBOOK_CONFIG"]).write_text('[rules.tax-7y]\nlabel = "Tax file"\nyears = 7\n')
    out = json.loads(run("rules", "--json", stdin=None, check=True).stdout)
    assert {"invoices-8y", "consent", "tax-7y"} <= {r["key"] for r in out}


@pytest.mark.parametrize(
    "command",
    [
        "init",
        "add",
        "find",
        "show",
        "edit",
        "erase",
        "object",
        "restrict",
        "unrestrict",
        "hold",
        "release",
        "review",
        "passwd",
        "rules",
        "log",
    ],
)
def test_every_command_has_help(run: Run, command: str) -> None:
    out = run(command, "--help", stdin=None)
    assert out.returncode == 0 and "--vault" in out.stdout and "exit codes" in out.stdout
