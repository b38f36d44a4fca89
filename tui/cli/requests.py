"""The request commands (`sealbook request open|list|extend|close`): data-subject requests (Art. 12(3))."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from tui.cli.common import (
    EXIT_OK,
    open_vault,
    plain,
    print_json,
    safe,
)
from vault.i18n import N_, _, format_date, language, ngettext
from vault.model import (
    RequestStatus,
)

if TYPE_CHECKING:
    from vault.requests import DataRequest

PLAINTEXT_WARNING = N_(
    "warning: {path} holds personal data in plaintext (files 0600, folder 0700). Hand it over through a "
    "secure channel and delete it afterwards."
)

IMPORT_LIMITS = N_(
    "limits: file <= {file_mib} MiB, <= {entries} entries, "
    "one entry <= {entry_kib} KiB (photos skipped), name <= 1 KiB, notes <= 64 KiB, "
    "<= 50 e-mails and 50 phones per contact"
)


def run_request_help(args: argparse.Namespace) -> int:
    print(
        _("usage: sealbook request {actions} ...; see `sealbook request --help`").format(
            actions="{open,list,extend,close}"
        ),
        file=sys.stderr,
    )
    return 2


def _request_line(request: DataRequest, today: date, *, notes: bool) -> str:
    status = request.status(today)
    if status is RequestStatus.CLOSED:
        when = _("closed {date}").format(date=format_date(request.closed))
    elif status is RequestStatus.OVERDUE:
        late = -request.days_left(today)
        when = ngettext("OVERDUE by {days} day", "OVERDUE by {days} days", late).format(days=late)
    else:
        left = request.days_left(today)
        when = ngettext("{days} day left", "{days} days left", left).format(days=left)
    line = f"{plain(request.id[:8])}  {_request_type(request):<13} " + _(
        "received {received}  deadline {deadline}  {when}  records: {count}"
    ).format(
        received=format_date(request.received),
        deadline=format_date(request.deadline),
        when=when,
        count=len(request.record_ids),
    )
    if request.informed:
        line += "  " + _("extended, person told {date}").format(date=format_date(request.informed))
    if notes and request.notes:
        line += "\n    " + safe(request.notes).replace("\n", "\n    ")
    return line


def _request_json(request: DataRequest, today: date) -> dict[str, Any]:
    return {
        "id": request.id,
        "type": request.type.value,
        "received": request.received.isoformat(),
        "deadline": request.deadline.isoformat(),
        "closed": request.closed.isoformat() if request.closed else None,
        "status": request.status(today).value,
        "extended": request.is_extended,
        "informed": request.informed.isoformat() if request.informed else None,
        "days_left": request.days_left(today),
        "record_ids": list(request.record_ids),
        "notes": request.notes,
    }


def run_request_open(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        ids = [vault.resolve(prefix).id for prefix in args.records]
        request = vault.open_request(args.type, ids, received=args.received, notes=args.note)
        today = vault.today()
    if args.json:
        print_json(_request_json(request, today))
    else:
        print(
            _("opened request {id} ({article}); answer by {date}").format(
                id=plain(request.id), article=request.type.cited, date=format_date(request.deadline)
            )
        )
    return EXIT_OK


def run_request_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        found = vault.list_requests(include_closed=args.all)
        today = vault.today()
    overdue = [r for r in found if r.is_overdue(today)]
    if args.json:
        print_json([_request_json(r, today) for r in found])
    elif not found:
        print(_("no open requests") if not args.all else _("no requests"))
    else:
        for request in found:
            print(_request_line(request, today, notes=args.notes))
    if overdue:
        print(
            ngettext(
                "warning: {count} request overdue: the one-month deadline of Art. 12(3) GDPR has passed",
                "warning: {count} requests overdue: the one-month deadline of Art. 12(3) GDPR has passed",
                len(overdue),
            ).format(count=len(overdue)),
            file=sys.stderr,
        )
    return EXIT_OK


def run_request_extend(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        request = vault.extend_request(args.id, reason=args.reason, informed=args.informed)
        today = vault.today()
    if args.json:
        print_json(_request_json(request, today))
    else:
        print(
            _(
                "extended request {id}; answer by {date} (the original deadline plus two months). "
                "Recorded: the person was told on {informed} (Art. 12(3) GDPR)."
            ).format(id=plain(request.id), date=format_date(request.deadline), informed=format_date(args.informed))
        )
    return EXIT_OK


def run_request_close(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        request = vault.close_request(args.id, closed=args.date, notes=args.note)
        today = vault.today()
    if args.json:
        print_json(_request_json(request, today))
    else:
        late = request.closed is not None and request.closed > request.deadline
        text = _("closed request {id} on {date} (after the deadline)") if late else _("closed request {id} on {date}")
        print(text.format(id=plain(request.id), date=format_date(request.closed)))
    return EXIT_OK


def _request_type(request: DataRequest) -> str:
    """The request's type for people: its value (as on the command line) in English, its label otherwise."""
    return request.type.value if language() == "en" else request.type.label
