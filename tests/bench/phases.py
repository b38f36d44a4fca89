"""Where a `sealbook` command's time goes (issue 15.3: pull and clone time, transfer or decoding?).

    python -m tests.bench.phases sync pull --quiet --vault V --passphrase-file F

runs the command exactly as the ``sealbook`` entry point does, with a clock
around each phase named in :data:`PHASES`, and prints as its last line a JSON
object: seconds per phase (phases nest: the record opening is part of the
unlock), the whole, and the exit code.  A phase that did not run is left out.
Nothing is changed in what the command does; it asserts nothing.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any

STARTED = time.perf_counter()

# (module, attribute path, label): the doors a pull or a clone passes through, in order.  Only
# modules the command imports anyway (the WebDAV and SFTP clients would add their own imports
# to the figure): the transfer measured is the bench's, from a local folder.
PHASES = (
    ("vault.service", "Vault.derive_keys", "kdf"),
    ("vault.service", "Vault.load_contacts", "unlock minus KDF"),
    ("vault.book", "RecordBook._check_head", "  signed head and manifest"),
    ("vault.book", "RecordBook.absorb", "  open changed rows (decrypt, decode, search keys)"),
    ("vault.book", "RecordBook._flush_index", "  re-seal index buckets"),
    ("vault.sync.local", "LocalFolder.fetch", "transfer (local folder read)"),
    ("vault.sync.engine", "open_blob", "decrypt and decompress the blob"),
    ("vault.sync.clone", "open_blob", "decrypt and decompress the blob"),
    ("vault.sync.engine", "read_snapshot", "read and check the snapshot's rows"),
    ("vault.sync.clone", "read_snapshot", "read and check the snapshot's rows"),
    ("vault.sync.engine", "_apply", "write the merge"),
    ("vault.sync.clone", "clone", "clone: fetch, check, write the new vault"),
)


def _wrap(owner: Any, name: str, label: str, times: dict[str, float]) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times[label] = times.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, timed)


def main(argv: list[str]) -> int:
    from tui.cli import main as sealbook

    times: dict[str, float] = {}
    for module_name, path, label in PHASES:  # importing these is part of "imports"
        try:
            owner: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        if owner is not None and hasattr(owner, name):
            _wrap(owner, name, label, times)
    times["imports"] = time.perf_counter() - STARTED  # first key: no phase has run yet
    code = 1
    try:
        code = sealbook(argv)
    finally:
        times["whole process"] = time.perf_counter() - STARTED
        print(json.dumps({"phases": {k: round(v, 3) for k, v in times.items()}, "exit": code}), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
