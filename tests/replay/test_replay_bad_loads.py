"""Bad ``replay.load`` bodies through the admin door: every one is a 400 ``{"message": ...}``
naming what is wrong (never a 500), and the venue is left exactly as it was (same state hash,
no replay loaded, no product added)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.replay.test_replay_live import admin
from tests.support.recordings_kit import framed, level2_messages, write
from tests.support.rest_kit import Server, start_server


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, Path]]:
    tmp = tmp_path_factory.mktemp("bad-loads")
    good = write(tmp / "good.jsonl", framed(level2_messages(20)))
    data_dir = tmp / "data"
    server = start_server("--no-demo", data_dir=data_dir)
    yield server, data_dir, good
    server.stop()


def files(tmp: Path) -> dict[str, Path]:
    (tmp / "empty.jsonl").write_bytes(b"")
    (tmp / "binary.dat").write_bytes(bytes(range(256)) * 8)
    (tmp / "quiet.jsonl").write_text('{"type": "subscriptions", "channels": []}\n')
    (tmp / "products.json").write_text('{"products": "none"}')
    (tmp / "bad-increment.json").write_text(json.dumps(
        [{"id": "XBT-USD", "base_currency": "XBT", "quote_currency": "USD",
          "base_increment": "tiny", "quote_increment": "0.01"}]))
    return {p.stem: p for p in tmp.iterdir() if p.is_file()}


def bodies(good: Path, tmp: Path) -> list[tuple[dict[str, Any], str]]:
    """Each bad body and the start of its message."""
    f = files(tmp)
    ok = {"source": str(good), "format": "coinbase-level2"}
    source_message = "source must be a file path (or a list of them)"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"format": "coinbase-level2"}, source_message),
        ({**ok, "bogus": 1}, "unknown replay setting 'bogus'"),
        ({**ok, "Source": str(good)}, "unknown replay setting 'Source'"),
        ({**ok, "source": str(tmp)}, f"{tmp}: no such file"),
        ({**ok, "source": [str(good), str(tmp)]}, f"{tmp}: no such file"),
        ({**ok, "source": str(f["empty"])}, f"{f['empty']}: no event to replay in it"),
        ({**ok, "source": str(f["quiet"])}, f"{f['quiet']}: no event to replay in it"),
        ({**ok, "source": str(f["binary"])}, f"{f['binary']}:1: not a JSON message"),
        ({**ok, "source": str(f["binary"]), "format": "tardis"},
         f"{f['binary']}:1: not a tardis incremental_book_L2 or trades CSV header"),
        ({**ok, "source": str(f["empty"]), "format": "tardis"},
         f"{f['empty']}:1: not a tardis"),
        ({**ok, "create_products_from": str(tmp)}, f"{tmp}: Is a directory"),
        ({**ok, "create_products_from": str(tmp / "nope.json")},
         f"{tmp / 'nope.json'}: No such file or directory"),
        ({**ok, "create_products_from": str(f["empty"])},
         f"{f['empty']}: not a GET /products reply (a JSON list)"),
        ({**ok, "create_products_from": str(f["binary"])},
         f"{f['binary']}: not a GET /products reply"),
        ({**ok, "create_products_from": str(f["products"])},
         f"{f['products']}: not a GET /products reply"),
        ({**ok, "create_products_from": str(f["bad-increment"])},
         f"{f['bad-increment']}: XBT-USD: base_increment 'tiny' is not a number"),
        ({**ok, "products": {"BTC-USD": "XBT-USD"}},
         "product XBT-USD does not exist on this venue"),
        ({**ok, "products": ["BTC-USD"]}, "products: 'BTC-USD' is not SRC=DST"),
        ({**ok, "price_scale": "0"}, "price_scale must be a positive number"),
        ({**ok, "size_scale": "-2"}, "size_scale must be a positive number"),
        ({**ok, "price_scale": "NaN"}, "price_scale must be a positive number"),
        ({**ok, "size_scale": "Infinity"}, "size_scale must be a positive number"),
        ({**ok, "price_scale": "ten"}, "price_scale: 'ten' is not a number"),
    ]
    wrong_types: dict[str, list[Any]] = {
        "source": [None, 5, True, {}, [], [5], [str(good), None], {"path": str(good)}],
        "format": [None, 5, ["coinbase-level2"], "COINBASE-LEVEL2"],
        "products": [5, "BTC-USD=BTC-USD", [5], {"BTC-USD": 5}, {"BTC-USD": None}, True],
        "price_scale": [[], {}, True, None], "size_scale": [[2], {"x": 1}, False],
        "speed": [None, 5, ["max"], "MAX", True],
        "cancel_from": [None, 5, "middle", ["back"]],
        "create_products_from": [5, True, [], {}, [str(good)], ""],
        "start": ["yes", 1, [], {}, None],
    }
    cases += [({**ok, name: value}, "") for name, values in wrong_types.items()
              for value in values]
    return cases


def test_every_bad_load_is_a_400_and_changes_nothing(venue: tuple[Server, Path, Path],
                                                      tmp_path: Path) -> None:
    server, data_dir, good = venue
    _, before = admin(server, data_dir, "state", {})
    for body, message in bodies(good, tmp_path):
        status, reply = admin(server, data_dir, "replay.load", body)
        assert status == 400 and set(reply) == {"message"}, (body, status, reply)
        assert isinstance(reply["message"], str) and "\n" not in reply["message"], reply
        assert reply["message"].startswith(message), (body, reply)
    _, after = admin(server, data_dir, "state", {})
    assert after["state_hash"] == before["state_hash"]
    assert after["position"] == before["position"]
    assert admin(server, data_dir, "replay.status", {}) == (200, {"state": "idle"})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/products/XBT-USD")
    assert conn.getresponse().status == 404
    # and the good body loads
    status, loaded = admin(server, data_dir, "replay.load",
                           {"source": str(good), "format": "coinbase-level2"})
    assert status == 200 and loaded["state"] == "paused", loaded
    assert admin(server, data_dir, "replay.unload", {})[0] == 200


def test_a_body_that_is_not_an_object_is_a_400(venue: tuple[Server, Path, Path]) -> None:
    server, data_dir, _ = venue
    token = (data_dir / "admin.token").read_text().strip()
    for raw in (b"[1, 2]", b'"source"', b"{not json", b"\xff\xfe"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("POST", "/admin/replay.load", raw,
                     {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        reply = conn.getresponse()
        assert reply.status == 400, raw
        assert set(json.loads(reply.read())) == {"message"}
