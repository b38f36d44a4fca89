"""Issue 11 at the command line: provable consent, further duties, the suppression
list, erasure with --keep and --not-needed-for-claims, objection, holds and
restrictions the person asked for (Art. 18(3)), review, and what `show` prints.

Most tests call the CLI entry point in-process (as test_record_keeping_cli does);
the last one runs the installed `sealbook` to see what a script sees.  The CLI
reads the real clock, so dates are relative to today.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Run
from tests.conftest import PASSPHRASE, WEAK_KDF
from tui.cli import common, main
from vault.retention import add_months
from vault.service import Vault

TODAY = date.today()
GIVEN = TODAY - timedelta(days=40)  # consent given
INVOICE = TODAY - timedelta(days=20)  # an invoice: kept 8 years from the end of its year
INVOICE_END = date(INVOICE.year + 8, 12, 31)
CONSENT = ["--basis", "consent", "--rule", "consent"]
PROVEN = [*CONSENT, "--consent-given", GIVEN.isoformat(), "--consent-method", "web form"]
CONTRACT = ["--basis", "contract", "--rule", "invoices-8y", "--trigger", INVOICE.isoformat()]
INQUIRY = ["--basis", "contract", "--rule", "inquiry-6m", "--trigger", (TODAY - timedelta(days=5)).isoformat()]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `sealbook ARGV`; no traceback may ever reach the user."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse refuses a bad command line this way
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def v(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(common, "harden", lambda: None)  # keep the test process dumpable
    monkeypatch.setenv("SEALBOOK_CONFIG", str(tmp_path / "no-config.toml"))
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    path = tmp_path / "cli.sqlite"
    Vault.create(path, PASSPHRASE, kdf=WEAK_KDF, allow_weak_kdf=True).close()
    return ["--vault", str(path), "--passphrase-file", str(tmp_path / "pass")]


def add(capsys: pytest.CaptureFixture[str], v: list[str], *fields: str) -> str:
    code, out, err = cli(capsys, "add", *v, *fields)
    assert code == 0, err
    return out.strip()


def shown(capsys: pytest.CaptureFixture[str], v: list[str], record_id: str) -> dict[str, Any]:
    code, out, err = cli(capsys, "show", *v, "--json", record_id)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def text(capsys: pytest.CaptureFixture[str], v: list[str], record_id: str) -> str:
    code, out, err = cli(capsys, "show", *v, record_id)
    assert code == 0, err
    return out


def names(capsys: pytest.CaptureFixture[str], v: list[str], query: str) -> list[str]:
    code, out, _ = cli(capsys, "find", *v, "--restricted", "--json", query)
    assert code == 0
    return [c["name"] for c in json.loads(out)]


# --- 1. provable consent and further duties --------------------------------------------------


def test_consent_without_day_or_method_is_refused_and_nothing_stored(
    v: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "add", *v, "--name", "Erika Weiß", *CONSENT, "--consent-given", GIVEN.isoformat())
    assert code == 1
    assert "sealbook: consent:" in err and "Art. 7(1)" in err and "--consent-method TEXT" in err
    code, _, err = cli(capsys, "add", *v, "--name", "Erika Weiß", *CONSENT, "--consent-method", "web form")
    assert code == 1 and "--consent-given DATE" in err and "--consent-method" not in err
    assert names(capsys, v, "weiss") == []

    record_id = add(capsys, v, "--name", "Erika Weiß", *PROVEN)
    data = shown(capsys, v, record_id)
    assert (data["consent_given"], data["consent_method"]) == (GIVEN.isoformat(), "web form")
    assert "Consent method:        web form" in text(capsys, v, record_id)


def test_consent_options_say_they_are_required_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("add", "edit"):
        code, out, _ = cli(capsys, command, "--help")
        assert code == 0
        flat = " ".join(out.split())
        assert "--consent-method TEXT how consent was given" in flat
        assert flat.count("required with --basis consent (Art. 7(1) GDPR)") == 2


def test_edit_to_basis_consent_needs_the_proof_too(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Kai", *CONTRACT)
    code, _, err = cli(capsys, "edit", *v, record_id, *CONSENT)
    assert code == 1 and "Art. 7(1)" in err and "--consent-given DATE and --consent-method TEXT" in err
    assert shown(capsys, v, record_id)["basis"] == "contract"
    code, _, _ = cli(capsys, "edit", *v, record_id, *PROVEN, "--consent-method", "in person")
    assert code == 0 and shown(capsys, v, record_id)["consent_method"] == "in person"


def test_duties_are_added_replaced_and_cleared(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    letter = TODAY - timedelta(days=3)
    record_id = add(
        capsys, v, "--name", "Jana", *PROVEN, "--duty", f"invoices-8y:{INVOICE}", "--duty", f"letters-6y:{letter}"
    )
    data = shown(capsys, v, record_id)
    assert data["duties"] == [
        {"rule": "invoices-8y", "trigger": INVOICE.isoformat()},
        {"rule": "letters-6y", "trigger": letter.isoformat()},
    ]
    assert data["retention_end"] is None  # the consent is open-ended until withdrawn
    lines = text(capsys, v, record_id)
    assert f"Further rule:          invoices-8y from {INVOICE}, until {INVOICE_END}" in lines
    assert f"letters-6y from {letter}, until {date(letter.year + 6, 12, 31)}" in lines

    claims = TODAY - timedelta(days=1)
    code, out, _ = cli(capsys, "edit", *v, record_id, "--duty", f"limitation-3y:{claims}", "--json")
    assert code == 0 and json.loads(out)["duties"] == [{"rule": "limitation-3y", "trigger": claims.isoformat()}]
    code, out, _ = cli(capsys, "edit", *v, record_id, "--org", "ACME", "--json")
    assert json.loads(out)["duties"] == [{"rule": "limitation-3y", "trigger": claims.isoformat()}]  # kept
    code, out, _ = cli(capsys, "edit", *v, record_id, "--no-duties", "--json")
    assert code == 0 and json.loads(out)["duties"] == []
    assert "Further rule" not in text(capsys, v, record_id)


def test_a_contract_record_ends_with_its_latest_duty(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    books = TODAY - timedelta(days=2)
    record_id = add(capsys, v, "--name", "Lena", *CONTRACT, "--duty", f"books-10y:{books}")
    assert shown(capsys, v, record_id)["retention_end"] == date(books.year + 10, 12, 31).isoformat()


@pytest.mark.parametrize(
    ("duty", "code", "says"),
    [
        ("invoices-8y", 2, "not RULE:DATE"),
        (":2025-01-01", 2, "not RULE:DATE"),
        ("invoices-8y:2025-13-01", 2, "not a date"),
        ("no-such-rule:2025-01-01", 1, "`sealbook rules` lists them"),
        ("consent:2025-01-01", 1, "no fixed period"),
    ],
)
def test_a_bad_duty_is_a_clear_error(
    v: list[str], capsys: pytest.CaptureFixture[str], duty: str, code: int, says: str
) -> None:
    got, _, err = cli(capsys, "add", *v, "--name", "Nora", *CONTRACT, "--duty", duty)
    assert got == code and says in err
    assert names(capsys, v, "nora") == []


def test_duty_and_no_duties_together_are_refused(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Nora", *CONTRACT, "--duty", f"letters-6y:{INVOICE}")
    code, _, err = cli(capsys, "edit", *v, record_id, "--duty", f"books-10y:{INVOICE}", "--no-duties")
    assert code == 1 and "--no-duties" in err
    assert shown(capsys, v, record_id)["duties"] == [{"rule": "letters-6y", "trigger": INVOICE.isoformat()}]


# --- 2. the suppression list --------------------------------------------------------------------


def test_an_erased_person_is_refused_without_anyway_and_added_with_it(
    v: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    first = add(capsys, v, "--name", "Otto", "--email", "otto@example.org", *INQUIRY)
    code, out, _ = cli(capsys, "erase", *v, first, "--yes")
    assert code == 0 and "deleted now" in out

    again = ["--name", "Otto Neu", "--email", "OTTO@example.org", *INQUIRY]
    code, out, err = cli(capsys, "add", *v, *again)
    assert code == common.EXIT_SUPPRESSED == 7
    assert "suppression list" in err and f"had their data erased on {TODAY}" in err
    assert "add --anyway to add them again" in err
    assert "otto@" not in err.lower() and out == ""
    assert names(capsys, v, "otto") == []

    record_id = add(capsys, v, *again, "--anyway")
    assert names(capsys, v, "otto") == ["Otto Neu"] and len(record_id) == 36


def test_an_edit_adding_an_erased_persons_email_is_refused_without_anyway(
    v: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    first = add(capsys, v, "--name", "Otto", "--email", "otto@example.org", *INQUIRY)
    assert cli(capsys, "erase", *v, first, "--yes")[0] == 0
    other = add(capsys, v, "--name", "Paula", "--email", "paula@example.org", *INQUIRY)

    code, out, err = cli(capsys, "edit", *v, other, "--email", "OTTO@example.org")
    assert code == common.EXIT_SUPPRESSED
    assert "suppression list" in err and f"had their data erased on {TODAY}" in err
    assert "edit --anyway" in err and "otto@" not in err.lower() and out == ""
    assert shown(capsys, v, other)["emails"] == ["paula@example.org"]

    assert cli(capsys, "edit", *v, other, "--email", "OTTO@example.org", "--anyway")[0] == 0
    assert shown(capsys, v, other)["emails"] == ["OTTO@example.org"]


# --- 3. erasure ---------------------------------------------------------------------------


def test_erase_keep_email_keeps_only_the_first_email(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(
        capsys,
        v,
        "--name",
        "Paul",
        "--email",
        "paul@example.org",
        "--email",
        "paul@work.example",
        "--phone",
        "030 1234567",
        "--org",
        "Paul GmbH",
        "--note",
        "owes us",
        *CONTRACT,
    )
    code, out, _ = cli(capsys, "erase", *v, record_id, "--keep", "email", "--dry-run")
    assert code == 0 and "Would be restricted" in out and "Would keep: name, dates and rules, first e-mail;" in out
    assert shown(capsys, v, record_id)["notes"] == "owes us"  # a dry run changes nothing

    code, out, _ = cli(capsys, "erase", *v, record_id, "--keep", "email", "--yes")
    assert code == 0
    assert "Record restricted, not deleted" in out and "Art. 17(3)(b) GDPR" in out and str(INVOICE_END) in out
    assert "Kept: name, dates and rules, first e-mail; everything else deleted." in out
    data = shown(capsys, v, record_id)
    assert data["emails"] == ["paul@example.org"]
    assert (data["phones"], data["org"], data["notes"]) == ([], "", "")
    assert (data["state"], data["erasure_requested"]) == ("restricted", TODAY.isoformat())
    assert f"Erasure requested:     {TODAY}" in text(capsys, v, record_id)


def test_erase_keeps_org_source_purpose_by_default_and_says_so_in_json(
    v: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    fields = ["--org", "Q AG", "--source", "fair", "--purpose", "billing", *CONTRACT]
    record_id = add(capsys, v, "--name", "Quirin", "--email", "q@example.org", *fields)
    code, out, _ = cli(capsys, "erase", *v, record_id, "--yes", "--json")
    result = json.loads(out)
    assert code == 0 and result["outcome"] == "restricted" and result["kept"] == ["org", "purpose", "source"]
    data = shown(capsys, v, record_id)
    assert (data["emails"], data["org"], data["source"], data["purpose"]) == ([], "Q AG", "fair", "billing")

    other = add(capsys, v, "--name", "Rita", *fields)
    code, out, _ = cli(capsys, "erase", *v, other, "--yes", "--keep", "none", "--json")
    assert code == 0 and json.loads(out)["kept"] == []
    assert (shown(capsys, v, other)["org"], shown(capsys, v, other)["purpose"]) == ("", "")
    code, _, err = cli(capsys, "erase", *v, other, "--yes", "--keep", "notes")
    assert code == 2 and "invalid choice" in err


def test_erase_not_needed_for_claims_deletes_a_legal_claims_record(
    v: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    ended = TODAY - timedelta(days=10)
    claims = ["--basis", "contract", "--rule", "limitation-3y", "--trigger", ended.isoformat()]
    record_id = add(capsys, v, "--name", "Sven", *claims)
    code, out, _ = cli(capsys, "erase", *v, record_id, "--dry-run")
    assert code == 0 and "Would be restricted" in out and "Art. 17(3)(e) GDPR" in out
    code, out, _ = cli(capsys, "erase", *v, record_id, "--dry-run", "--not-needed-for-claims")
    assert code == 0 and "Would be deleted now" in out
    code, out, _ = cli(capsys, "erase", *v, record_id, "--not-needed-for-claims", "--yes", "--json")
    assert code == 0 and json.loads(out)["outcome"] == "deleted"
    assert cli(capsys, "show", *v, record_id)[0] == common.EXIT_NOT_FOUND

    statutory = add(capsys, v, "--name", "Tina", *CONTRACT)  # a statutory duty still keeps it
    code, out, _ = cli(capsys, "erase", *v, statutory, "--not-needed-for-claims", "--yes")
    assert code == 0 and "restricted, not deleted" in out and "Art. 17(3)(b) GDPR" in out


def test_erase_still_needs_yes_without_a_terminal(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Uwe", *INQUIRY)
    code, out, err = cli(capsys, "erase", *v, record_id, "--keep", "email")
    assert code == 1 and "--yes" in err and "Would be deleted now" in out
    assert names(capsys, v, "uwe") == ["Uwe"]


# --- 4. objection --------------------------------------------------------------------------


def test_object_records_the_day_and_erases(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    on = TODAY - timedelta(days=2)
    kept = add(capsys, v, "--name", "Vera", "--email", "vera@example.org", "--phone", "030 1234567", *CONTRACT)
    code, out, _ = cli(capsys, "object", *v, kept, "--on", on.isoformat(), "--keep", "phone", "--yes")
    assert code == 0
    assert f"Objection (Art. 21) of {on} recorded" in out and "restricted, not deleted" in out
    assert "Kept: name, dates and rules, first phone;" in out
    data = shown(capsys, v, kept)
    assert (data["objected"], data["erasure_requested"], data["state"]) == (
        on.isoformat(),
        on.isoformat(),  # the objection is the erasure request, of its own day
        "restricted",
    )
    assert (data["emails"], data["phones"]) == ([], ["+49301234567"])
    assert f"Objected:              {on}" in text(capsys, v, kept)

    gone = add(capsys, v, "--name", "Willi", "--email", "willi@example.org", *INQUIRY)
    code, out, _ = cli(capsys, "object", *v, gone, "--yes", "--json")
    result = json.loads(out)
    assert code == 0 and result["outcome"] == "deleted" and result["objected"] == TODAY.isoformat()
    code, _, err = cli(capsys, "add", *v, "--name", "Willi", "--email", "willi@example.org", *INQUIRY)
    assert code == 7 and "objected" in err


def test_object_in_the_future_or_without_yes_is_refused(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Xaver", *INQUIRY)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    code, _, err = cli(capsys, "object", *v, record_id, "--on", tomorrow, "--yes")
    assert code == 1 and "future" in err
    code, _, err = cli(capsys, "object", *v, record_id)
    assert code == 1 and "--yes" in err
    code, out, _ = cli(capsys, "object", *v, record_id, "--dry-run")
    assert code == 0 and "Would be deleted now" in out
    assert shown(capsys, v, record_id)["objected"] is None


# --- 5. holds and restrictions (Art. 18) ----------------------------------------------------------


def test_a_person_requested_hold_is_released_only_with_informed(
    v: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    asked, told = TODAY - timedelta(days=9), TODAY - timedelta(days=1)
    record_id = add(capsys, v, "--name", "Yara", *CONTRACT)
    code, out, _ = cli(capsys, "hold", *v, record_id, "--reason", "tax audit 2025", "--requested", asked.isoformat())
    assert code == 0 and "(tax audit 2025)" in out and f"the person asked on {asked}" in out
    data = shown(capsys, v, record_id)
    assert (data["hold"], data["hold_reason"], data["state"]) == (True, "tax audit 2025", "restricted")
    assert data["restriction_requested"] == asked.isoformat()
    lines = text(capsys, v, record_id)
    assert "Legal hold:            yes (tax audit 2025)" in lines and f"Restriction requested: {asked}" in lines

    code, _, err = cli(capsys, "release", *v, record_id)
    assert code == 1 and "Art. 18(3)" in err and "--informed DATE" in err
    assert shown(capsys, v, record_id)["hold"] is True
    code, _, err = cli(capsys, "unrestrict", *v, record_id, "--informed", told.isoformat())
    assert code == 1 and "release the hold" in err and "Something went wrong" not in err
    code, _, err = cli(capsys, "release", *v, record_id, "--informed", (asked - timedelta(days=1)).isoformat())
    assert code == 1 and "between the person's request and today" in err

    code, out, _ = cli(capsys, "release", *v, record_id, "--informed", told.isoformat(), "--json")
    data = json.loads(out)
    assert code == 0 and (data["hold"], data["state"], data["restriction_requested"]) == (False, "active", None)
    code, out, _ = cli(capsys, "log", "--vault", v[1], "--json", "--action", "released")
    assert [e["detail"] for e in json.loads(out)] == [f"person informed {told}"]


def test_release_completes_a_pending_erasure(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Zoe", *INQUIRY)
    assert cli(capsys, "hold", *v, record_id)[0] == 0
    code, out, _ = cli(capsys, "erase", *v, record_id, "--yes")
    assert code == 0 and "legal hold applies" in out and "restricted, not deleted" in out
    code, out, _ = cli(capsys, "release", *v, record_id)
    assert code == 0 and "the pending erasure was completed" in out and f"record {record_id} deleted" in out
    assert cli(capsys, "show", *v, record_id)[0] == common.EXIT_NOT_FOUND

    other = add(capsys, v, "--name", "Zeno", *INQUIRY)
    cli(capsys, "hold", *v, other)
    cli(capsys, "erase", *v, other, "--yes")
    code, out, _ = cli(capsys, "release", *v, other, "--json")
    assert code == 0 and json.loads(out) == {
        "id": other,
        "deleted": True,
        "reason": "the pending erasure was completed",
    }


def test_a_person_requested_restriction_is_lifted_only_with_informed(
    v: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    asked, told = TODAY - timedelta(days=5), TODAY
    record_id = add(capsys, v, "--name", "Anton", *CONTRACT)
    code, out, _ = cli(capsys, "restrict", *v, record_id, "--requested", asked.isoformat())
    assert code == 0 and f"the person asked on {asked}" in out
    assert shown(capsys, v, record_id)["restriction_requested"] == asked.isoformat()
    for refused in (["unrestrict", *v, record_id], ["restrict", *v, record_id, "--lift"]):
        code, _, err = cli(capsys, *refused)
        assert code == 1 and "Art. 18(3)" in err and "--informed DATE" in err
    assert shown(capsys, v, record_id)["state"] == "restricted"
    code, out, _ = cli(capsys, "unrestrict", *v, record_id, "--informed", told.isoformat())
    assert code == 0 and "Restriction lifted" in out
    data = shown(capsys, v, record_id)
    assert (data["state"], data["restriction_requested"]) == ("active", None)

    cli(capsys, "restrict", *v, record_id, "--requested", told.isoformat())
    code, _, _ = cli(capsys, "restrict", *v, record_id, "--lift", "--informed", told.isoformat())
    assert code == 0 and shown(capsys, v, record_id)["state"] == "active"
    code, _, err = cli(capsys, "restrict", *v, record_id, "--requested", (TODAY + timedelta(days=1)).isoformat())
    assert code == 1 and "future" in err
    code, _, err = cli(capsys, "restrict", *v, record_id, "--informed", told.isoformat())
    assert code == 1 and "--lift" in err and shown(capsys, v, record_id)["state"] == "active"


def test_unrestrict_refuses_a_pending_erasure_in_plain_words(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Bea", *CONTRACT)
    cli(capsys, "erase", *v, record_id, "--yes")
    code, _, err = cli(capsys, "unrestrict", *v, record_id)
    assert code == 1 and "restriction: an erasure is waiting" in err
    assert shown(capsys, v, record_id)["state"] == "restricted"


# --- 6. review --------------------------------------------------------------------------------


def test_review_moves_the_next_review(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Clara", *PROVEN)
    assert shown(capsys, v, record_id)["review_at"] == add_months(GIVEN, 24).isoformat()
    code, out, _ = cli(capsys, "review", *v, record_id)
    assert code == 0 and f"next review {add_months(TODAY, 24)}" in out
    data = shown(capsys, v, record_id)
    assert (data["reviewed"], data["review_at"]) == (TODAY.isoformat(), add_months(TODAY, 24).isoformat())
    assert f"Reviewed:              {TODAY}" in text(capsys, v, record_id)

    contract = add(capsys, v, "--name", "Dora", *CONTRACT)
    code, _, err = cli(capsys, "review", *v, contract)
    assert code == 1 and "no review date" in err


# --- 7. show, and withdrawal through edit --------------------------------------------------------------


def test_show_leaves_out_what_is_not_set(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Emil", *CONTRACT)
    lines = text(capsys, v, record_id)
    for label in ("Consent method", "Further rule", "Erasure requested", "Objected", "Restriction requested"):
        assert label not in lines
    assert "Legal hold:            no" in lines
    data = shown(capsys, v, record_id)
    keys = ("consent_method", "duties", "erasure_requested", "objected", "hold_reason", "restriction_requested")
    assert [data[k] for k in keys] == ["", [], None, None, "", None]
    assert data["reviewed"] is None


def test_withdrawing_consent_through_edit_says_what_is_left(v: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    record_id = add(capsys, v, "--name", "Frida", "--email", "frida@example.org", *PROVEN)
    code, out, _ = cli(capsys, "edit", *v, record_id, "--consent-withdrawn", TODAY.isoformat())
    assert code == 0 and f"only a restricted proof of it is kept, until {date(TODAY.year + 3, 12, 31)}" in out
    data = shown(capsys, v, record_id)
    assert (data["rule"], data["emails"], data["state"]) == ("consent-proof", [], "restricted")


# --- the installed command, as a script sees it -----------------------------------------------------


def test_refusals_are_one_line_without_traceback_from_the_installed_command(run: Run, cli_vault: Path) -> None:
    opts = ["--vault", str(cli_vault), "--passphrase-file", "-"]
    refused = run("add", *opts, "--name", "Gerd", *CONSENT, "--consent-given", GIVEN.isoformat())
    errors = [line for line in refused.stderr.splitlines() if "key derivation" not in line]
    assert refused.returncode == 1 and len(errors) == 1 and "Art. 7(1)" in errors[0]
    assert "Traceback" not in refused.stderr + refused.stdout

    record_id = run("add", *opts, "--name", "Gerd", "--email", "g@example.org", *INQUIRY, check=True).stdout.strip()
    run("erase", *opts, record_id, "--yes", check=True)
    again = run("add", *opts, "--name", "Gerd", "--email", "g@example.org", *INQUIRY)
    assert again.returncode == 7 and "--anyway" in again.stderr and "Traceback" not in again.stderr
    assert run("add", *opts, "--name", "Gerd", "--email", "g@example.org", *INQUIRY, "--anyway").returncode == 0


def test_erase_requested_records_the_persons_day(capsys: pytest.CaptureFixture[str], v: list[str]) -> None:
    record_id = add(capsys, v, "--name", "Asker", *CONTRACT)
    day = (TODAY - timedelta(days=3)).isoformat()
    code, _, err = cli(capsys, "erase", *v, record_id, "--yes", "--requested", day)
    assert code == 0, err
    code, out, _ = cli(capsys, "show", *v, record_id, "--json")
    assert json.loads(out)["erasure_requested"] == day


def test_the_log_keeps_the_longest_action_apart_from_the_record_id(
    capsys: pytest.CaptureFixture[str], v: list[str]
) -> None:
    record_id = add(capsys, v, "--name", "Kept", *CONTRACT)
    assert cli(capsys, "erase", *v, record_id, "--yes")[0] == 0
    code, out, _ = cli(capsys, "log", "--vault", v[1], "--action", "erase-requested")
    assert code == 0 and f"erase-requested  {record_id}" in out
