"""The pytest plugin as a bot's test suite meets it: pytester sessions of the files in
``cases/`` (real ccxt, cbpro and WebSocket clients against a venue the plugin starts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandex.testing import TESTING_SCENARIO, LocalServer

pytest_plugins = ["pytester"]

CASES = Path(__file__).parent / "cases"


def run(pytester: pytest.Pytester, case: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(**{f"test_{case}": (CASES / f"{case}.py").read_text()})
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_the_fixture_drives_the_venue_with_real_clients(pytester: pytest.Pytester) -> None:
    run(pytester, "trading").assert_outcomes(passed=12)


def test_markers_and_scenarios_start_their_own_venue(pytester: pytest.Pytester) -> None:
    run(pytester, "setups").assert_outcomes(passed=6)


def test_a_failed_test_reports_the_venue_log_of_that_test(pytester: pytest.Pytester) -> None:
    result = run(pytester, "failing")
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    assert text.count(" sandex -") == 1  # one log section: the passing test has none
    section = text.split(" sandex -", 1)[1].split(" sandex refusals -", 1)[0]
    assert "sandex.access 127.0.0.1 POST /orders 200" in section
    assert "GET /orders?product_id=BTC-USD" in section
    assert "POST /admin/reset" not in section.split("POST /orders", 1)[1]
    refusals = text.split(" sandex refusals -", 1)[1].split("\n")[1]
    assert "POST /orders -> 400 'Insufficient funds' (INSUFFICIENT_FUNDS) " in refusals
    # the first order holds 12.34 x 1.006; this one would need 1000 x 1234 x 1.006
    assert '"available": "99987.58596 USD", "required": "1241404 USD"' in refusals
    # then what else it met: the key's profile and its rate-limit bucket
    assert "} | auth ok user 7e570000-0000-4000-8000-000000000001 | bucket private " in refusals
    assert refusals.endswith(" left")
    assert text.count(" sandex refusals -") == 1


def test_a_session_that_uses_no_fixture_starts_nothing(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import sys

        def pytest_sessionfinish(session):
            loaded = sorted(m for m in sys.modules if m.startswith("sandex.testing."))
            print("PLUGIN", session.config.pluginmanager.has_plugin("sandex"), "LOADED", loaded)
    """)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "PLUGIN True LOADED ['sandex.testing.plugin']" in result.stdout.str()


def test_a_venue_given_by_url_is_used_as_it_is(pytester: pytest.Pytester, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    server = LocalServer.start(TESTING_SCENARIO, 1, tmp_path / "sandex.log")
    try:
        cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
        assert server.admin_token.encode() not in cmdline  # it came in the environment
        monkeypatch.setenv("SANDEX_ADMIN_TOKEN", server.admin_token)
        pytester.makepyfile(test_remote=f"""
            import pytest

            def test_it_is_that_venue(sandex, sandex_server):
                assert sandex.rest_url == sandex_server.url == "{server.url}"
                assert sandex.fund("USD", "1")["balance"] == "100001"

            @pytest.mark.sandex(clock="frozen")
            def test_a_setup_of_its_own_needs_a_venue_of_its_own(sandex):
                pass
        """)
        result = pytester.runpytest("-p", "no:cacheprovider", "--sandex-url", server.url)
        result.assert_outcomes(passed=1, errors=1)
        result.stdout.fnmatch_lines(["*--sandex-url gives one venue*"])
    finally:
        server.stop()
    assert "POST /admin/deposit 200" in server.log_since(0)
