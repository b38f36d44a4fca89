"""Issue 13.7: settings changed in the app are written into config.toml, and nothing else changes."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from vault.config import Config, Processor, load_config
from vault.errors import ConfigError, StorageFull
from vault.settings import (
    SettingRefused,
    Settings,
    SettingsNotWritten,
    parse_processor_lines,
    processor_lines,
    save_settings,
)

OWNER_FILE = '''\
# sealbook settings of Ada (hand-written; keep my notes)
region = "DE"  # phones without +49
log_retention_years = 4

[controller]
name = "Ada Lovelace"  # as on the invoices
address = """Analytical Str. 1
10115 Berlin"""
email = "ada@example.org"
merchant = false

# recipients, for the Art. 15 letter
[[processors]]
name = "Hetzner Online GmbH"  # the webspace
purpose = { de = "Webspace", en = "web space" }
country = "DE"

[[processors]]
name = "Mailchimp"
purpose = "newsletter"
country = "US"
transfer = "scc"

[my_plugin]
colour = "teal"  # a table sealbook does not know
'''


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(OWNER_FILE, encoding="utf-8")
    return path


def shown(path: Path) -> Settings:
    return Settings.of(load_config(path))


def test_a_changed_setting_keeps_comments_unknown_keys_and_order(config_file: Path) -> None:
    before = shown(config_file)
    save_settings(config_file, replace(before, idle_lock_minutes=12, supervisory_authority="BlnBDI"), before=before)
    text = config_file.read_text(encoding="utf-8")
    for kept in (
        "# sealbook settings of Ada (hand-written; keep my notes)",
        'region = "DE"  # phones without +49',
        'name = "Ada Lovelace"  # as on the invoices',
        "# recipients, for the Art. 15 letter",
        'name = "Hetzner Online GmbH"  # the webspace',
        'purpose = { de = "Webspace", en = "web space" }',
        '[my_plugin]\ncolour = "teal"  # a table sealbook does not know',
        'email = "ada@example.org"',
        "log_retention_years = 4",
    ):
        assert kept in text
    assert "idle_lock_minutes = 12" in text
    assert 'supervisory_authority = "BlnBDI"' in text
    order = [text.index(key) for key in ("region =", "[controller]", "[[processors]]", "[my_plugin]")]
    assert order == sorted(order)
    config = load_config(config_file)
    assert config.extra["my_plugin"] == {"colour": "teal"}
    assert config.controller_email == "ada@example.org"
    assert config.log_retention_years == 4


def test_saving_what_the_file_already_says_changes_no_byte(config_file: Path) -> None:
    before = shown(config_file)
    save_settings(config_file, before, before=before)
    assert config_file.read_text(encoding="utf-8") == OWNER_FILE


def test_a_round_trip_through_load_config_gives_back_every_setting(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "config.toml"  # the folder is made
    wanted = Settings(
        idle_lock_minutes=0,
        controller_name="Grace Hopper",
        controller_address="Compiler Weg 2\n80331 München",
        supervisory_authority="BayLDA",
        processors=parse_processor_lines("Strato AG | hosting | de\nZoom | calls | US | processor | scc"),
        region="at",
        language="de",
        letter_language="en",
    )
    config = save_settings(path, wanted)
    assert config == load_config(path)
    assert config.idle_lock_minutes == 0
    assert config.controller_address == "Compiler Weg 2\n80331 München"
    assert config.region == "AT"
    assert config.language == "de"
    assert config.letter_language == "en"
    assert config.processors == (
        Processor("Strato AG", "hosting", "DE"),
        Processor("Zoom", "calls", "US", transfer="scc"),
    )
    assert Settings.of(config) == replace(wanted, region="AT")


def test_the_file_is_private_to_the_owner(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('region = "DE"\n')
    os.chmod(path, 0o644)
    save_settings(path, Settings(idle_lock_minutes=7))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"region": "Germany"}, "region"),
        ({"region": "XX"}, "region"),
        ({"idle_lock_minutes": 5000}, "idle_lock_minutes"),
        ({"language": "fr"}, "language"),
        ({"letter_language": "fr"}, "letter_language"),
        ({"processors": (Processor("Zoom", "calls", "US"),)}, "processors"),  # no transfer basis
        ({"processors": (Processor("Nameless", "", ""),)}, "processors"),  # no country
        ({"processors": (Processor("A", "", "DE"), Processor("a", "", "FR"))}, "processors"),  # twice
    ],
)
def test_an_invalid_value_writes_nothing_and_names_the_setting(
    config_file: Path, change: dict[str, object], setting: str
) -> None:
    before = shown(config_file)
    stamp = config_file.stat().st_mtime_ns
    with pytest.raises(SettingRefused) as caught:
        save_settings(config_file, replace(before, **{"idle_lock_minutes": 9, **change}), before=before)  # type: ignore[arg-type]
    assert caught.value.setting == setting
    assert isinstance(caught.value, ConfigError)
    assert str(caught.value).startswith("A setting is invalid; nothing was written.")
    assert config_file.read_text(encoding="utf-8") == OWNER_FILE
    assert config_file.stat().st_mtime_ns == stamp
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_a_broken_file_is_refused_and_left_alone(config_file: Path) -> None:
    config_file.write_text("region = \n[controller\n")
    with pytest.raises(ConfigError):
        save_settings(config_file, Settings(idle_lock_minutes=3))
    assert config_file.read_text() == "region = \n[controller\n"


def test_a_failed_write_leaves_the_old_file_whole(config_file: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    folder = config_file.parent
    os.chmod(folder, 0o500)  # no new file (the temp file) may be made here
    try:
        with pytest.raises(SettingsNotWritten):
            save_settings(config_file, replace(shown(config_file), idle_lock_minutes=30))
    finally:
        os.chmod(folder, 0o700)
    assert config_file.read_text(encoding="utf-8") == OWNER_FILE
    assert [p.name for p in folder.iterdir()] == ["config.toml"]


def test_a_full_disk_is_said_as_such_and_leaves_the_old_file_whole(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk cannot be caused here: the one fault faked, where the data reaches the disk.
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageFull):
        save_settings(config_file, replace(shown(config_file), idle_lock_minutes=30))
    monkeypatch.undo()
    assert config_file.read_text(encoding="utf-8") == OWNER_FILE
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]


def test_the_write_replaces_the_file_atomically(config_file: Path) -> None:
    # A reader holding the old file keeps reading the old text: the new one is a new inode,
    # renamed over it, never the old one truncated and rewritten.
    inode = config_file.stat().st_ino
    with config_file.open(encoding="utf-8") as old:
        save_settings(config_file, replace(shown(config_file), idle_lock_minutes=30))
        assert old.read() == OWNER_FILE
    assert config_file.stat().st_ino != inode
    assert load_config(config_file).idle_lock_minutes == 30


def test_only_what_changed_on_screen_is_written_when_the_file_changed_meanwhile(config_file: Path) -> None:
    before = shown(config_file)
    # Someone edits the file while the settings screen is open...
    config_file.write_text(OWNER_FILE.replace('region = "DE"', 'region = "AT"'), encoding="utf-8")
    # ...and the owner changes only the idle minutes on screen: the region stays AT.
    config = save_settings(config_file, replace(before, idle_lock_minutes=20), before=before)
    assert (config.region, config.idle_lock_minutes) == ("AT", 20)


def test_an_edited_processor_keeps_its_entry_and_purposes_by_language(config_file: Path) -> None:
    before = shown(config_file)
    lines = processor_lines(before.processors, "en").splitlines()
    assert lines == ["Hetzner Online GmbH | web space | DE", "Mailchimp | newsletter | US | processor | scc"]
    edited = "\n".join([lines[0], lines[1].replace("newsletter", "mailings"), "OVH | backups | FR"])
    config = save_settings(config_file, replace(before, processors=parse_processor_lines(edited)), before=before)
    text = config_file.read_text(encoding="utf-8")
    assert 'name = "Hetzner Online GmbH"  # the webspace' in text
    assert 'purpose = { de = "Webspace", en = "web space" }' in text
    assert 'purpose = "mailings"' in text
    assert [p.name for p in config.processors] == ["Hetzner Online GmbH", "Mailchimp", "OVH"]
    assert config.processors[0].purpose_in("de") == "Webspace"
    assert config.processors[2] == Processor("OVH", "backups", "FR")


def test_a_removed_processor_leaves_the_file(config_file: Path) -> None:
    before = shown(config_file)
    kept = parse_processor_lines("Mailchimp | newsletter | US | processor | scc")
    config = save_settings(config_file, replace(before, processors=kept), before=before)
    assert [p.name for p in config.processors] == ["Mailchimp"]
    assert "Hetzner" not in config_file.read_text(encoding="utf-8")
    config = save_settings(config_file, replace(before, processors=()), before=Settings.of(config))
    assert config.processors == ()
    assert "[[processors]]" not in config_file.read_text(encoding="utf-8")


def test_language_back_to_the_environment_drops_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('language = "de"  # mine\nletter_language = "en"\n')
    config = save_settings(path, Settings(language=None, letter_language=None))
    assert config.language is None
    assert "language" not in path.read_text()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("| hosting | DE", "line 1: the name is missing"),
        ("A | b | DE\n\nB | c | DE | processor | scc | x | extra", "line 3: at most six parts"),
    ],
)
def test_processor_lines_of_the_wrong_shape_are_refused(text: str, problem: str) -> None:
    with pytest.raises(SettingRefused, match=problem):
        parse_processor_lines(text)


def test_processor_lines_round_trip() -> None:
    processors = (
        Processor("Hetzner", "hosting", "DE"),
        Processor("Big Cloud", "storage", "US", role="controller", transfer="adequacy", adequacy_decision="DPF"),
    )
    assert parse_processor_lines(processor_lines(processors, "en")) == processors


def test_settings_of_a_default_config_match_the_defaults() -> None:
    assert Settings.of(Config()) == Settings()


def test_a_config_file_that_is_a_link_is_written_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "sealbook.toml"
    real.parent.mkdir()
    real.write_text('region = "DE"  # mine\n')
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_settings(link, Settings(idle_lock_minutes=2))
    assert link.is_symlink()
    assert real.read_text().startswith('region = "DE"  # mine\n')
    assert load_config(link).idle_lock_minutes == 2
