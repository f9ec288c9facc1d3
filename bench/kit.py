"""What every benchmark shares: the machine, a server subprocess, /proc CPU accounting,
percentiles, and the scenario's signing keys (signed with ``sandex.auth.signing.sign``).

Benchmarks run as scripts (``python bench/<name>.py``), so their directory is on ``sys.path``
and they import this module as ``kit``; it puts the repository first on ``sys.path`` so the
``sandex`` package beside ``bench/`` is the one measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import platform
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = Path(__file__).resolve().parent / "bench_scenario.toml"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandex.auth.signing import sign  # noqa: E402  (after the path set-up above)

__all__ = ["ROOT", "SCENARIO", "Key", "build_c", "cpu_model", "cpu_seconds", "filesystem",
           "free_port", "machine", "machine_busy_seconds", "percentile", "percentiles",
           "scenario_keys", "server_stack", "sign", "signed_headers", "source_digest",
           "start_server", "steal_seconds", "versions", "wait_ready"]


# -- the machine ----------------------------------------------------------------------------------

def build_c(name: str, work: Path) -> Path | None:
    """``bench/<name>.c`` (a benchmark's cheap client) compiled with the machine's C compiler
    (``$CC``, else ``cc``) into ``work``; ``None`` where none builds it."""
    binary = work / name
    source = Path(__file__).resolve().parent / f"{name}.c"
    try:
        built = subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", str(binary),
                                str(source)], capture_output=True).returncode == 0
    except OSError:
        return None
    return binary if built else None


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line printed with every figure: CPU, cores, OS, Python."""
    return (f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"{platform.python_implementation()} {platform.python_version()}")


def filesystem(path: str | Path) -> str:
    """The file system under ``path`` (fsync cost depends on it)."""
    try:
        fields = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True,
                                timeout=5).stdout.splitlines()[1].split()
        return f"{fields[1]} on {fields[0]}"
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown filesystem"


def source_digest(root: Path = ROOT) -> str:
    """Short hash of the server code (``sandex/**/*.py``): tells runs of different code apart."""
    digest = hashlib.sha256()
    for path in sorted((root / "sandex").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def versions() -> str:
    """The versions of the server's native-speed dependencies."""
    found = []
    for name in ("uvicorn", "uvloop", "httptools", "msgspec"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


# -- a server subprocess --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Wait until ``GET /time`` answers 200; exit if the process dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with status {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/time")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("server did not start")


def start_server(command: list[str], port: int, log: Path,
                 src: Path | None = None, timeout: float = 30) -> subprocess.Popen[bytes]:
    """``command`` in a subprocess (stderr to ``log``), waited for until it answers.

    ``src``: a directory holding another ``sandex`` package (a patched copy) to run instead.
    """
    env = {**os.environ}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    with log.open("wb") as err:
        process = subprocess.Popen(command, cwd=src or ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_ready(port, process, timeout)
    except SystemExit as exc:
        raise SystemExit(f"{exc}: {log.read_text()[-2000:]}") from None
    return process


def commit_buckets(port: int, token: str) -> dict[str, int]:
    """The server's group commits so far by write + fsync time: ``GET /metrics``'s cumulative
    ``sandex_journal_commit_seconds`` buckets, upper bound (seconds, as text) -> count."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    reply = conn.getresponse()
    text = reply.read().decode()
    conn.close()
    if reply.status != 200:
        raise SystemExit(f"GET /metrics answered {reply.status}: {text[:200]}")
    found = {}
    for line in text.splitlines():
        if line.startswith("sandex_journal_commit_seconds_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            found[bound] = int(float(line.rsplit(" ", 1)[1]))
    return found


def slow_commits(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Between two ``commit_buckets``: the group commits in all, and those over 2.5, 5 and
    10 ms (the disk's share of a run's tail)."""
    def over(bound: str) -> int:
        return (after["+Inf"] - after[bound]) - (before["+Inf"] - before[bound])
    return {"commits": after["+Inf"] - before["+Inf"], "commits_over_2_5ms": over("0.0025"),
            "commits_over_5ms": over("0.005"), "commits_over_10ms": over("0.01")}


# -- CPU accounting from /proc --------------------------------------------------------------------

def machine_busy_seconds() -> float:
    """CPU seconds spent busy (not idle or iowait) by every core so far, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def steal_seconds() -> list[float]:
    """Each core's steal time so far (seconds the hypervisor ran something else while this
    virtual CPU wanted to run), from /proc/stat; empty where it is not known."""
    try:
        with open("/proc/stat") as f:
            rows = [line.split() for line in f if line.startswith("cpu") and line[3] != " "]
        return [int(row[8]) / os.sysconf("SC_CLK_TCK") for row in rows]
    except (OSError, ValueError, IndexError):
        return []


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of process ``pid`` (``None`` if unknown or gone)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_stack(pid: int | None) -> str:
    """What the server process really runs, from the native modules it has mapped."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except (OSError, TypeError):
        return "event loop unknown"
    loop = "uvloop" if "uvloop/loop" in maps else "stdlib asyncio loop (uvloop not loaded)"
    parser = ", httptools parser" if "httptools/parser" in maps else ""
    return f"{loop}{parser}"


# -- figures --------------------------------------------------------------------------------------

def percentile(ordered: list[float] | list[int], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, nearest rank; NaN if empty."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def percentiles(values: list[int] | list[float], scale: float = 1.0) -> dict[str, float]:
    """p50, p90, p99, p99.9 and max of ``values`` divided by ``scale``, to 3 decimals."""
    if not values:
        return {}
    ordered = sorted(values)
    cuts = {"p50": 0.50, "p90": 0.90, "p99": 0.99, "p999": 0.999}
    figures = {name: round(percentile(ordered, q) / scale, 3) for name, q in cuts.items()}
    figures["max"] = round(ordered[-1] / scale, 3)
    return figures


# -- signing keys ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One API key of a scenario file."""

    key: str
    secret: str  # base64, as Coinbase hands it out
    passphrase: str
    profile_id: str
    permissions: tuple[str, ...]


def scenario_keys(path: Path = SCENARIO) -> list[Key]:
    """Every key of every profile in the scenario file, in file order."""
    data = tomllib.loads(path.read_text())
    return [Key(k["key"], k["secret"], k["passphrase"], str(p["id"]),
                tuple(k.get("permissions", ("view", "trade"))))
            for p in data.get("profiles", []) for k in p.get("keys", [])]


def signed_headers(key: Key, method: str, path: str, body: bytes = b"",
                   timestamp: str | None = None) -> dict[str, str]:
    """The four ``CB-ACCESS-*`` headers of one request (§2.3)."""
    ts = timestamp if timestamp is not None else str(time.time())
    return {"CB-ACCESS-KEY": key.key, "CB-ACCESS-SIGN": sign(key.secret, ts, method, path, body),
            "CB-ACCESS-TIMESTAMP": ts, "CB-ACCESS-PASSPHRASE": key.passphrase}
