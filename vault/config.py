"""Where files live (platformdirs) and the owner's settings (config.toml).

Nothing here runs at import time; front ends call :func:`load_config` and
:func:`default_vault_path` when they start.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from vault.errors import ConfigError, InvalidInput
from vault.model import RetentionRule
from vault.retention import RuleBook, rule_from_mapping

APP = "sealbook"
VAULT_FILENAME = "vault.sqlite"


def data_dir() -> Path:
    return platformdirs.user_data_path(APP, appauthor=False)


def config_dir() -> Path:
    return platformdirs.user_config_path(APP, appauthor=False)


def log_dir() -> Path:
    return platformdirs.user_log_path(APP, appauthor=False)


def default_vault_path() -> Path:
    """``$SEALBOOK_VAULT`` if set, else the platform's data folder."""
    env = os.environ.get("SEALBOOK_VAULT")
    return Path(env).expanduser() if env else data_dir() / VAULT_FILENAME


def default_config_path() -> Path:
    env = os.environ.get("SEALBOOK_CONFIG")
    return Path(env).expanduser() if env else config_dir() / "config.toml"


@dataclass(frozen=True)
class Processor:
    """A recipient of the data (Art. 15(1)(c)), e.g. the webspace host."""

    name: str
    purpose: str = ""
    country: str = ""


@dataclass(frozen=True)
class Config:
    """The owner's settings.  Defaults suit a German freelancer."""

    region: str = "DE"
    idle_lock_minutes: int = 5
    controller_name: str = ""
    controller_address: str = ""
    controller_email: str = ""
    supervisory_authority: str = ""
    processors: tuple[Processor, ...] = ()
    rules: tuple[RetentionRule, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def rulebook(self) -> RuleBook:
        return RuleBook(self.rules)


_TOP_KEYS = {"region", "idle_lock_minutes", "controller", "processors", "rules"}


def parse_config(data: dict[str, Any]) -> Config:
    """Validate a parsed TOML document; unknown top-level tables are kept in ``extra``."""
    try:
        region = data.get("region", "DE")
        if not (isinstance(region, str) and len(region) == 2 and region.isalpha()):
            raise ConfigError("region must be a two-letter country code such as DE")
        idle = data.get("idle_lock_minutes", 5)
        if not isinstance(idle, int) or isinstance(idle, bool) or not 0 <= idle <= 24 * 60:
            raise ConfigError("idle_lock_minutes must be 0..1440 (0 = never)")
        controller = data.get("controller", {})
        if not isinstance(controller, dict):
            raise ConfigError("[controller] must be a table")
        processors = []
        for item in data.get("processors", []):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ConfigError("each [[processors]] entry needs a name")
            processors.append(Processor(str(item["name"]), str(item.get("purpose", "")), str(item.get("country", ""))))
        rules_table = data.get("rules", {})
        if not isinstance(rules_table, dict):
            raise ConfigError("[rules] must be a table of tables")
        rules = tuple(rule_from_mapping(key, value) for key, value in rules_table.items())
        config = Config(
            region=region.upper(),
            idle_lock_minutes=idle,
            controller_name=str(controller.get("name", "")),
            controller_address=str(controller.get("address", "")),
            controller_email=str(controller.get("email", "")),
            supervisory_authority=str(controller.get("supervisory_authority", "")),
            processors=tuple(processors),
            rules=rules,
            extra={k: v for k, v in data.items() if k not in _TOP_KEYS},
        )
        config.rulebook()  # refuses owner rules that shadow built-in ones
        return config
    except InvalidInput as exc:
        raise ConfigError(str(exc)) from None


def load_config(path: Path | None = None) -> Config:
    """Read ``config.toml``; a missing file means defaults."""
    path = path or default_config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(data)
