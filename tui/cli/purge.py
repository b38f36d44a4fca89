"""`sealbook purge` and `sealbook schedule install | status | remove` (issue 5).

The purge needs no passphrase: it works on signed plaintext metadata only.
Its output (and the log of a scheduled run) holds record ids and dates, never
personal data.  The ids are read from the file before any signature is
checked, so every one is printed through ``common.plain``: an id made of
terminal escapes must not reach the terminal, the log or a cron mail.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.cli import common
from vault.errors import InvalidInput, VaultError
from vault.i18n import _, format_date, language, ngettext, set_language

if TYPE_CHECKING:
    from vault.purge import PurgeReport


def register(subparsers: Any) -> None:
    """Add `purge` and `schedule`."""
    parser = common.command(
        subparsers,
        "purge",
        _purge,
        _("delete contacts whose retention period has ended (no passphrase needed)"),
    )
    parser.add_argument("--dry-run", action="store_true", help=_("list what would be deleted; change nothing"))
    parser.add_argument(
        "--today",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help=_("purge as of this date (default: the machine's local date); not in the future"),
    )
    parser.add_argument(
        "--wait",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help=_("how long to wait for another sealbook process to finish (default 10); then exit 6"),
    )
    parser.add_argument(
        "--log",
        action="store_true",
        help=_("also append a summary to the log folder (used by the schedule; logs kept 7 days)"),
    )
    parser.add_argument(
        "--expect-key",
        type=_fingerprint,
        metavar="FINGERPRINT",
        help=_("refuse to run unless the vault's verify key has this fingerprint (the schedule pins it)"),
    )
    common.add_json_option(parser)

    sched = common.command(subparsers, "schedule", _schedule_help, _("run the purge every day (systemd or cron)"))
    actions = sched.add_subparsers(dest="schedule_action", metavar="ACTION")
    install = actions.add_parser(
        "install",
        help=_("install a daily systemd user timer, or print a crontab line"),
        description=_(
            "Install a daily purge of the vault. With systemd: a user service + timer "
            "(Persistent=true: a missed run catches up). Without: prints the crontab line to add."
        ),
    )
    common.add_vault_option(install)
    install.add_argument("--at", metavar="HH:MM", help=_("local time (default 03:30)"))  # vault.schedule.DEFAULT_AT
    install.add_argument(
        "--method",
        choices=("auto", "systemd", "cron"),
        default="auto",
        help=_("auto (default): systemd when the machine runs it, else cron"),
    )
    install.set_defaults(handler=_schedule_install)
    status = actions.add_parser("status", help=_("show the installed schedule and the last run"))
    common.add_vault_option(status)
    common.add_json_option(status)
    status.set_defaults(handler=_schedule_status)
    remove = actions.add_parser("remove", help=_("disable and delete the schedule"))
    common.add_vault_option(remove)
    remove.set_defaults(handler=_schedule_remove)
    sched.set_defaults(schedule_parser=sched)


def _fingerprint(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise argparse.ArgumentTypeError(_("expected 32 hex digits"))
    return text.lower()


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected a date as YYYY-MM-DD")) from None


# --- purge ----------------------------------------------------------------------------------


def exit_code(report: PurgeReport) -> int:
    """4 when a record was refused (tampered), 6 when the erasure step must be retried."""
    if report.refused:
        return common.EXIT_DAMAGED
    if not report.dry_run and not report.scrubbed:
        return common.EXIT_BUSY
    return common.EXIT_OK


def _purge(args: argparse.Namespace) -> int:
    today: date | None = args.today
    if today is not None and today > date.today():
        raise InvalidInput("--today", _("lies in the future; refusing to delete records before their time"))
    try:
        with common.open_vault(args, unlock=False) as vault:
            report = vault.purge(today, dry_run=args.dry_run, wait=args.wait, expect_key=args.expect_key)
    except VaultError as error:
        if args.log:
            _log([f"{_stamp()} purge error: {_english(error)} exit={common.exit_code_for(error)}"])
        raise
    code = exit_code(report)
    if args.json:
        common.print_json(_as_json(report, code))
    else:
        _print_report(report)
    if args.log and not report.dry_run:
        _log(
            [
                f"{_stamp()} refused {common.plain(record_id)} (metadata signature invalid)"
                for record_id in report.refused
            ]
            + [_summary(report, code)]
        )
    return code


def _english(error: VaultError) -> str:
    """An error for the log file, which stays English whatever language the run speaks."""
    before = language()
    set_language("en")
    try:
        return common.plain(error, None)
    finally:
        set_language(before)


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _summary(report: PurgeReport, code: int) -> str:
    return (
        f"{_stamp()} purge today={report.today.isoformat()} purged={len(report.purged)} "
        f"refused={len(report.refused)} erased={'yes' if report.scrubbed else 'no'} "
        f"push_pending={'yes' if report.push_pending else 'no'}"
        f"{' push_failed' if report.push_error else ''} log_rows_dropped={report.log_rows_dropped} "
        f"requests_dropped={report.requests_dropped} tombstones_due={report.tombstones_due} exit={code}"
    )


def _log(lines: list[str]) -> None:
    from vault import schedule  # here: its imports (subprocess, platformdirs) are not for `--help` (issue 15)

    try:
        # Each line once more as a whole: the values in it are escaped already,
        # and escapes are printable, so this changes nothing but a stray control.
        schedule.write_log([common.plain(line, None) for line in lines], date.today())
    except OSError as exc:
        # A log we cannot write must not hide the purge's own result.
        print(_("sealbook: cannot write the purge log ({reason})").format(reason=exc.strerror), file=sys.stderr)


def _as_json(report: PurgeReport, code: int) -> dict[str, Any]:
    return {
        "today": report.today,
        "dry_run": report.dry_run,
        "purged": [{"record_id": p.record_id, "retention_end": p.retention_end} for p in report.purged],
        "refused": list(report.refused),
        "erased": report.scrubbed,
        "push_pending": report.push_pending,
        "push_error": report.push_error,
        "push_notes": list(report.push_notes),
        # The records about the records (counts only): past log_retention_years.
        "log_rows_dropped": report.log_rows_dropped,
        "requests_dropped": report.requests_dropped,
        "tombstones_due": report.tombstones_due,
        "ok": report.ok,
        "exit_code": code,
    }


def _print_report(report: PurgeReport) -> None:
    n = len(report.purged)
    today = format_date(report.today)
    if report.dry_run:
        print(
            ngettext(
                "Dry run for {date}: {count} record would be deleted; nothing was changed.",
                "Dry run for {date}: {count} records would be deleted; nothing was changed.",
                n,
            ).format(date=today, count=n)
        )
    else:
        print(
            ngettext(
                "Purge for {date}: {count} record deleted.", "Purge for {date}: {count} records deleted.", n
            ).format(date=today, count=n)
        )
    for record in report.purged:
        print(
            "  "
            + _("{id}  retention ended {date}").format(
                id=common.plain(record.record_id), date=format_date(record.retention_end)
            )
        )
    if report.refused:
        print(
            ngettext(
                "ALERT: {count} record has an invalid metadata signature and was NOT deleted; its retention "
                "date or hold flag may have been tampered with:",
                "ALERT: {count} records have an invalid metadata signature and were NOT deleted; their "
                "retention date or hold flag may have been tampered with:",
                len(report.refused),
            ).format(count=len(report.refused)),
            file=sys.stderr,
        )
        for record_id in report.refused:
            print(f"  {common.plain(record_id)}", file=sys.stderr)
    if report.log_rows_dropped or report.requests_dropped or report.tombstones_due:
        if report.dry_run:
            text = _(
                "Past the keeping period of the records about the records: {rows} audit log row(s) and "
                "{requests} closed request(s) would be deleted; {tombstones} tombstone(s) go at the next unlock."
            )
        else:
            text = _(
                "Past the keeping period of the records about the records: {rows} audit log row(s) and "
                "{requests} closed request(s) were deleted; {tombstones} tombstone(s) go at the next unlock."
            )
        print(
            text.format(
                rows=report.log_rows_dropped, requests=report.requests_dropped, tombstones=report.tombstones_due
            )
        )
    if report.dry_run:
        return
    if report.scrubbed:
        print(_("Freed space overwritten and the write-ahead log emptied."))
    # What did not work, in one line on stderr (scripts and the purge log read one line per run).
    problems = []
    if not report.scrubbed:
        problems.append(_("the final erasure step could not complete (vault busy or disk full)"))
    if report.push_error:
        problems.append(
            _("the remote copy could not be updated ({reason})").format(
                reason=common.plain(report.push_error, None).rstrip(".")
            )
        )
    if problems:
        print(
            _("sealbook: {problems}; the next purge tries again.").format(problems="; ".join(problems)), file=sys.stderr
        )
    if report.push_pending:
        print(_("The remote copy still holds the purged records: a push is pending."))
    elif report.purged:
        print(_("The remote copy was updated."))
    for note in report.push_notes:
        print(f"sealbook: {common.plain(note, None)}", file=sys.stderr)


# --- schedule -------------------------------------------------------------------------------


def _schedule_help(args: argparse.Namespace) -> int:
    args.schedule_parser.print_help()
    return common.EXIT_USAGE


def _schedule_install(args: argparse.Namespace) -> int:
    config_path: Path | None = getattr(args, "config", None)
    with common.open_vault(args, unlock=False) as vault:
        pinned = vault.verify_key_fingerprint
    from vault import schedule

    result = schedule.install(
        common.vault_path(args).absolute(),
        at=args.at or schedule.DEFAULT_AT,
        method=args.method,
        config_path=config_path.expanduser() if config_path else None,
        verify_key=pinned,
    )
    if result.method == "systemd":
        print(_("Daily purge at {time} installed as a systemd user timer:").format(time=result.at))
        for path in result.files:
            print(f"  {path}")
        if result.started:
            print(_("Timer enabled and started ({timer}).").format(timer=schedule.TIMER))
    else:
        print(_("No systemd here. Add this line with `crontab -e` to purge daily at {time}:").format(time=result.at))
        print()
        print(f"  {result.crontab_line}")
        print()
    for note in result.notes:
        print(_("Note: {note}").format(note=note))
    print(
        _("Logs of scheduled runs: {folder} (kept {days} days)").format(
            folder=schedule.log_file(date.today()).parent, days=schedule.LOG_KEEP_DAYS
        )
    )
    return common.EXIT_OK


def _schedule_status(args: argparse.Namespace) -> int:
    from vault import schedule

    state = schedule.status()
    if args.json:
        common.print_json(
            {
                "installed": state.installed,
                "method": state.method,
                "enabled": state.enabled,
                "at": state.at,
                "command": state.exec_start,
                "next_run": state.next_run,
                "files": [str(p) for p in state.files],
                "last_log": str(state.last_log or ""),
                "last_run": state.last_run,
            }
        )
        return common.EXIT_OK
    if not state.installed:
        print(_("No purge schedule is installed; `sealbook schedule install` adds one."))
    else:
        text = (
            _("Daily purge at {time} via {method}; enabled.")
            if state.enabled
            else _("Daily purge at {time} via {method}; NOT enabled.")
        )
        print(text.format(time=state.at, method=state.method))
        print("  " + _("command: {command}").format(command=state.exec_start))
        for path in state.files:
            print(f"  {path}")
        if state.next_run:
            print("  " + _("next run: {when}").format(when=state.next_run))
    if state.last_run:  # read back from the log file (which stays English and ISO)
        print(_("Last logged run: {line}").format(line=common.plain(state.last_run, None)))
    return common.EXIT_OK


def _schedule_remove(args: argparse.Namespace) -> int:
    from vault import schedule

    removed = schedule.remove()
    if removed:
        print(_("Purge schedule removed:"))
        for path in removed:
            print(f"  {path}")
    else:
        print(_("No systemd purge schedule was installed."))
    print(_("If you added a crontab line, remove it with `crontab -e`."))
    return common.EXIT_OK


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds from 0 to 3600 (not nan, inf, -5 or 1e308)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a number of seconds: {text!r}").format(text=text)) from None
    if not math.isfinite(value) or not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(_("must be a number of seconds from 0 to 3600"))
    return value
