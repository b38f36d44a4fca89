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
from vault.i18n import LANGUAGES, _
from vault.i18n import language as process_language
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


# EU and EEA states (ISO 3166-1 alpha-2; "EL" is the EU's own code for Greece):
# a recipient anywhere else is in a third country and needs a transfer basis.
# One string rather than a literal of 31 items, which the formatter would spread over 33 lines.
EEA = frozenset("AT BE BG CY CZ DE DK EE EL ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK".split())  # noqa: SIM905
ROLES = ("processor", "controller")  # Art. 28 processor, or an independent controller
TRANSFERS = ("adequacy", "scc", "bcr")  # Art. 45 decision, Art. 46(2)(c) clauses, Art. 47 rules


@dataclass(frozen=True)
class Wording:
    """A text the owner wrote for the letter: one for every language, or one per language."""

    default: str = ""
    by_lang: tuple[tuple[str, str], ...] = ()

    def in_lang(self, lang: str) -> str:
        """The text in ``lang``, else the common one, else any."""
        return dict(self.by_lang).get(lang) or self.default or next((text for _, text in self.by_lang), "")


@dataclass(frozen=True)
class Processor:
    """A recipient of the data (Art. 15(1)(c), (2)), e.g. the webspace host.

    ``role`` is ``processor`` (Art. 28) or ``controller`` (an independent one);
    ``country`` an ISO code; outside the EU/EEA ``transfer`` says on what the
    transfer rests (``adequacy`` with the decision's name, ``scc``, ``bcr``).
    """

    name: str
    purpose: str = ""
    country: str = ""
    role: str = "processor"
    transfer: str = ""
    adequacy_decision: str = ""
    purpose_by_lang: tuple[tuple[str, str], ...] = ()

    @property
    def is_third_country(self) -> bool:
        return bool(self.country) and self.country.upper() not in EEA

    def purpose_in(self, lang: str) -> str:
        """The purpose in the letter's language when the config gives one."""
        return Wording(self.purpose, self.purpose_by_lang).in_lang(lang)


@dataclass(frozen=True)
class Config:
    """The owner's settings.  Defaults suit a German freelancer."""

    region: str = "DE"
    idle_lock_minutes: int = 5
    # Audit log, tombstones and closed requests: kept N years after the end of the
    # year of the event or closing (§§195, 199 BGB), then dropped (vault.purge).
    log_retention_years: int = 3
    controller_name: str = ""
    controller_address: str = ""
    controller_email: str = ""
    supervisory_authority: str = ""
    # The letter: merchants (Kaufleute) are bound by §257 HGB, freelancers are not;
    # what else the owner keeps besides the address book; salutation and signature.
    merchant: bool = False
    other_systems: tuple[Wording, ...] = ()
    salutation: Wording = Wording()
    signature: str = ""
    processors: tuple[Processor, ...] = ()
    rules: tuple[RetentionRule, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # The language of the screens and messages ("de", "en"); None: the environment decides
    # (LC_ALL, LC_MESSAGES, LANG), else English; `--lang` beats it for one run (vault.i18n.choose).
    language: str | None = None

    def rulebook(self) -> RuleBook:
        return RuleBook(self.rules)

    @property
    def letter_language(self) -> str:
        """The answer letter's language when the owner picks none: ``letter_language`` in the
        config (an older key, kept in ``extra``), else ``language``, else the language the
        process speaks (chosen from --lang, the config and the environment), else English."""
        for wanted in (self.extra.get("letter_language"), self.language, process_language()):
            if isinstance(wanted, str) and wanted in LANGUAGES:  # the letters speak what the catalogues speak
                return wanted
        return "en"


_TOP_KEYS = {"region", "idle_lock_minutes", "log_retention_years", "controller", "processors", "rules", "language"}


def parse_config(data: dict[str, Any]) -> Config:
    """Validate a parsed TOML document; unknown top-level tables are kept in ``extra``."""
    try:
        language = data.get("language")
        if language is not None and language not in LANGUAGES:
            raise ConfigError(
                _("language must be one of {choices}; leave it out to follow the environment (LANG)").format(
                    choices=", ".join(f'"{code}"' for code in sorted(LANGUAGES))
                )
            )
        region = data.get("region", "DE")
        if not (isinstance(region, str) and len(region) == 2 and region.isalpha()):
            raise ConfigError(_("region must be a two-letter country code such as DE"))
        idle = data.get("idle_lock_minutes", 5)
        if not isinstance(idle, int) or isinstance(idle, bool) or not 0 <= idle <= 24 * 60:
            raise ConfigError(_("idle_lock_minutes must be 0..1440 (0 = never)"))
        log_years = data.get("log_retention_years", 3)
        if not isinstance(log_years, int) or isinstance(log_years, bool) or not 1 <= log_years <= 30:
            raise ConfigError(_("log_retention_years must be 1..30 (years after the end of the year of the event)"))
        controller = data.get("controller", {})
        if not isinstance(controller, dict):
            raise ConfigError(_("[controller] must be a table"))
        processors = [_processor(item) for item in data.get("processors", [])]
        merchant = controller.get("merchant", False)
        if not isinstance(merchant, bool):
            raise ConfigError(_("[controller] merchant must be true or false"))
        others = controller.get("other_systems", [])
        if not isinstance(others, list):
            raise ConfigError(_("[controller] other_systems must be a list of texts"))
        rules_table = data.get("rules", {})
        if not isinstance(rules_table, dict):
            raise ConfigError(_("[rules] must be a table of tables"))
        rules = tuple(rule_from_mapping(key, value) for key, value in rules_table.items())
        config = Config(
            region=region.upper(),
            idle_lock_minutes=idle,
            log_retention_years=log_years,
            controller_name=str(controller.get("name", "")),
            controller_address=str(controller.get("address", "")),
            controller_email=str(controller.get("email", "")),
            supervisory_authority=str(controller.get("supervisory_authority", "")),
            merchant=merchant,
            other_systems=tuple(_wording(item, "[controller] other_systems") for item in others),
            salutation=_wording(controller.get("salutation", ""), "[controller] salutation"),
            signature=str(controller.get("signature", "")),
            processors=tuple(processors),
            rules=rules,
            language=language,
            extra={k: v for k, v in data.items() if k not in _TOP_KEYS},
        )
        config.rulebook()  # refuses owner rules that shadow built-in ones
        return config
    except InvalidInput as exc:
        raise ConfigError(str(exc)) from None


def _wording(value: object, where: str) -> Wording:
    """A text, or a table of texts by language (``{de = "...", en = "..."}``)."""
    if isinstance(value, str):
        return Wording(value)
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return Wording("", tuple(sorted(value.items())))
    raise ConfigError(_("{where} must be a text or a table of texts by language (de, en)").format(where=where))


def _processor(item: object) -> Processor:
    """One [[processors]] entry: a name, a role, a country and, outside the EU/EEA, a transfer basis."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ConfigError(_("each [[processors]] entry needs a name"))
    name = item["name"]
    country = item.get("country", "")
    if not (isinstance(country, str) and len(country) == 2 and country.isalpha() and country.isascii()):
        raise ConfigError(
            _("[[processors]] {name}: country must be a two-letter ISO code such as DE (EL for Greece)").format(
                name=name
            )
        )
    role = item.get("role", "processor")
    if role not in ROLES:
        raise ConfigError(
            _("[[processors]] {name}: role must be processor (Art. 28 GDPR) or controller").format(name=name)
        )
    transfer = item.get("transfer", "")
    decision = item.get("adequacy_decision", "")
    purpose = _wording(item.get("purpose", ""), f"[[processors]] {name}: purpose")
    processor = Processor(
        name, purpose.default, country.upper(), str(role), str(transfer), str(decision), purpose.by_lang
    )
    if (processor.is_third_country or transfer) and transfer not in TRANSFERS:
        raise ConfigError(
            _(
                "[[processors]] {name}: outside the EU/EEA, set transfer to adequacy (with adequacy_decision), "
                "scc (standard contractual clauses) or bcr (binding corporate rules)"
            ).format(name=name)
        )
    if transfer == "adequacy" and not (isinstance(decision, str) and decision.strip()):
        raise ConfigError(
            _("[[processors]] {name}: name the adequacy_decision, e.g. EU-US Data Privacy Framework").format(name=name)
        )
    return processor


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
