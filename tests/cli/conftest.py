"""Run the installed `sealbook` command as a script would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE

SEALBOOK = str(Path(sys.executable).parent / "sealbook")
WEAK = ["--kdf-memory-mib", "8", "--kdf-iterations", "1", "--kdf-parallelism", "1", "--allow-weak-kdf"]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOOK_")}
    env["SEALBOOK_CONFIG"] = str(tmp_path / "config.toml")
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / ".local" / "share")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "home" / ".config")
    env["XDG_STATE_HOME"] = str(tmp_path / "home" / ".local" / "state")
    return env


@pytest.fixture
def run(cli_env: dict[str, str]) -> Run:
    def _run(
        *args: str, stdin: str | None = PASSPHRASE + "\n", check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [SEALBOOK, *args], input=stdin, env=cli_env, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"sealbook {' '.join(args)} -> {result.returncode}\n{result.stderr}")
        return result

    return _run


@pytest.fixture
def cli_vault(tmp_path: Path, run: Run) -> Path:
    path = tmp_path / "cli.sqlite"
    run("init", "--vault", str(path), "--passphrase-file", "-", *WEAK, check=True)
    return path
