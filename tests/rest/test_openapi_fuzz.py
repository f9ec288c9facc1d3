"""Schemathesis against the running server's own ``GET /openapi.json``.

Every operation of the served document is fuzzed with positive and negative requests (public
operations unsigned, private ones signed by ALICE over the exact bytes ``requests`` sends, §2.3).
Whatever is sent, the answer must be JSON, never a 5xx, and every 4xx must be exactly
``{"message": <string>}`` (§3.1). Runs are bounded and derandomized, so a failure reproduces.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandex.admin.catalogue import CATALOGUE, GATEWAY_COMMANDS
from sandex.admin.ops import OPS
from sandex.api.admin import openapi_paths as admin_paths
from sandex.api.rest.openapi import document
from sandex.api.rest.routes import ROUTES
from sandex.auth.signing import sign
from tests.support.rest_kit import (
    ALICE,
    ALICE_PROFILE,
    BANK,
    USD_WALLET,
    RawClient,
    Server,
    start_server,
)

# Per operation: 26 operations take about 15 s on one idle core. Raise it for a deeper local run.
EXAMPLES = int(os.environ.get("SANDEX_FUZZ_EXAMPLES", "40"))
DOC = document(ROUTES)  # the REST part: fuzzed against the shared test server
SERVED = document(ROUTES, admin_paths())  # what ``GET /openapi.json`` serves
LABELS = [f"{method.upper()} {path}" for path, item in DOC["paths"].items() for method in item]
ADMIN_LABELS = [f"{method.upper()} {path}" for path, item in SERVED["paths"].items()
                for method in item if path.startswith("/admin/")]
ADMIN_EXAMPLES = max(1, EXAMPLES // 3)
SAVINGS = "a11ce000-0000-4000-8000-0000000000a2"  # ALICE's second profile

# Operations on which the derandomized fuzzer reaches a known server bug: the test keeps
# asserting the correct behaviour and is expected to fail until the bug is fixed.
KNOWN_BUGS: dict[str, str] = {}


class CoinbaseAuth(requests.auth.AuthBase):
    """Signs a prepared request as cbpro does: timestamp + METHOD + path?query + raw body."""

    def __init__(self, creds: tuple[str, str, str]) -> None:
        self.key, self.secret, self.passphrase = creds

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        timestamp = f"{time.time():.3f}"
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        signature = sign(self.secret, timestamp, request.method or "", request.path_url, body)
        request.headers.update({"CB-ACCESS-KEY": self.key, "CB-ACCESS-SIGN": signature,
                                "CB-ACCESS-TIMESTAMP": timestamp,
                                "CB-ACCESS-PASSPHRASE": self.passphrase})
        return request


@pytest.fixture(scope="module")
def schema(server: Server) -> Any:
    # An explicit default configuration: no schemathesis.toml found on disk changes the run.
    loaded = schemathesis.openapi.from_url(f"{server.url}/openapi.json",
                                           config=schemathesis.Config())
    loaded.validate()  # the served document is valid OpenAPI 3.0
    return loaded


@pytest.fixture
def known(alice: RawClient) -> dict[str, list[str]]:
    """Values that exist on the server, so fuzzed requests also get past the lookups.

    Fresh orders per operation: an earlier operation's fuzzing may have canceled (and so
    purged) the previous ones.
    """
    assert alice.delete("/orders").status == 200  # stay far from the open-order limit
    client_oid = str(uuid.uuid4())
    placed = [alice.post("/orders", {"product_id": "BTC-USD", "side": "buy", "price": "10.00",
                                     "size": "0.5", "client_oid": client_oid}).json()["id"],
              alice.post("/orders", {"product_id": "ETH-USD", "side": "sell",
                                     "price": "90000.00", "size": "1"}).json()["id"]]
    profiles = [p["id"] for p in alice.get("/profiles").json()]
    report = alice.post("/reports", {"type": "fills", "format": "csv"}).json().get(
        "id", str(uuid.uuid4()))  # at most 3 generate at once: a refusal is fine here
    return {
        "product_id": ["BTC-USD", "eth-usd", "ETH/BTC"],
        "currency_id": ["USD", "btc"],
        "currency": ["USD", "BTC", "ETH"],
        "account_id": [a["id"] for a in alice.get("/accounts").json()],
        "profile_id": [ALICE_PROFILE],
        "from": profiles,
        "to": profiles,
        "order_id": [*placed, placed[0].replace("-", ""), f"client:{client_oid}"],
        # the account surface (tests/account has the venue with USDC, CBETH and manage keys)
        "user_id": ["self", "a11ce0000000000000000001"],
        "wrapped_asset_id": ["CBETH"],
        "conversion_id": [str(uuid.uuid4())],
        "stake_wrap_id": [str(uuid.uuid4())],
        "redeem_id": [str(uuid.uuid4())],
        "rule_id": [str(uuid.uuid4())],
        "report_id": [report],
        "name": ["x.csv"],
        "loan_id": ["loan-1"],
        "transfer_id": [alice.post("/deposits/payment-method", {
            "amount": "1", "currency": "USD", "payment_method_id": BANK}).json()["id"]],
        "entry_id": [str(uuid.uuid4())],
    }


def fix_up(case: Any, data: st.DataObject, known: dict[str, list[str]]) -> None:
    """Replace some generated identifiers by existing ones (drawn, so still reproducible)."""
    containers = [case.path_parameters, case.query, case.body]
    for container in containers:
        if not isinstance(container, dict):
            continue
        for name in list(container):
            values = known.get(name)
            if values and data.draw(st.booleans(), label=f"fix {name}"):
                value = data.draw(st.sampled_from(values), label=name)
                if container is case.query and name == "order_id":
                    value = value.removeprefix("client:")
                container[name] = value


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.trust_env = False  # no proxy between the test and 127.0.0.1
        yield http


def check_answer(label: str, response: schemathesis.Response, private: bool) -> None:
    """The invariants of every answer (§1.2, §3.1), whatever the request."""
    where = f"{label}: {response.request.method} {response.request.path_url} -> " \
            f"{response.status_code} {response.content[:300]!r}"
    assert response.status_code < 500, where
    content_types = response.headers.get("content-type", [])
    assert len(content_types) == 1 and content_types[0].startswith("application/json"), where
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert isinstance(body, dict) and list(body) == ["message"], where
        assert isinstance(body["message"], str) and body["message"], where
        # ALICE signs correctly, so a signature refusal would mean the server verified
        # something other than the raw request target and body.
        assert not (private and body["message"] == "invalid signature"), where


def test_served_document_is_the_generated_one(server: Server, session: requests.Session) -> None:
    response = session.get(f"{server.url}/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == json.loads(json.dumps(SERVED))
    assert response.content == session.get(f"{server.url}/openapi.json").content


def test_document_covers_every_route() -> None:
    served = {(r.method, r.pattern) for r in ROUTES}
    documented = {(m.upper(), p) for p, item in DOC["paths"].items() for m in item}
    assert served == documented
    operation_ids = [op["operationId"] for item in DOC["paths"].values() for op in item.values()]
    assert len(set(operation_ids)) == len(operation_ids)
    for route in ROUTES:
        operation = DOC["paths"][route.pattern][route.method.lower()]
        assert operation["summary"], f"{route.method} {route.pattern} has no hand-written details"
        assert (operation["security"] == []) == (route.permission is None)
        codes = set(operation["responses"])
        assert "200" in codes and {"400", "404"} <= codes
        for code in codes - {"200"}:
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}
    schemes = DOC["components"]["securitySchemes"]
    assert sorted(s["name"] for s in schemes.values()) == [
        "CB-ACCESS-KEY", "CB-ACCESS-PASSPHRASE", "CB-ACCESS-SIGN", "CB-ACCESS-TIMESTAMP"]
    assert all(s["type"] == "apiKey" and s["in"] == "header" for s in schemes.values())


def test_document_lists_every_admin_command() -> None:
    assert set(CATALOGUE) == set(OPS) | GATEWAY_COMMANDS
    documented = {path.removeprefix("/admin/") for path in SERVED["paths"]
                  if path.startswith("/admin/")}
    assert documented == set(OPS) | GATEWAY_COMMANDS
    for path in ("/admin/reset", "/admin/snapshot.restore", "/admin/clock.advance"):
        operation = SERVED["paths"][path]["post"]
        assert operation["security"] == [{"AdminToken": []}] and operation["summary"]
    assert set(SERVED["paths"]["/admin/clock"]) == {"get"}
    assert SERVED["components"]["securitySchemes"]["AdminToken"]["scheme"] == "bearer"


class AdminAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """A server of its own (fuzzed admin commands reset it and move its clock), on a data dir
    so its admin token can be read."""
    data_dir = tmp_path_factory.mktemp("admin-fuzz") / "data"
    server = start_server(data_dir=data_dir)
    try:
        yield server, (data_dir / "admin.token").read_text().strip()
    finally:
        server.stop()


@pytest.mark.parametrize("label", ADMIN_LABELS)
def test_fuzz_admin_command(label: str, admin_server: tuple[Server, str],
                            session: requests.Session) -> None:
    """Whatever arguments an admin command gets: JSON, never a 5xx, errors as a message."""
    server, token = admin_server
    method, path = label.split(" ", 1)
    operation = schemathesis.openapi.from_dict(
        json.loads(json.dumps(SERVED)), config=schemathesis.Config())[path][method]
    strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=ADMIN_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        response = case.call(base_url=server.url, session=session, auth=AdminAuth(token))
        check_answer(label, response, private=False)

    fuzz()


def _param(label: str) -> Any:
    reason = KNOWN_BUGS.get(label)
    return pytest.param(label, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason \
        else label


@pytest.mark.parametrize("label", [_param(label) for label in LABELS])
def test_fuzz_operation(label: str, schema: Any, server: Server, session: requests.Session,
                        known: dict[str, list[str]]) -> None:
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    private = bool(DOC["paths"][path][method.lower()]["security"])
    auth = CoinbaseAuth(ALICE) if private else None
    strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy, data=st.data())
    def fuzz(case: Any, data: st.DataObject) -> None:
        fix_up(case, data, known)
        response = case.call(base_url=server.url, session=session, auth=auth)
        check_answer(label, response, private)
        if 200 <= response.status_code < 300 or response.status_code in (400, 401, 403, 404):
            case.validate_response(response, checks=[status_code_conformance,
                                                     content_type_conformance,
                                                     response_schema_conformance])

    fuzz()


# -- every documented input, one at a time, set to an awkward value -------------------------------
# Deterministic complement to the fuzzer: values that random generation rarely reaches but that
# real clients and typos do send (unicode digits, exponents, empty strings, nested JSON).

QUERY_EDGES = ["\u00b2", "\u0661\u0660", "-1", "0", "1e3", "1.5", " 7", "9" * 30, "", "NaN",
               "null", "%", "\x00", "\U0001f4a5", "2024-13-45T99:99:99Z", "0000-01-01",
               "9999-12-31T23:59:59Z", "1970-01-01T00:00:00-23:59", "true", "a,b"]
BODY_EDGES: list[Any] = [None, True, 0, -1, 1.5, 10**30, "", "\u00b2", "1e-5", "1E+400", "NaN",
                         [], {}, ["x"], {"a": 1}, "x" * 1000, "-0", "0.000000001"]
BASE_BODIES = {
    "/orders": {"product_id": "BTC-USD", "side": "buy", "price": "10.00", "size": "0.5"},
    "/profiles/transfer": {"from": SAVINGS, "to": ALICE_PROFILE, "currency": "USD",
                           "amount": "0"},
    "/conversions": {"from": "USD", "to": "USDC", "amount": "1"},
    "/profiles": {"name": "fuzzed"},
    "/profiles/{profile_id}": {"name": "fuzzed"},
    "/profiles/{profile_id}/deactivate": {"to": SAVINGS},
    "/reports": {"type": "account", "format": "csv"},
    "/wrapped-assets/stake-wrap": {"from_currency": "ETH", "to_currency": "CBETH",
                                   "amount": "1"},
    # funds: amount 0 is refused, so only a variant of one field may move anything
    "/deposits/coinbase-account": {"amount": "0", "currency": "USD",
                                   "coinbase_account_id": USD_WALLET},
    "/withdrawals/coinbase-account": {"amount": "0", "currency": "USD",
                                      "coinbase_account_id": USD_WALLET},
    "/deposits/payment-method": {"amount": "0", "currency": "USD",
                                 "payment_method_id": BANK},
    "/withdrawals/payment-method": {"amount": "0", "currency": "USD",
                                    "payment_method_id": BANK},
    "/withdrawals/crypto": {"amount": "0", "currency": "BTC", "crypto_address": "bc1qtest"},
    "/coinbase-accounts/{account_id}/addresses": {},
    "/address-book": {"addresses": [{"currency": "BTC", "to": {"address": "bc1qtest"},
                                     "label": "cold"}]},
    "/address-book/{entry_id}": {"label": "cold"},
    "/withdrawals/counterparty": {"amount": "0", "currency": "BTC", "counterparty_id": "CP-1"},
    "/wrapped-assets/redeem": {"from_currency": "CBETH", "to_currency": "ETH", "amount": "0"},
    "/travel-rules": {"address": "bc1qtest", "originator_name": "Ada",
                      "originator_country": "GB"},
    "/transfers/{transfer_id}/travel-rules": {"originator_name": "Ada"},
    "/users/{user_id}/settlement-preferences": {"settlement_preference": "USD"},
}


def _body_fields(operation: dict[str, Any]) -> list[str]:
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return list(DOC["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"])


def _inputs() -> list[str]:
    out = []
    for label in LABELS:
        method, path = label.split(" ", 1)
        operation = DOC["paths"][path][method.lower()]
        out += [f"{label} {p['in']}:{p['name']}" for p in operation["parameters"]]
        if "requestBody" in operation:
            out += [f"{label} body:{name}" for name in _body_fields(operation)]
    return out


INPUT_BUGS: dict[str, str] = {}  # input -> "server bug: ..." while one is open


def _input_param(item: str) -> Any:
    reason = INPUT_BUGS.get(item)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(item, marks=marks, id=item)


def test_input_bugs_name_real_inputs() -> None:
    assert set(INPUT_BUGS) <= set(_inputs())


@pytest.mark.parametrize("item", [_input_param(item) for item in _inputs()])
def test_awkward_input(item: str, server: Server, known: dict[str, list[str]]) -> None:
    label, where = item.rsplit(" ", 1)
    method, path = label.split(" ", 1)
    location, name = where.split(":", 1)
    operation = DOC["paths"][path][method.lower()]
    private = bool(operation["security"])
    client = RawClient(server.port, ALICE if private else None)
    base = {p["name"]: known[p["name"]][0] for p in operation["parameters"] if p["in"] == "path"}
    query = {"product_id": "BTC-USD"} if path == "/fills" and name != "product_id" else {}
    body = BASE_BODIES.get(path)
    variants: list[tuple[dict[str, str], dict[str, str], Any]] = []
    if location == "body":
        variants = [(base, query, {**body, name: value}) for value in BODY_EDGES]  # type: ignore[dict-item]
    elif location == "path":
        variants = [({**base, name: value}, query, body) for value in QUERY_EDGES if value]
    else:
        variants = [(base, {**query, name: value}, body) for value in QUERY_EDGES]
    failures = []
    for path_values, query_values, json_body in variants:
        target = path
        for key, value in path_values.items():
            target = target.replace("{" + key + "}", quote(value, safe=""))
        if query_values:
            target += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query_values.items())
        reply = client.request(method, target, json_body)
        answer = json.loads(reply.body) if reply.headers.get("content-type", "").startswith(
            "application/json") else None
        ok = (reply.status < 500 and answer is not None
              and (reply.status < 400 or (isinstance(answer, dict) and list(answer) == ["message"]
                                          and isinstance(answer["message"], str))))
        if not ok:
            failures.append(f"{method} {target} {json.dumps(json_body)[:80]} -> "
                            f"{reply.status} {reply.body[:100]!r}")
    assert not failures, "\n".join(failures)
