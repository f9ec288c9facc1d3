"""Instructions per REST request, in process: for comparing two builds under cachegrind.

    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no \\
        .venv/bin/python bench/inprocess.py ROUNDS [--test-mode] [--src DIR]

Builds the venue ``sandex serve --ephemeral`` assembles from ``tests/scenario.toml`` (rate
limits off; ``--test-mode`` adds ``[testing] request_ids = true``, so every request is traced)
and sends ROUNDS times, through its ASGI app with an in-memory transport, a signed ``POST
/orders`` (a resting limit order), its ``DELETE /orders/{id}`` and a ``GET /time``: client
signing included. Run it with ROUNDS = 0 and with ROUNDS = N; the difference of the two
instruction counts over 3 N is the cost of one request. ``--src DIR`` runs the ``sandex``
package found in DIR (another build, for A/B).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rounds", type=int)
    parser.add_argument("--test-mode", action="store_true")
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(Path(args.src).resolve()))
    sys.path.insert(1 if args.src else 0, str(HERE))
    from tests.api.rest.harness import InProcessVenue  # after --src
    from tests.support.rest_kit import ALICE, SCENARIO

    scenario = SCENARIO
    if args.test_mode:
        scenario = Path(tempfile.mkdtemp()) / "scenario.toml"
        scenario.write_text(SCENARIO.read_text() + "\n[testing]\nrequest_ids = true\n")
    venue = InProcessVenue(scenario, rate_limits=False)
    client = venue.client(ALICE)
    body = {"product_id": "BTC-USD", "side": "buy", "price": "100.00", "size": "0.01"}
    for _ in range(args.rounds):
        placed = client.post("/orders", body)
        assert placed.status == 200, placed.body
        assert client.delete(f"/orders/{placed.json()['id']}").status == 200
        assert client.get("/time").status == 200
    import sandex

    print(f"sandex from {Path(sandex.__file__).parent}", file=sys.stderr)
    venue.close()


if __name__ == "__main__":
    main()
