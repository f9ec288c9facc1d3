"""``sandex serve`` with the embedded default scenario prints credentials that work."""

from __future__ import annotations

import subprocess
import sys
import time

from rest_kit import RawClient, free_port


def test_default_serve_prints_working_demo_credentials(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    process = subprocess.Popen([sys.executable, "-m", "sandex.cli", "serve", "--port", str(port),
                                "--data-dir", str(data)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(6)]  # type: ignore[union-attr]
        assert lines[0].strip() == f"sandex 0.1.0 ready: REST http://127.0.0.1:{port}"
        assert lines[1].split(",")[0].split() == ["data", str(data)]
        fields = dict(line.split() for line in lines[3:6])
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
