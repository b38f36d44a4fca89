"""The `sealbook` command line.  Subcommands live in sibling modules grouped
like the core's parts (keys, the record book, data-protection policy, the
audit log, exchange, purge, sync), each with a ``register(subparsers)``
function; they share only ``common``.  With no subcommand the TUI opens.

The language (issue 14) is chosen before any parser or message text is made:
``--lang`` for one run, else ``language`` in the config file (applied when a
command loads it, see ``common.config``), else LC_ALL/LC_MESSAGES/LANG, else
English."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui.cli import audit, book, common, exchange, keys, policy, purge, sync
from tui.cli.argparse_texts import translate_argparse
from vault.i18n import _, choose, normalise, set_language

# The order of `sealbook --help`: grouped by part.
COMMAND_MODULES = [keys, book, policy, audit, exchange, purge, sync]


def build_parser() -> argparse.ArgumentParser:
    translate_argparse()
    parser = argparse.ArgumentParser(
        prog="sealbook",
        description=_("Encrypted, GDPR-aware address book. With no command, opens the terminal app."),
        epilog=common.exit_codes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common.add_vault_option(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def lang_from_arguments(arguments: Sequence[str]) -> str | None:
    """The value of a global ``--lang`` (the last one wins, as in argparse).  After
    `export` an ``--lang`` is the answer letter's language, not the program's."""
    found: str | None = None
    takes_value = {"--vault", "--config"}
    seen_command = False
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--":
            break
        if not seen_command and not argument.startswith("-"):
            if argument == "export":
                break
            seen_command = True
        if argument == "--lang" and index + 1 < len(arguments):
            found = arguments[index + 1]
            index += 2
            continue
        if argument.startswith("--lang="):
            found = argument.partition("=")[2]
        elif argument in takes_value and not seen_command:
            index += 1  # its value is no command name
        index += 1
    return found


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    cli_lang = None
    for argument in arguments:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            break
    else:
        cli_lang = lang_from_arguments(arguments)
    common.CLI_LANGUAGE = normalise(cli_lang)
    set_language(choose(cli_lang))
    for number, argument in enumerate(arguments, 1):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
            print(_("sealbook: argument {number} is not valid UTF-8 text").format(number=number), file=sys.stderr)
            return common.EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(arguments)
    common.harden()
    handler = getattr(args, "handler", None)
    if handler is None:
        return common.run_guarded(common.open_tui, args)
    return common.run_guarded(handler, args)


if __name__ == "__main__":
    sys.exit(main())
