"""The blob's zlib stream compressed block by block on every core (vault.sync.deflate)."""

from __future__ import annotations

import io
import os
import random
import zlib

import pytest

from vault.sync import deflate


def _data(size: int, seed: int) -> bytes:
    """Ciphertext-like random runs between repetitive text, as a vault snapshot is."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += rng.randbytes(rng.randrange(1, 3000)) + b"contact-row " * rng.randrange(0, 400)
    return bytes(out[:size])


@pytest.mark.parametrize("size", [0, 1, 65_535, 300_000])
def test_one_block_is_byte_for_byte_what_zlib_writes(size: int) -> None:
    data = _data(size, size)
    assert bytes(deflate.compress_file(io.BytesIO(data), lambda _done: None)) == zlib.compress(data, deflate.LEVEL)


@pytest.mark.parametrize(("size", "block"), [(1_000_000, 100_000), (1_000_001, 100_000), (999_999, 333_333)])
def test_many_blocks_make_one_valid_zlib_stream_of_about_the_same_size(size: int, block: int) -> None:
    data = _data(size, block)
    done: list[int] = []
    stream = bytes(deflate.compress_file(io.BytesIO(data), done.append, block=block))
    reader = zlib.decompressobj()
    assert reader.decompress(stream) == data
    assert reader.eof and not reader.unused_data  # ends where the stream ends, checksum checked
    assert done[-1] == size and done == sorted(done)
    assert len(stream) <= len(zlib.compress(data, deflate.LEVEL)) * 1.01 + 64  # primed: matches across cuts


def test_a_changed_byte_or_a_cut_stream_fails_the_zlib_reader() -> None:
    data = _data(500_000, 7)
    stream = bytearray(deflate.compress_file(io.BytesIO(data), lambda _done: None, block=50_000))
    flipped = bytearray(stream)
    flipped[-2] ^= 0x01  # the Adler-32 of the whole input
    with pytest.raises(zlib.error):
        zlib.decompress(bytes(flipped))
    reader = zlib.decompressobj()
    reader.decompress(bytes(stream[: len(stream) // 2]))
    assert not reader.eof


def test_the_blocks_are_compressed_by_the_pools_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()
    original = deflate._block

    def spy(data: bytes, primer: bytes, last: bool) -> bytes:
        import threading

        threads.add(threading.current_thread().name)
        return original(data, primer, last)

    monkeypatch.setattr(deflate, "_block", spy)
    monkeypatch.setattr(deflate, "_cores", lambda: 2)
    data = os.urandom(64) * 20_000
    assert zlib.decompress(bytes(deflate.compress_file(io.BytesIO(data), lambda _d: None, block=10_000))) == data
    assert all(name.startswith("deflate") for name in threads) and threads
