"""Write sandex's FIX data dictionaries (``sandex/api/fix/spec/``) from the tables below.

Two QuickFIX-format files: ``FIXT11-sandex.xml`` (transport: header, trailer, session
messages) and ``FIX50SP2-sandex.xml`` (application: every message sandex sends or takes, with
Coinbase's custom tags). Each message lists exactly the fields sandex may send in it or accept
in it, so a client validating with ``UseDataDictionary=Y`` and
``ValidateUserDefinedFields=Y`` accepts everything sandex sends. No value enumerations: the
texts of docs/fix.md are the reference. ``tests/fix/test_dictionary.py`` checks the shipped
files are this script's output. Run: ``python scripts/fix_dictionary.py``.
"""

from __future__ import annotations

from pathlib import Path

SPEC = Path(__file__).resolve().parent.parent / "sandex" / "api" / "fix" / "spec"

FIELDS: dict[int, tuple[str, str]] = {
    1: ("Account", "STRING"), 6: ("AvgPx", "PRICE"), 7: ("BeginSeqNo", "SEQNUM"),
    8: ("BeginString", "STRING"), 9: ("BodyLength", "LENGTH"), 10: ("CheckSum", "STRING"),
    11: ("ClOrdID", "STRING"), 14: ("CumQty", "QTY"), 15: ("Currency", "CURRENCY"),
    16: ("EndSeqNo", "SEQNUM"), 17: ("ExecID", "STRING"), 18: ("ExecInst", "MULTIPLECHARVALUE"),
    21: ("HandlInst", "CHAR"), 31: ("LastPx", "PRICE"), 32: ("LastQty", "QTY"),
    34: ("MsgSeqNum", "SEQNUM"), 35: ("MsgType", "STRING"), 36: ("NewSeqNo", "SEQNUM"),
    37: ("OrderID", "STRING"), 38: ("OrderQty", "QTY"), 39: ("OrdStatus", "CHAR"),
    40: ("OrdType", "CHAR"), 41: ("OrigClOrdID", "STRING"), 43: ("PossDupFlag", "BOOLEAN"),
    44: ("Price", "PRICE"), 45: ("RefSeqNum", "SEQNUM"), 49: ("SenderCompID", "STRING"),
    50: ("SenderSubID", "STRING"), 52: ("SendingTime", "UTCTIMESTAMP"), 54: ("Side", "CHAR"),
    55: ("Symbol", "STRING"), 56: ("TargetCompID", "STRING"), 57: ("TargetSubID", "STRING"),
    58: ("Text", "STRING"), 59: ("TimeInForce", "CHAR"), 60: ("TransactTime", "UTCTIMESTAMP"),
    73: ("NoOrders", "NUMINGROUP"), 83: ("RptSeq", "INT"), 89: ("Signature", "DATA"),
    93: ("SignatureLength", "LENGTH"), 95: ("RawDataLength", "LENGTH"), 96: ("RawData", "DATA"),
    97: ("PossResend", "BOOLEAN"), 98: ("EncryptMethod", "INT"), 99: ("StopPx", "PRICE"),
    102: ("CxlRejReason", "INT"), 103: ("OrdRejReason", "INT"), 108: ("HeartBtInt", "INT"),
    112: ("TestReqID", "STRING"), 115: ("OnBehalfOfCompID", "STRING"),
    122: ("OrigSendingTime", "UTCTIMESTAMP"), 123: ("GapFillFlag", "BOOLEAN"),
    126: ("ExpireTime", "UTCTIMESTAMP"), 128: ("DeliverToCompID", "STRING"),
    136: ("NoMiscFees", "NUMINGROUP"), 137: ("MiscFeeAmt", "AMT"),
    138: ("MiscFeeCurr", "CURRENCY"), 139: ("MiscFeeType", "STRING"),
    141: ("ResetSeqNumFlag", "BOOLEAN"), 146: ("NoRelatedSym", "NUMINGROUP"),
    150: ("ExecType", "CHAR"), 151: ("LeavesQty", "QTY"), 152: ("CashOrderQty", "QTY"),
    262: ("MDReqID", "STRING"), 263: ("SubscriptionRequestType", "CHAR"),
    264: ("MarketDepth", "INT"), 265: ("MDUpdateType", "INT"), 266: ("AggregatedBook", "BOOLEAN"),
    267: ("NoMDEntryTypes", "NUMINGROUP"), 268: ("NoMDEntries", "NUMINGROUP"),
    269: ("MDEntryType", "CHAR"), 270: ("MDEntryPx", "PRICE"), 271: ("MDEntrySize", "QTY"),
    278: ("MDEntryID", "STRING"), 279: ("MDUpdateAction", "CHAR"),
    281: ("MDReqRejReason", "CHAR"), 320: ("SecurityReqID", "STRING"),
    322: ("SecurityResponseID", "STRING"), 346: ("NumberOfOrders", "INT"),
    369: ("LastMsgSeqNumProcessed", "SEQNUM"), 371: ("RefTagID", "INT"),
    372: ("RefMsgType", "STRING"), 373: ("SessionRejectReason", "INT"),
    378: ("ExecRestatementReason", "INT"), 379: ("BusinessRejectRefID", "STRING"),
    380: ("BusinessRejectReason", "INT"), 393: ("TotNoRelatedSym", "INT"),
    434: ("CxlRejResponseTo", "CHAR"), 530: ("MassCancelRequestType", "CHAR"),
    531: ("MassCancelResponse", "CHAR"), 553: ("Username", "STRING"),
    554: ("Password", "STRING"), 559: ("SecurityListRequestType", "INT"),
    560: ("SecurityRequestResult", "INT"), 562: ("MinTradeVol", "QTY"),
    847: ("TargetStrategy", "INT"), 891: ("MiscFeeBasis", "INT"),
    893: ("LastFragment", "BOOLEAN"), 969: ("MinPriceIncrement", "FLOAT"),
    1003: ("TradeID", "STRING"), 1057: ("AggressorIndicator", "BOOLEAN"),
    1109: ("TriggerPriceDirection", "CHAR"), 1128: ("ApplVerID", "STRING"),
    1137: ("DefaultApplVerID", "STRING"),
    # Coinbase's own tags
    1682: ("MDSecurityTradingStatus", "STRING"), 5797: ("AggressorSide", "CHAR"),
    7928: ("SelfTradeType", "CHAR"), 8001: ("DefaultSelfTradePreventionStrategy", "CHAR"),
    8013: ("CancelOrdersOnDisconnect", "CHAR"), 8014: ("BatchID", "STRING"),
    9406: ("DropCopyFlag", "CHAR"), 29003: ("MinSizeIncrement", "FLOAT"),
    29004: ("Funds", "QTY"),
}

HEADER = [(8, True), (9, True), (35, True), (49, True), (56, True), (34, True), (52, True),
          (43, False), (97, False), (122, False), (50, False), (57, False), (115, False),
          (128, False), (369, False), (1128, False)]
TRAILER = [(93, False), (89, False), (10, True)]

# (name, msgtype, fields): a field is a tag, or (group tag, [fields]) with its delimiter
# first; REQUIRED lists the (msgtype, tag) pairs sandex always sends.
ADMIN = [
    ("Heartbeat", "0", [112]),
    ("TestRequest", "1", [112]),
    ("ResendRequest", "2", [7, 16]),
    ("Reject", "3", [45, 371, 372, 373, 58]),
    ("SequenceReset", "4", [123, 36]),
    ("Logout", "5", [58]),
    ("Logon", "A", [98, 108, 95, 96, 141, 553, 554, 1137, 8013, 8001, 9406, 58]),
]
ORDER = [11, 18, 21, 38, 152, 40, 44, 54, 55, 59, 126, 99, 1109, 7928, 1, 847, 60]
APPLICATION = [
    ("ExecutionReport", "8", [6, 11, 14, 17, 37, 41, 39, 55, 54, 40, 44, 38, 152, 99, 59, 60,
                              150, 151, 18, 58, 103, 378, 31, 32, 1003, 1057, 1109, 7928, 126,
                              (136, [137, 138, 139, 891])]),
    ("OrderCancelReject", "9", [11, 37, 41, 39, 58, 102, 434]),
    ("NewOrderSingle", "D", ORDER),
    ("OrderCancelRequest", "F", [11, 37, 41, 55, 54, 38, 60, 1]),
    ("OrderCancelReplaceRequest", "G", [11, 37, 41, 38, 44, 55, 40, 99, 54, 59, 18, 60, 1]),
    ("OrderStatusRequest", "H", [37, 11, 55, 54, 1]),
    ("BusinessMessageReject", "j", [45, 372, 379, 380, 58]),
    ("OrderMassCancelRequest", "q", [11, 530, 55, 60]),
    ("OrderMassCancelReport", "r", [11, 530, 531, 58]),
    ("NewOrderBatch", "U6", [8014, (73, ORDER)]),
    ("NewOrderBatchReject", "U7", [8014, 58]),
    ("OrderCancelBatch", "U4", [8014, (73, [11, 37, 41, 55])]),
    ("OrderCancelBatchReject", "U5", [8014, 58]),
    ("MarketDataRequest", "V", [262, 263, 264, 265, 266, (267, [269]), (146, [55])]),
    ("MarketDataSnapshotFullRefresh", "W", [262, 83, 893, 55,
                                             (268, [269, 278, 270, 271, 346])]),
    ("MarketDataIncrementalRefresh", "X", [262, (268, [279, 269, 278, 83, 55, 270, 271, 346,
                                                       29004, 60, 40, 37, 5797, 1003, 58])]),
    ("MarketDataRequestReject", "Y", [262, 281, 58]),
    ("SecurityListRequest", "x", [320, 559]),
    ("SecurityList", "y", [320, 322, 560, 893, 393,
                           (146, [55, 1682, 15, 562, 969, 29003])]),
    ("SecurityStatus", "f", [262, 83, 55, 1682, 969, 29003]),
]
REQUIRED = {("8", 17), ("8", 37), ("8", 39), ("8", 150), ("9", 39), ("9", 434), ("j", 380),
            ("3", 45), ("A", 98), ("A", 108), ("A", 1137)}


def _fields(msgtype: str, fields: list, indent: str) -> list[str]:
    lines = []
    for item in fields:
        if isinstance(item, tuple):
            tag, members = item
            lines.append(f"{indent}<group name='{FIELDS[tag][0]}' required='N'>")
            lines += _fields(msgtype, members, indent + "  ")
            lines.append(f"{indent}</group>")
        else:
            required = "Y" if (msgtype, item) in REQUIRED else "N"
            lines.append(f"{indent}<field name='{FIELDS[item][0]}' required='{required}'/>")
    return lines


def _used(messages: list, extra: list[int]) -> list[int]:
    tags = set(extra)

    def walk(fields: list) -> None:
        for item in fields:
            if isinstance(item, tuple):
                tags.add(item[0])
                walk(item[1])
            else:
                tags.add(item)
    for _, _, fields in messages:
        walk(fields)
    return sorted(tags)


def document(kind: str, messages: list, category: str, transport: bool) -> str:
    major, minor, pack = ("1", "1", "0") if transport else ("5", "0", "2")
    lines = ["<?xml version='1.0' encoding='UTF-8'?>",
             "<!-- sandex's FIX dictionary, written by scripts/fix_dictionary.py (docs/fix.md) -->",
             f"<fix type='{kind}' major='{major}' minor='{minor}' servicepack='{pack}'>"]
    for part, fields in (("header", HEADER), ("trailer", TRAILER)):
        if transport:
            lines.append(f" <{part}>")
            lines += [f"  <field name='{FIELDS[t][0]}' required='{'Y' if r else 'N'}'/>"
                      for t, r in fields]
            lines.append(f" </{part}>")
        else:
            lines.append(f" <{part}/>")
    lines.append(" <messages>")
    for name, msgtype, fields in messages:
        lines.append(f"  <message name='{name}' msgtype='{msgtype}' msgcat='{category}'>")
        lines += _fields(msgtype, fields, "   ")
        lines.append("  </message>")
    lines += [" </messages>", " <components/>", " <fields>"]
    extra = [t for t, _ in HEADER + TRAILER] if transport else []
    for tag in _used(messages, extra):
        name, kind_of = FIELDS[tag]
        lines.append(f"  <field number='{tag}' name='{name}' type='{kind_of}'/>")
    lines += [" </fields>", "</fix>", ""]
    return "\n".join(lines)


def files() -> dict[str, str]:
    return {"FIXT11-sandex.xml": document("FIXT", ADMIN, "admin", True),
            "FIX50SP2-sandex.xml": document("FIX", APPLICATION, "app", False)}


if __name__ == "__main__":
    for name, text in files().items():
        (SPEC / name).write_text(text)
        print(f"wrote {SPEC / name}")
