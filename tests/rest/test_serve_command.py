"""``sandex serve`` with the embedded default scenario prints credentials that work."""

from __future__ import annotations

import subprocess
import sys
import time

from sandex import native
from tests.support.rest_kit import RawClient, free_port


def read_banner(process: subprocess.Popen[str]) -> list[str]:
    """The lines printed up to the first blank one (the snippets follow)."""
    lines = []
    while (line := process.stdout.readline().rstrip("\n")):  # type: ignore[union-attr]
        lines.append(line)
    return lines


def test_default_serve_prints_working_demo_credentials(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    process = subprocess.Popen([sys.executable, "-m", "sandex.cli", "serve", "--port", str(port),
                                "--data-dir", str(data), "--no-demo"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = read_banner(process)
        assert lines[:4] == ["sandex 0.1.0 ready", f"  REST       http://127.0.0.1:{port}",
                             f"  feed       ws://127.0.0.1:{port}",
                             f"  web page   http://127.0.0.1:{port}/ui/"]
        assert lines[4].startswith(f"  data       {data}, journal position ")  # the scenario
        assert lines[5] == f"  admin      sandex profile list --data-dir {data}"
        assert lines[6] == f"  core       {native.describe()}"  # compiled, or why not
        fields = dict(line.split() for line in lines[8:11])
        creds = (fields["key"], fields["secret"], fields["passphrase"])
        assert creds[2] == "sandexdemo"
        deadline = time.monotonic() + 20
        while True:
            try:
                reply = RawClient(port, creds).get("/accounts")
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.05)
        assert reply.status == 200
        balances = {a["currency"]: a["balance"] for a in reply.json()}
        assert balances["USD"] == "100000.0000000000000000"
        assert balances["BTC"] == "10.0000000000000000"
    finally:
        process.terminate()
        process.wait(10)


def test_log_json_writes_one_object_per_request_line() -> None:
    import json

    from tests.support.rest_kit import ALICE, start_server

    server = start_server("--log-json")
    try:
        assert RawClient(server.port, ALICE).get("/orders?status=open").status == 200
    finally:
        server.stop()
    records = [json.loads(line) for line in server.log().splitlines()]
    [request] = [r for r in records if r.get("target") == "/orders?status=open"]
    assert (request["logger"], request["level"], request["method"], request["status"]) == (
        "sandex.access", "info", "GET", 200)
    assert request["client"] == "127.0.0.1" and request["ms"] >= 0
    assert request["message"].startswith("127.0.0.1 GET /orders?status=open 200 ")


def test_version() -> None:
    done = subprocess.run([sys.executable, "-m", "sandex.cli", "--version"],
                          capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, "sandex 0.1.0\n")
