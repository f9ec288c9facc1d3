"""Every FIX text of the error table, written out: none can change without this file changing
(the REST and feed tables have their own: tests/api/rest/test_error_strings.py,
tests/feed/test_error_catalogue.py)."""

from __future__ import annotations

from sandex.errors import Error

FIX_TEXTS = {
    Error.FIX_FIRST_NOT_LOGON: ((), "First message must be Logon (35=A)"),
    Error.FIX_TARGET_COMP_ID: ((), "TargetCompID(56) must be Coinbase"),
    Error.FIX_LOGON_SEQNUM: (
        (), "invalid signature: MsgSeqNum(34) must be 1 on Logon, without leading zeros"),
    Error.FIX_SENDING_TIME: ((), "invalid signature: SendingTime(52) must be "
                                 "YYYYMMDD-HH:MM:SS.sss (exactly 3 fractional digits)"),
    Error.FIX_ENCRYPT_METHOD: ((), "EncryptMethod(98) must be 0"),
    Error.FIX_APPL_VER: ((), "DefaultApplVerID(1137) must be 9 (FIX50SP2)"),
    Error.FIX_USERNAME: ((), "Username(553) must be the API key sent in SenderCompID(49)"),
    Error.FIX_MISSING_TAG: (("Symbol(55)",), "Required tag missing: Symbol(55)"),
    Error.FIX_BAD_VALUE: (("Side(54)",), "Invalid value for Side(54)"),
    Error.FIX_PERMISSION: (("trade",), "Forbidden: the API key needs the trade permission"),
    Error.FIX_DUPLICATE_SESSION: (
        (), "Duplicate session: this API key is already logged on to this gateway"),
    Error.FIX_LOGON_RATE: ((), "Logon rate limit exceeded: at most 2 Logons per second per key"),
    Error.FIX_RATE_LIMIT: ((), "Rate limit exceeded"),
    Error.FIX_FLOOD: ((200,), "Rate limit exceeded: more than 200 messages in one second"),
    Error.FIX_SEQ_TOO_LOW: ((3, 2), "MsgSeqNum too low, expecting 3 but received 2"),
    Error.FIX_SEQ_TOO_HIGH: ((2, 5), "MsgSeqNum too high, expecting 2 but received 5"),
    Error.FIX_GARBLED: (("x",), "Garbled message: x"),
    Error.FIX_HEARTBEAT_TIMEOUT: ((), "Heartbeat timeout"),
    Error.FIX_SHUTDOWN: ((), "server terminated"),
    Error.FIX_CLORDID: (("bad",), "ClOrdID(bad) must be a lowercase UUIDv4"),
    Error.FIX_CLORDID_OPEN: ((), "ClOrdID matches an open order"),
    Error.FIX_LEADING_ZEROS: (("Price(44)",), "Extra leading zeros are not accepted in Price(44)"),
    Error.FIX_SIZE_AND_CASH: ((), "Only one of OrderQty(38) or CashOrderQty(152) may be "
                                  "specified"),
    Error.FIX_UNSUPPORTED_TYPE: ((), "Unsupported Message Type"),
    Error.FIX_INVALID_MSG_TYPE: ((), "Invalid MsgType"),
    Error.FIX_BATCH_SIZE: ((15,), "A batch holds 1 to 15 orders"),
    Error.FIX_BATCH_SYMBOLS: ((), "All orders of a batch must have the same Symbol"),
    Error.FIX_MASS_CANCEL_TYPE: ((), "Unsupported MassCancelRequestType"),
    Error.FIX_MD_ENTRY_TYPE: (("4",), "Unsupported MDEntryType(269)=4"),
    Error.FIX_MD_DEPTH: (
        ("10",), "Unsupported MarketDepth(264)=10: level 2 is the full book (0)"),
    Error.FIX_REPLACE_OTHER_CONNECTION: (
        (), "OrderCancelReplaceRequest must be sent on the connection that placed the order"),
}


def test_every_fix_text_is_written_out() -> None:
    assert set(FIX_TEXTS) == {e for e in Error if e.name.startswith("FIX_")}
    for error, (args, text) in FIX_TEXTS.items():
        assert error.format(*args) == text
