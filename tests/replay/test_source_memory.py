"""Memory stays flat: reading a file of tens of MB costs no more than reading a tiny one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

READ = """
import resource, sys
from sandex.replay.sources import open_source
with open_source([sys.argv[1]], "coinbase-full") as source:
    count = sum(1 for _ in source)
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def peak(path: Path) -> tuple[int, int]:
    """(events read, peak RSS in MB) of a fresh process reading ``path``."""
    out = subprocess.run([sys.executable, "-c", READ, str(path)], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def lines(count: int) -> bytes:
    return "".join(
        f'{{"type":"open","product_id":"BTC-USD","sequence":{i},"order_id":"{i:032x}",'
        f'"side":"buy","price":"100.01","remaining_size":"1.50000000",'
        f'"time":"2021-04-17T16:43:37.{i % 1_000_000:06d}Z"}}\n' for i in range(count)).encode()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("memory")
    small, big = where / "small.jsonl", where / "big.jsonl"
    small.write_bytes(lines(100))
    data = lines(150_000)
    big.write_bytes(data)
    zst = where / "big.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor(level=1).compress(data))
    return {"small": small, "big": big, "zst": zst}


@pytest.mark.parametrize("name", ["big", "zst"])
def test_a_30_mb_recording_is_read_in_flat_memory(files: dict[str, Path], name: str) -> None:
    assert files["big"].stat().st_size > 29_000_000
    _, baseline = peak(files["small"])
    count, rss = peak(files[name])
    assert count == 150_000
    assert rss - baseline < 15, f"peak RSS {rss} MB against {baseline} MB for 100 lines"
