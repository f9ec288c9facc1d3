"""The Logon(35=A) check: who a client is, or the one error to log it out with.

The signature is Coinbase's: base64 HMAC-SHA256, keyed with the API secret (base64-decoded,
as for REST), over SendingTime(52), MsgType(35), MsgSeqNum(34), SenderCompID(49),
TargetCompID(56) and Password(554) joined with SOH, each exactly as received. Checks run in
this order (the first failure is the answer): TargetCompID, MsgSeqNum ``1`` without leading
zeros, SendingTime's millisecond form, EncryptMethod, DefaultApplVerID, HeartBtInt, the flags,
the key, Username, the ±5 minute window, the signature, the passphrase, the permission.
Pure: the caller supplies the key registry, the profiles and the time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sandex.api.fix.codec import Message
from sandex.auth.keys import KeyRegistry, Permission
from sandex.errors import Error

COMP_ID = "Coinbase"
LOGON_WINDOW_S = 300.0  # SendingTime within 5 minutes of the server's clock (FIX 4.2 text)
DEFAULT_HEARTBEAT = 10
_MS_TIME = re.compile(r"\d{8}-\d{2}:\d{2}:\d{2}\.\d{3}")


@dataclass(frozen=True, slots=True)
class LogonSpec:
    """What one gateway asks of a Logon."""

    max_heartbeat: int  # larger HeartBtInt(108) values are capped to it
    permission: Permission  # the key must hold it
    order_entry: bool  # 8013/8001 allowed; drop copy wants 9406=Y instead
    drop_copy: bool = False


@dataclass(frozen=True, slots=True)
class Identity:
    key: str
    profile_id: str
    heartbeat: int  # seconds, as granted
    reset: bool  # 141=Y or absent: the server's numbers start over
    reset_sent: bool  # the client sent 141=Y (echoed only then)
    cancel_on_disconnect: str  # "" (off), "S" (this session's orders), "Y" (the profile's)
    stp: str  # DefaultSelfTradePreventionStrategy(8001): "" or N/Q


@dataclass(frozen=True, slots=True)
class Refusal:
    error: Error
    args: tuple[object, ...] = ()

    @property
    def text(self) -> str:
        return self.error.format(*self.args)


def signature(secret: bytes, sending_time: str, seq: str, key: str, target: str,
              passphrase: str) -> str:
    """RawData(96) for these Logon values (``secret`` already base64-decoded)."""
    prehash = "\x01".join((sending_time, "A", seq, key, target, passphrase))
    digest = hmac.new(secret, prehash.encode("latin-1"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_sending_time(text: str) -> float | None:
    """Seconds since the epoch for ``YYYYMMDD-HH:MM:SS.sss`` (None if not that form)."""
    if not _MS_TIME.fullmatch(text):
        return None
    try:
        moment = datetime.strptime(text, "%Y%m%d-%H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp()


def check_logon(message: Message, keys: KeyRegistry, spec: LogonSpec,
                now: float | None) -> Identity | Refusal:
    """The identity ``message`` proves at ``now`` (seconds; ``None``: no window)."""
    if message.get(56) != COMP_ID:
        return Refusal(Error.FIX_TARGET_COMP_ID)
    if message.get(34) != "1":
        return Refusal(Error.FIX_LOGON_SEQNUM)
    sending_time = message.get(52) or ""
    sent_at = parse_sending_time(sending_time)
    if sent_at is None:
        return Refusal(Error.FIX_SENDING_TIME)
    if message.get(98, "0") != "0":
        return Refusal(Error.FIX_ENCRYPT_METHOD)
    if message.get(1137) != "9":
        return Refusal(Error.FIX_APPL_VER)
    heartbeat_text = message.get(108, str(DEFAULT_HEARTBEAT)) or ""
    if not heartbeat_text.isdigit() or len(heartbeat_text) > 6 or int(heartbeat_text) < 1:
        return Refusal(Error.FIX_BAD_VALUE, ("HeartBtInt(108)",))
    reset_text = message.get(141, "Y")
    if reset_text not in ("Y", "N"):
        return Refusal(Error.FIX_BAD_VALUE, ("ResetSeqNumFlag(141)",))
    cod = message.get(8013, "N") or ""
    stp = message.get(8001, "") or ""
    if spec.order_entry:
        if cod not in ("N", "S", "Y"):
            return Refusal(Error.FIX_BAD_VALUE, ("CancelOrdersOnDisconnect(8013)",))
        if stp not in ("", "N", "Q"):
            return Refusal(Error.FIX_BAD_VALUE, ("DefaultSelfTradePreventionStrategy(8001)",))
    drop_copy = message.get(9406, "N")
    if drop_copy != ("Y" if spec.drop_copy else "N"):
        return Refusal(Error.FIX_BAD_VALUE, ("DropCopyFlag(9406)",))
    key_text = message.get(49) or ""
    api_key = keys.get(key_text)
    if api_key is None:
        return Refusal(Error.INVALID_API_KEY)
    if message.get(553) != key_text:
        return Refusal(Error.FIX_USERNAME)
    if now is not None and abs(now - sent_at) > LOGON_WINDOW_S:
        return Refusal(Error.TIMESTAMP_EXPIRED)
    passphrase = message.get(554) or ""
    expected = signature(api_key.secret_bytes, sending_time, "1", key_text, COMP_ID, passphrase)
    if not hmac.compare_digest(expected.encode(), (message.get(96) or "").encode("latin-1")):
        return Refusal(Error.INVALID_SIGNATURE)
    if not keys.passphrase_ok(api_key, passphrase):
        return Refusal(Error.INVALID_PASSPHRASE)
    if spec.permission not in api_key.permissions:
        return Refusal(Error.FIX_PERMISSION, (spec.permission.value,))
    return Identity(
        key=key_text, profile_id=api_key.profile_id,
        heartbeat=min(int(heartbeat_text), spec.max_heartbeat),
        reset=reset_text == "Y", reset_sent=message.get(141) == "Y",
        cancel_on_disconnect="" if cod == "N" or not spec.order_entry else cod, stp=stp)
