"""The FIX session rules against a real ``sandex serve``, with a raw socket client: what a
real engine would not send, and each refusal's Logout text (docs/fix.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandex.errors import Error
from tests.fix.conftest import Rest
from tests.support.fix_kit import RawFix, frame, logon_fields, ms_now, new_id, start_fix_server
from tests.support.rest_kit import ALICE, BOB, SCENARIO, VIEWER, Server

TIME_TEXT = ("invalid signature: SendingTime(52) must be YYYYMMDD-HH:MM:SS.sss "
             "(exactly 3 fractional digits)")


def stale() -> str:
    return (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


def order(price: str = "11.00", size: str = "0.5", cl: str | None = None) -> list[tuple[int, str]]:
    return [(11, cl or new_id()), (55, "BTC-USD"), (54, "1"), (40, "2"), (44, price),
            (38, size), (59, "1")]


def refused(port: int, fields: list[tuple[int, str]]) -> str:
    """Send ``fields`` as the first message: the Logout text, and the socket closes."""
    client = RawFix(port)
    client.send_raw(frame(fields))
    logout = client.expect("5")
    assert logout[34] == "1" and logout[49] == "Coinbase"
    client.send("5", [], seq=2)  # answer the Logout as an engine does: then it closes
    assert client.closed()
    return logout[58]


@pytest.mark.parametrize(("fields", "text"), [
    (lambda: logon_fields(ALICE, passphrase="wrong"), "Invalid Passphrase"),
    (lambda: logon_fields((ALICE[0], BOB[1], ALICE[2])), "invalid signature"),
    (lambda: logon_fields(("f" * 32, ALICE[1], "x")), "Invalid API Key"),
    (lambda: logon_fields(ALICE, seq="01"),
     "invalid signature: MsgSeqNum(34) must be 1 on Logon, without leading zeros"),
    (lambda: logon_fields(ALICE, sending_time=ms_now()[:-4]), TIME_TEXT),
    (lambda: logon_fields(ALICE, sending_time=ms_now() + "456"), TIME_TEXT),
    (lambda: logon_fields(ALICE, target="Coinbase2"), "TargetCompID(56) must be Coinbase"),
    (lambda: logon_fields(ALICE, sending_time=stale()), "request timestamp expired"),
    (lambda: logon_fields(VIEWER), "Forbidden: the API key needs the trade permission"),
    (lambda: [*logon_fields(ALICE)[:-1], (1137, "8")],
     "DefaultApplVerID(1137) must be 9 (FIX50SP2)"),
    (lambda: logon_fields(ALICE, extra=[(8013, "X")]),
     "Invalid value for CancelOrdersOnDisconnect(8013)"),
    (lambda: [(35, "0"), (34, "1"), (49, ALICE[0]), (52, ms_now()), (56, "Coinbase")],
     "First message must be Logon (35=A)"),
], ids=["passphrase", "secret", "key", "seq-leading-zero", "time-0-digits", "time-6-digits",
        "target", "expired", "view-only", "appl-ver", "cod-value", "not-logon"])
def test_each_bad_logon_is_a_logout_with_its_reason(
        fix_port: int, fields: Callable[[], list[tuple[int, str]]], text: str) -> None:
    assert refused(fix_port, fields()) == text  # signed now: collection may be minutes ago


def test_a_bad_checksum_on_logon_drops_the_connection(fix_port: int) -> None:
    client = RawFix(fix_port)
    client.send_raw(frame(logon_fields(ALICE), checksum_delta=1))
    assert client.closed()
    assert client.buffer == b""


def test_logon_answer_and_heartbeat_echo(fix_port: int) -> None:
    client = RawFix(fix_port)
    answer = client.logon(BOB)
    assert (answer[34], answer[98], answer[108], answer[141], answer[1137]) == (
        "1", "0", "30", "Y", "9")
    assert answer[56] == BOB[0] and len(answer[52]) == 24  # microseconds
    client.send("1", [(112, "ping")])
    beat = client.expect("0")
    assert beat[112] == "ping" and beat[34] == "2"
    client.close()


def test_a_bad_checksum_is_ignored_and_the_session_goes_on(fix_port: int) -> None:
    client = RawFix(fix_port)
    client.logon(BOB)
    client.send("1", [(112, "lost")], seq=2, checksum_delta=5)
    assert client.read(0.5) is None  # garbled: ignored, its number not consumed
    client.send("1", [(112, "kept")], seq=2)
    assert client.expect("0")[112] == "kept"
    client.close()


def test_a_wrong_body_length_logs_out_and_others_go_on(fix_port: int) -> None:
    other = RawFix(fix_port)
    other.logon(ALICE)
    client = RawFix(fix_port)
    client.logon(BOB)
    client.send("1", [(112, "x")], length_delta=-4)
    logout = client.expect("5")
    assert logout[58].startswith("Garbled message: ")
    assert client.closed()
    other.send("1", [(112, "still")])
    assert other.expect("0")[112] == "still"
    other.close()


def test_a_second_session_for_the_same_key_is_refused(fix_port: int) -> None:
    first = RawFix(fix_port)
    first.logon(BOB)
    assert refused(fix_port, logon_fields(BOB)) == Error.FIX_DUPLICATE_SESSION.template
    first.send("1", [(112, "first")])
    assert first.expect("0")[112] == "first"
    first.close()


def test_wrong_target_after_logon_is_a_reject_then_a_logout(fix_port: int) -> None:
    client = RawFix(fix_port)
    client.logon(BOB)
    client.send_raw(frame([(35, "1"), (34, "2"), (49, BOB[0]), (52, ms_now()), (56, "CB"),
                           (112, "x")]))
    reject = client.expect("3")
    assert (reject[45], reject[371], reject[373]) == ("2", "56", "9")
    assert client.expect("5")[58] == "TargetCompID(56) must be Coinbase"


def test_sequence_numbers_too_high_and_too_low(fix_port: int) -> None:
    client = RawFix(fix_port)
    client.logon(BOB)
    client.send("1", [(112, "x")], seq=5)
    assert client.expect("5")[58] == "MsgSeqNum too high, expecting 2 but received 5"
    client.close()
    client = RawFix(fix_port)
    client.logon(BOB)
    client.send("1", [(112, "a")])
    client.expect("0")
    client.send("1", [(112, "b")], seq=2)
    assert client.expect("5")[58] == "MsgSeqNum too low, expecting 3 but received 2"
    client.close()


def test_session_and_business_rejects(fix_port: int) -> None:
    client = RawFix(fix_port)
    client.logon(BOB)
    client.send("D", [(11, "")])
    reject = client.expect("3")
    assert (reject[45], reject[371], reject[372], reject[373], reject[58]) == (
        "2", "11", "D", "4", "Tag specified without a value")
    client.send("ZZ", [])
    reject = client.expect("3")
    assert (reject[373], reject[58]) == ("11", "Invalid MsgType")
    client.send("V", [(262, "md")])
    business = client.expect("j")
    assert (business[45], business[372], business[380], business[58]) == (
        "4", "V", "2", "Unsupported Message Type")
    client.send("1", [(112, "alive")])
    assert client.expect("0")[112] == "alive"
    client.close()


def test_resend_request_replays_reports_and_gap_fills_admin(fix_port: int, rest: Rest) -> None:
    client = RawFix(fix_port)
    client.logon(BOB)
    first, second = new_id(), new_id()
    client.send("D", order("11.01", cl=first))
    client.send("D", order("11.02", cl=second))
    acks = [client.expect("8"), client.expect("8")]
    assert [(a[34], a[150], a[39]) for a in acks] == [("2", "0", "0"), ("3", "0", "0")]
    client.send("2", [(7, "1"), (16, "0")])  # QuickFIX's "to infinity"
    gap = client.expect("4")
    assert (gap[34], gap[43], gap[123], gap[36]) == ("1", "Y", "Y", "2")
    assert 122 in gap
    again = [client.expect("8"), client.expect("8")]
    assert [(m[34], m[43], m[11]) for m in again] == [("2", "Y", first), ("3", "Y", second)]
    assert [m[122] for m in again] == [a[52] for a in acks]  # OrigSendingTime: the original
    assert [m[17] for m in again] == [a[17] for a in acks]
    client.close()
    assert rest(BOB).delete("/orders").status == 200


def test_resume_with_141_n_gap_fills_to_the_stored_number(fix_port: int, rest: Rest) -> None:
    client = RawFix(fix_port)
    client.logon(BOB)
    cl = new_id()
    client.send("D", order("11.03", cl=cl))
    ack = client.expect("8")
    assert ack[34] == "2"
    client.close()
    time.sleep(0.3)
    again = RawFix(fix_port)
    fields = [(t, "N" if t == 141 else v) for t, v in logon_fields(BOB)]
    again.key = BOB[0]
    again.send_raw(frame(fields))
    again.seq = 2
    assert "141" not in again.expect("A")  # 141 is echoed only when the client sent Y
    gap = again.expect("4")
    assert (gap[34], gap[123], gap[36]) == ("2", "Y", "3") and 43 not in gap
    again.send("2", [(7, "2"), (16, "3")])
    replayed = again.expect("8")
    assert (replayed[34], replayed[43], replayed[11], replayed[17]) == ("2", "Y", cl, ack[17])
    again.close()
    assert rest(BOB).delete("/orders").status == 200


def test_heartbeats_test_request_then_logout_on_silence(fix_port: int) -> None:
    client = RawFix(fix_port)
    client.key = BOB[0]
    fields = [(t, "1" if t == 108 else v) for t, v in logon_fields(BOB)]
    client.send_raw(frame(fields))
    assert client.expect("A")[108] == "1"
    seen = []
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        message = client.read(deadline - time.monotonic())
        if message is None:
            break
        seen.append(message[35])
        if message[35] == "5":
            assert message[58] == "Heartbeat timeout"
            break
    assert "1" in seen and seen[-1] == "5"
    assert seen.index("1") < seen.index("5")
    client.send("5", [], seq=2)
    assert client.closed()


def test_cancel_on_disconnect(fix_port: int, rest: Rest) -> None:
    bob = rest(BOB)
    resting = bob.post("/orders", {"product_id": "BTC-USD", "side": "buy", "price": "11.10",
                                   "size": "0.5"}).json()
    client = RawFix(fix_port)
    client.logon(BOB, extra=[(8013, "S")])
    client.send("D", order("11.11"))
    placed = client.expect("8")[37]
    client.close()  # S: this session's orders only
    time.sleep(0.5)
    open_ids = {o["id"] for o in bob.get("/orders").json()}
    assert placed not in open_ids and resting["id"] in open_ids
    client = RawFix(fix_port)
    client.logon(BOB, extra=[(8013, "Y")])
    client.close()  # Y: every order of the profile
    time.sleep(0.5)
    assert bob.get("/orders").json() == []


def test_cancel_on_disconnect_after_many_done_orders(fix_port: int, rest: Rest) -> None:
    """The session's done orders are dropped from what it placed now and then (after 64
    more than twice the live ones): its live orders are still the ones canceled."""
    bob = rest(BOB)
    resting = bob.post("/orders", {"product_id": "BTC-USD", "side": "buy", "price": "11.12",
                                   "size": "0.5"}).json()
    client = RawFix(fix_port)
    client.logon(BOB, extra=[(8013, "S")])
    for _ in range(150):  # immediate-or-cancel, nothing to match: each done at once
        client.send("D", [*order("11.13")[:-1], (59, "3")])
    done = 0
    while done < 150:
        report = client.expect("8")
        done += report[39] == "4" or report[150] == "C"
    client.send("D", order("11.14"))
    placed = client.expect("8")[37]
    client.close()
    time.sleep(0.5)
    open_ids = {o["id"] for o in bob.get("/orders").json()}
    assert placed not in open_ids and resting["id"] in open_ids
    bob.delete("/orders")


def test_a_flood_over_the_rate_limit(tmp_path: Path) -> None:
    scenario = tmp_path / "limits.toml"
    scenario.write_text(SCENARIO.read_text().replace("rate_limits = false", "rate_limits = true"))
    server, port = start_fix_server(scenario=scenario)
    try:
        client = RawFix(port)
        client.logon(BOB)
        status = [(11, new_id()), (55, "BTC-USD")]
        burst = b""
        for seq in range(2, 122):  # 120 application messages in one second
            burst += frame([(35, "H"), (34, str(seq)), (49, BOB[0]), (52, ms_now()),
                            (56, "Coinbase"), *status])
        client.send_raw(burst)
        replies = [client.read(10) for _ in range(120)]
        answered = [r for r in replies if r is not None and r[35] == "8"]
        limited = [r for r in replies if r is not None and r[35] == "j"]
        assert len(answered) == 100 and {r[150] for r in answered} == {"I"}
        assert len(limited) == 20
        assert {(m[372], m[380], m[58]) for m in limited} == {("H", "1", "Rate limit exceeded")}
        client.seq = 122
        flood = b"".join(frame([(35, "0"), (34, str(s)), (49, BOB[0]), (52, ms_now()),
                                (56, "Coinbase")]) for s in range(122, 330))
        client.send_raw(flood)
        while (message := client.read(5)) is not None and message[35] != "5":
            pass
        assert message is not None
        assert message[58] == "Rate limit exceeded: more than 200 messages in one second"
        assert client.closed()
        other = RawFix(port)
        other.logon(ALICE)  # the venue keeps serving others
        other.close()
    finally:
        server.stop()


def test_drop_copy_logon_wants_9406_y_and_takes_a_view_key(fix_server: tuple[Server, int]) -> None:
    port = fix_server[0].drop_copy_port  # type: ignore[attr-defined]
    assert refused(port, logon_fields(VIEWER)) == "Invalid value for DropCopyFlag(9406)"
    client = RawFix(port)
    client.key = VIEWER[0]
    client.send_raw(frame(logon_fields(VIEWER, extra=[(9406, "Y")])))
    client.seq = 2
    assert client.expect("A")[108] == "30"
    client.send("F", [(11, new_id()), (41, new_id()), (55, "BTC-USD")])
    business = client.expect("j")
    assert (business[372], business[380], business[58]) == ("F", "2", "Unsupported Message Type")
    client.close()
    assert refused(fix_server[1], logon_fields(ALICE, extra=[(9406, "Y")])) == (
        "Invalid value for DropCopyFlag(9406)")
