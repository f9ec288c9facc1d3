"""The pytest plugin (entry point ``pytest11: sandex``): a venue per test, reset before it.

A session that uses none of its fixtures pays nothing: this module imports only pytest, and
the client, the launcher and a server come when a test first asks for ``sandex``. See
``docs/testing.md``.

* ``sandex_server`` (session): the venue of the default setup, ``sandex serve --ephemeral``
  on a free loopback port (one per xdist worker), or the one ``--sandex-url`` names.
* ``sandex_scenario``: override it to start from another scenario (a path, TOML text or a
  dict; ``None``: the packaged ``testing.toml``).
* ``sandex`` (function): resets the test's venue to its starting state, returns a ``Venue``.
* marker ``sandex(scenario=, seed=, clock="frozen"|"virtual"|"wall", start=, rate=)``: a
  setup that differs from the default gets its own server, started once per session.
* a failed test's report gains a ``sandex`` section: the venue's log lines of that test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sandex.testing.servers import Server, Servers
    from sandex.testing.setup import Source
    from sandex.testing.venue import Venue

MARKER_ARGS = ("scenario", "seed", "clock", "start", "rate")
_LOG = pytest.StashKey[tuple["Server", int]]()  # a test's server and where its log began
_VENUE = pytest.StashKey["Venue"]()  # a test's venue: its traces since the reset are the test's


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sandex", "sandex test venue")
    group.addoption("--sandex-url", metavar="URL",
                    help="use the sandex venue at URL instead of starting one (started from "
                         "sandex's testing scenario; see docs/testing.md)")
    group.addoption("--sandex-token", metavar="TOKEN",
                    help="that venue's admin token (default: $SANDEX_ADMIN_TOKEN)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandex(scenario=None, seed=None, clock=None, start=None, rate=None): "
                   "the starting state of the test's sandex venue (docs/testing.md)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                               call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    found = item.stash.get(_LOG, None)
    if found is not None:
        report: pytest.TestReport = outcome.get_result()
        if report.failed:
            server, mark = found
            text = server.log_since(mark)
            report.sections.append(("sandex", text or "(no venue log lines in this test)"))
    venue = item.stash.get(_VENUE, None)
    if venue is not None:
        report = outcome.get_result()
        if report.failed and report.when == "call":
            refusals = _refusals(venue)
            if refusals is not None:
                report.sections.append(("sandex refusals", refusals))


def _refusals(venue: Venue) -> str | None:
    """The test's refused REST requests (a reset empties the traces, so every trace is the
    test's), each with its rule and figures; ``None`` if the venue keeps no traces (a
    scenario without ``[testing] request_ids``)."""
    from sandex.testing.http import VenueError

    try:
        refused = venue.trace(after="r-000000", refused=True)
    except VenueError as exc:
        if "keeps no traces" in exc.message:
            return None
        return f"(the venue's traces could not be read: {exc})"
    except Exception as exc:  # the venue may be what failed
        return f"(the venue's traces could not be read: {exc})"
    return "\n".join(_compact(t) for t in refused) or "(none)"


def _compact(trace: dict[str, Any]) -> str:
    """One refused request on one line: what it asked, the answer and its rule, the
    figures, then what else it met (auth, bucket, fault firings, gate or reply holds)."""
    line = (f"{trace['request_id']} {trace['method']} {trace['target']} -> {trace['status']} "
            f"{trace['message']!r} ({trace['rule']})"
            + (f" {json.dumps(trace['detail'])}" if trace.get("detail") else ""))
    met = []
    auth = trace.get("auth")
    if auth is not None:
        met.append(f"auth {auth['result']}" + (f" {auth['kind']} {auth['profile_id']}"
                                               if auth.get("profile_id") else ""))
    bucket = trace.get("rate_limit")
    if bucket is not None:
        met.append(f"bucket {bucket['bucket']} " + (
            "empty (429)" if bucket["refused"] else f"{bucket['tokens_left']} left"))
    met.extend(f"fault {f['rule']}: {f['action']}" for f in trace.get("faults") or ())
    for name in ("gate", "reply_hold"):
        hold = trace.get(name)
        if hold is not None:
            met.append(f"{name.replace('_', ' ')} held {hold['waited_ms']} ms "
                       f"({hold['released']})")
    return line + "".join(f" | {part}" for part in met)


@pytest.fixture(scope="session")
def sandex_servers(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The session's servers, one per setup, stopped when the session ends."""
    from sandex.testing.launcher import TOKEN_VARIABLE, RemoteServer
    from sandex.testing.servers import Servers

    url = request.config.getoption("sandex_url")
    remote = None
    if url:
        token = request.config.getoption("sandex_token") or os.environ.get(TOKEN_VARIABLE)
        if not token:
            raise pytest.UsageError(f"--sandex-url needs --sandex-token or ${TOKEN_VARIABLE}")
        remote = RemoteServer(url, token)
    servers = Servers(tmp_path_factory.mktemp("sandex"), remote)
    yield servers
    servers.close()


@pytest.fixture(scope="session")
def sandex_server(sandex_servers: Servers) -> Server:
    """The venue of the default setup: ``.url``, ``.admin_token``."""
    from sandex.testing.setup import default_setup

    return sandex_servers.get(default_setup())


@pytest.fixture
def sandex_scenario() -> Source:
    """The starting state of a test's venue: override with a path (relative to the rootdir),
    TOML text or a dict; ``None`` is the packaged ``testing.toml``."""
    return None


@pytest.fixture
def sandex(request: pytest.FixtureRequest, sandex_scenario: Source,
           sandex_servers: Servers) -> Iterator[Venue]:
    """The test's venue, reset to its starting state (scenario, clock, balances, ids)."""
    from sandex.testing.setup import SetupError, resolve
    from sandex.testing.venue import Venue

    options = _marker_options(request.node.get_closest_marker("sandex"))
    source = options.pop("scenario", sandex_scenario)
    try:
        setup = resolve(source, root=request.config.rootpath, **options)
        server = sandex_servers.get(setup)
    except SetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    venue = Venue(server.url, server.admin_token, keys=setup.keys())
    venue.reset()
    mark = server.log_mark()
    if mark is not None:
        request.node.stash[_LOG] = (server, mark)
    request.node.stash[_VENUE] = venue
    yield venue
    venue.close()


def _marker_options(marker: pytest.Mark | None) -> dict[str, Any]:
    if marker is None:
        return {}
    unknown = set(marker.kwargs) - set(MARKER_ARGS)
    if marker.args or unknown:
        pytest.fail(f"@pytest.mark.sandex takes keyword arguments {', '.join(MARKER_ARGS)}"
                    f"{'; not ' + ', '.join(sorted(unknown)) if unknown else ''}", pytrace=False)
    return dict(marker.kwargs)
