"""The blob format: known-answer vectors, and every kind of damage is refused."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import PASSPHRASE, draft
from tests.sync.conftest import Pair, make_vault
from vault import crypto
from vault.errors import KdfParametersRefused, VaultError, WrongPassphrase
from vault.service import Vault
from vault.sync import deflate
from vault.sync.blob import BlobInfo, blob_hash, open_blob, read_header, seal_snapshot
from vault.sync.errors import BlobDamaged, ForeignBlob, UnsupportedBlob
from vault.sync.local import LocalFolder

DATA = Path(__file__).resolve().parent.parent / "data" / "sync"


def det(label: bytes, n: int) -> bytes:
    """Deterministic bytes for the vectors (BLAKE2b in counter mode)."""
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.blake2b(label + i.to_bytes(4, "little")).digest()
        i += 1
    return out[:n]


@pytest.fixture(scope="module")
def vector() -> dict[str, object]:
    return json.loads((DATA / "blob-v1.json").read_text())


def test_known_answer_blob_opens_to_the_pinned_snapshot(vector: dict, tmp_path: Path) -> None:
    blob = (DATA / "blob-v1.bin").read_bytes()
    assert blob_hash(blob).hex() == vector["blob_blake2b"]
    header, info = open_blob(blob, bytes.fromhex(vector["sync_secret_key"]), tmp_path / "snap")
    assert info.counter == vector["info"]["counter"]
    assert info.device == vector["info"]["device"]
    assert info.previous.hex() == vector["info"]["previous"]
    assert info.created == vector["info"]["created"]
    assert crypto.digest((tmp_path / "snap").read_bytes()).hex() == vector["snapshot_blake2b"]
    assert header.vault_id.hex() == vector["key_header"]["vault_id"]
    assert header.kdf_salt.hex() == vector["key_header"]["kdf_salt"]


def test_fixed_randomness_reproduces_the_known_answer_blob(vector: dict, tmp_path: Path) -> None:
    blob = (DATA / "blob-v1.bin").read_bytes()
    kh = {k: bytes.fromhex(v) if isinstance(v, str) else v for k, v in vector["key_header"].items()}
    snapshot = b"SQLite format 3\x00" + det(b"snapshot", 70000) + bytes(30000)
    (tmp_path / "snap").write_bytes(snapshot)
    i = vector["info"]
    info = BlobInfo(i["counter"], i["device"], bytes.fromhex(i["previous"]), i["created"], i["snapshot_bytes"])
    again = seal_snapshot(
        SimpleNamespace(**kh),
        tmp_path / "snap",
        info,
        _file_key=bytes.fromhex(vector["file_key"]),
        _stream_header=bytes.fromhex(vector["stream_header"]),
        _ephemeral=bytes.fromhex(vector["ephemeral_secret"]),
    )
    _header, offset = read_header(blob)
    (first_len,) = struct.unpack_from("<I", blob, offset)
    prefix = offset + 4 + first_len  # header and the first (metadata) chunk: independent of zlib
    assert again[:prefix] == blob[:prefix]
    if vector["zlib_version"] == zlib.ZLIB_VERSION:
        assert again == blob


@pytest.fixture(params=["one zlib block", "many zlib blocks"])
def real_blob(
    tmp_path: Path, clock: object, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[bytes, bytes, Vault]:
    if request.param == "many zlib blocks":  # as a large vault's snapshot is compressed (vault.sync.deflate)
        monkeypatch.setattr(deflate, "BLOCK", 4096)
    vault = make_vault(tmp_path / "v.sqlite", clock)  # type: ignore[arg-type]
    for i in range(40):
        vault.add(draft(name=f"Person {i}", notes="n" * 300))
    folder = tmp_path / "remote"
    folder.mkdir()
    vault.sync_push(LocalFolder(folder))
    secret = bytes(vault._ring.keys.sync_secret)
    yield (folder / "sealbook.blob").read_bytes(), secret, vault
    vault.close()


def _opens(blob: bytes, secret: bytes, out: Path) -> bool:
    try:
        open_blob(blob, secret, out)
    except VaultError:
        assert not out.exists()  # no partial snapshot is left behind
        return False
    return True


def test_truncation_at_sampled_offsets_is_always_refused(real_blob: tuple, tmp_path: Path) -> None:
    blob, secret, _vault = real_blob
    assert _opens(blob, secret, tmp_path / "whole")
    offsets = sorted({0, 1, 8, 9, 13, len(blob) - 1, len(blob) - 17, *range(0, len(blob), max(1, len(blob) // 60))})
    for n, cut in enumerate(offsets):
        assert not _opens(blob[:cut], secret, tmp_path / f"t{n}"), cut


def test_bit_flip_at_sampled_bytes_is_always_refused(real_blob: tuple, tmp_path: Path) -> None:
    blob, secret, _vault = real_blob
    positions = sorted({*range(0, 400), *range(400, len(blob), max(1, len(blob) // 80)), len(blob) - 1})
    for n, pos in enumerate(positions):
        flipped = bytearray(blob)
        flipped[pos] ^= 0x01
        assert not _opens(bytes(flipped), secret, tmp_path / f"f{n}"), pos


def test_trailing_bytes_after_the_final_chunk_are_refused(real_blob: tuple, tmp_path: Path) -> None:
    blob, secret, _vault = real_blob
    with pytest.raises(BlobDamaged):
        open_blob(blob + b"\x00\x00\x00\x00", secret, tmp_path / "s")


def test_a_stream_without_the_final_tag_is_refused(real_blob: tuple, tmp_path: Path) -> None:
    blob, secret, _vault = real_blob
    _header, offset = read_header(blob)
    boundaries = []
    while offset < len(blob):
        boundaries.append(offset)
        offset += 4 + struct.unpack_from("<I", blob, offset)[0]
    with pytest.raises(BlobDamaged):
        open_blob(blob[: boundaries[-1]], secret, tmp_path / "s")  # cleanly cut before the last chunk


def test_not_a_blob_and_future_versions_are_named_as_such(real_blob: tuple, tmp_path: Path) -> None:
    blob, secret, _vault = real_blob
    with pytest.raises(ForeignBlob):
        open_blob(b"SQLite format 3\x00" + bytes(100), secret, tmp_path / "a")
    with pytest.raises(UnsupportedBlob):
        open_blob(blob[:8] + b"\x02" + blob[9:], secret, tmp_path / "b")


def test_pull_of_a_foreign_vaults_blob_is_refused_and_changes_nothing(
    local_pair: Pair, tmp_path: Path, clock: object
) -> None:
    other = make_vault(tmp_path / "other.sqlite", clock)  # type: ignore[arg-type]
    other.add(draft(name="Stranger"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other.sync_push(LocalFolder(elsewhere))
    other.close()
    (tmp_path / "shared-folder" / "sealbook.blob").write_bytes((elsewhere / "sealbook.blob").read_bytes())
    before = [c.id for c in local_pair.b.contacts()]
    with pytest.raises(ForeignBlob):
        local_pair.b.sync_pull(local_pair.remote_b)
    assert [c.id for c in local_pair.b.contacts()] == before


def test_pull_of_a_bit_flipped_blob_is_refused_and_changes_nothing(local_pair: Pair, tmp_path: Path) -> None:
    local_pair.a.add(draft(name="Will Be Damaged"))
    local_pair.a.sync_push(local_pair.remote_a)
    path = tmp_path / "shared-folder" / "sealbook.blob"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(BlobDamaged):
        local_pair.b.sync_pull(local_pair.remote_b)
    assert "Will Be Damaged" not in [c.name for c in local_pair.b.contacts()]
    assert local_pair.b.sync_status().counter == 1


def test_clone_with_a_wrong_passphrase_writes_nothing(local_pair: Pair, tmp_path: Path) -> None:
    with pytest.raises(WrongPassphrase):
        Vault.clone_from(None, tmp_path / "c.sqlite", "wrong passphrase!", remote=local_pair.remote_a)
    assert not (tmp_path / "c.sqlite").exists()


def test_clone_refuses_hostile_kdf_parameters_before_deriving(local_pair: Pair, tmp_path: Path) -> None:
    path = tmp_path / "shared-folder" / "sealbook.blob"
    blob = path.read_bytes()
    header, offset = read_header(blob)
    hostile = type(header)(**{**header.__dict__, "kdf_m_kib": 2**40 // 1024, "kdf_t": 2**32}).encode()
    path.write_bytes(hostile + blob[offset:])
    with pytest.raises(KdfParametersRefused):
        Vault.clone_from(None, tmp_path / "c.sqlite", PASSPHRASE, remote=local_pair.remote_a)
    assert not (tmp_path / "c.sqlite").exists()


def test_clone_of_a_tampered_header_is_refused(local_pair: Pair, tmp_path: Path) -> None:
    path = tmp_path / "shared-folder" / "sealbook.blob"
    blob = path.read_bytes()
    header, offset = read_header(blob)
    other_key = crypto.new_box_keypair()[1]
    forged = type(header)(**{**header.__dict__, "sync_public_key": other_key}).encode()
    path.write_bytes(forged + blob[offset:])
    with pytest.raises(WrongPassphrase):  # a consistent forgery: the wrapped root key does not open
        Vault.clone_from(None, tmp_path / "c.sqlite", PASSPHRASE, remote=local_pair.remote_a)
    assert not (tmp_path / "c.sqlite").exists()


def test_accidental_header_damage_is_reported_as_damage_not_as_a_wrong_passphrase(
    local_pair: Pair, tmp_path: Path
) -> None:
    path = tmp_path / "shared-folder" / "sealbook.blob"
    blob = bytearray(path.read_bytes())
    blob[60] ^= 0x04  # inside the KDF salt / wrapped root key
    path.write_bytes(bytes(blob))
    with pytest.raises(BlobDamaged):
        Vault.clone_from(None, tmp_path / "c.sqlite", PASSPHRASE, remote=local_pair.remote_a)
    assert not (tmp_path / "c.sqlite").exists()
