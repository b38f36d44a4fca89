"""argparse's own texts ("usage:", "options", "show this help message and exit",
"unrecognized arguments") in the user's language.

argparse looks its texts up through its module-level ``_`` and ``ngettext`` (the
standard library's "argparse" gettext domain), at the moment it formats them.
They are marked here so that `make messages` puts them into sealbook's own
catalogue, and argparse is handed vault.i18n's functions for the run.
"""

from __future__ import annotations

import argparse

from vault import i18n
from vault.i18n import N_

# The texts of Python 3.11's argparse a user of sealbook can meet (the rest are
# errors in the program's own parser definitions).
ARGPARSE_TEXTS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
)


def translate_argparse() -> None:
    """Let argparse speak the language vault.i18n speaks (looked up at each use)."""
    argparse._ = i18n._  # type: ignore[attr-defined]
    argparse.ngettext = i18n.ngettext  # type: ignore[attr-defined]
