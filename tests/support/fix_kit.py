"""Test support for the FIX gateway: a server with FIX on, a raw FIX socket client, QuickFIX.

The raw client frames and signs by hand (its own few lines, not sandex's codec) so tests can
send what a real engine never would: leading zeros, bad checksums, wrong CompIDs, floods.
``QuickFixClient`` runs the real QuickFIX engine (``quickfix-ssl``) as Coinbase's samples do.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import queue
import socket
import ssl
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandex.api.fix import spec
from tests.support.rest_kit import Server, free_port, start_server

SOH = "\x01"


def start_fix_server(*args: str, scenario: Path | None = None,
                     plaintext: bool = True, data_dir: Path | None = None) -> tuple[Server, int]:
    """``sandex serve`` with FIX on free ports; ``(server, order entry port)``, the drop copy
    port as ``server.drop_copy_port``, market data as ``server.md_port`` (snapshots) and
    ``server.md_incremental_port``."""
    for _ in range(5):  # another test's server may take a port between choosing and binding
        ports = port, drop_copy, md, md_incremental = [free_port() for _ in range(4)]
        if len(set(ports)) < 4:
            continue
        extra = ["--fix-order-port", str(port), "--fix-drop-copy-port", str(drop_copy),
                 "--fix-md-port", str(md), "--fix-md-incremental-port", str(md_incremental),
                 *(["--fix-plaintext"] if plaintext else []), *args]
        server = start_server(*extra, **({"scenario": scenario} if scenario else {}),
                              data_dir=data_dir)
        server.drop_copy_port = drop_copy  # type: ignore[attr-defined]
        server.md_port = md  # type: ignore[attr-defined]
        server.md_incremental_port = md_incremental  # type: ignore[attr-defined]
        if not _listening(ports):
            server.stop()
            raise RuntimeError(f"FIX ports never opened: {server.log()}")
        time.sleep(0.2)  # a gateway that could not bind says so in the log as it tries
        if "not started" not in server.log():
            return server, port
        server.stop()  # a port was taken by another server: its clients would reach that one
    raise RuntimeError("no four free FIX ports in 5 attempts")


def _listening(ports: list[int]) -> bool:
    """Whether every port accepts a connection within 20 s."""
    deadline = time.monotonic() + 20
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
    return True


def ms_now() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


def sign(secret: str, sending_time: str, seq: str, key: str, passphrase: str,
         target: str = "Coinbase") -> str:
    prehash = SOH.join([sending_time, "A", seq, key, target, passphrase])
    digest = hmac.new(base64.b64decode(secret), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def frame(fields: list[tuple[int, str]], *, begin: str = "FIXT.1.1",
          length_delta: int = 0, checksum_delta: int = 0) -> bytes:
    """A message from its fields (35 first), with 9 and 10 computed (and spoiled if asked)."""
    body = "".join(f"{tag}={value}{SOH}" for tag, value in fields).encode("latin-1")
    head = f"8={begin}{SOH}9={len(body) + length_delta}{SOH}".encode()
    total = (sum(head + body) + checksum_delta) % 256
    return head + body + f"10={total:03d}{SOH}".encode()


def parse(data: bytes) -> list[dict[int, str]]:
    """Messages in ``data`` as dicts (first value of each tag; the order is not kept)."""
    messages = []
    for chunk in data.split(b"8=FIXT.1.1\x01")[1:]:
        fields: dict[int, str] = {}
        for item in chunk.split(b"\x01"):
            if b"=" in item:
                tag, _, value = item.partition(b"=")
                fields.setdefault(int(tag), value.decode("latin-1"))
        messages.append(fields)
    return messages


def logon_fields(creds: tuple[str, str, str], *, seq: str = "1",
                 sending_time: str | None = None, sign_seq: str | None = None,
                 sign_time: str | None = None, target: str = "Coinbase",
                 extra: list[tuple[int, str]] | None = None,
                 passphrase: str | None = None) -> list[tuple[int, str]]:
    key, secret, real_passphrase = creds
    passphrase = real_passphrase if passphrase is None else passphrase
    stamp = sending_time or ms_now()
    signature = sign(secret, sign_time or stamp, sign_seq or seq, key, passphrase)
    return [(35, "A"), (34, seq), (49, key), (52, stamp), (56, target), (95, "44"),
            (96, signature), (98, "0"), (108, "30"), (141, "Y"), (553, key),
            (554, passphrase), (1137, "9"), *(extra or [])]


class RawFix:
    """A FIX connection by hand: ``send`` fields, ``read`` whole messages."""

    def __init__(self, port: int, tls: bool = False) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            sock = context.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.buffer = b""
        self.seq = 1
        self.key = ""
        self.last_fields: list[tuple[int, str]] = []  # every field of the last message read

    def logon(self, creds: tuple[str, str, str], **kw: Any) -> dict[int, str]:
        self.key = creds[0]
        self.sock.sendall(frame(logon_fields(creds, **kw)))
        self.seq = 2
        return self.expect("A")

    def send(self, msg_type: str, body: list[tuple[int, str]], seq: int | None = None,
             **kw: Any) -> None:
        number = self.seq if seq is None else seq
        if seq is None:
            self.seq += 1
        fields = [(35, msg_type), (34, str(number)), (49, self.key), (52, ms_now()),
                  (56, "Coinbase"), *body]
        self.sock.sendall(frame(fields, **kw))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, timeout: float = 5.0) -> dict[int, str] | None:
        """The next message, or None at EOF/timeout."""
        deadline = time.monotonic() + timeout
        while True:
            end = self._frame_end()
            if end is not None:
                data, self.buffer = self.buffer[:end], self.buffer[end:]
                self.last_fields = [(int(t), v.decode("latin-1")) for t, _, v in (
                    item.partition(b"=") for item in data.split(b"\x01") if b"=" in item)]
                return parse(data)[0]
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            except OSError:
                return None
            if not chunk:
                return None
            self.buffer += chunk

    def _frame_end(self) -> int | None:
        marker = self.buffer.find(b"\x0110=")
        if marker < 0 or len(self.buffer) < marker + 8:
            return None
        return marker + 8

    def expect(self, msg_type: str, timeout: float = 5.0) -> dict[int, str]:
        """The next message of ``msg_type``, skipping heartbeats; fails on anything else."""
        while True:
            message = self.read(timeout)
            assert message is not None, f"no {msg_type} (connection closed or silent)"
            if message[35] == "0" and msg_type != "0":
                continue
            assert message[35] == msg_type, message
            return message

    def closed(self, timeout: float = 5.0) -> bool:
        """Whether the server closes the connection (after whatever it still sends)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            except OSError:
                return True
            if not chunk:
                return True
            self.buffer += chunk
        return False

    def close(self) -> None:
        self.sock.close()


def new_id() -> str:
    return str(uuid.uuid4())


# -- QuickFIX ------------------------------------------------------------------------------------
try:
    import quickfix as fix
except ImportError:  # pragma: no cover - the test extras install it
    fix = None

LENIENT = "UseDataDictionary=N\nValidateUserDefinedFields=N"  # Coinbase's samples
STRICT = """UseDataDictionary=Y
TransportDataDictionary={transport}
AppDataDictionary={application}
ValidateUserDefinedFields=Y
ValidateFieldsOutOfOrder=Y
ValidateFieldsHaveValues=Y
AllowUnknownMsgFields=N"""  # sandex's dictionaries, every check QuickFIX has on

SETTINGS = """[DEFAULT]
ConnectionType=initiator
BeginString=FIXT.1.1
DefaultApplVerID=9
SenderCompID={key}
TargetCompID=Coinbase
SocketConnectHost=127.0.0.1
SocketConnectPort={port}
HeartBtInt=30
ReconnectInterval=60
ResetOnLogon=Y
ResetOnDisconnect=Y
ResetOnLogout=Y
StartTime=00:00:00
EndTime=00:00:00
FileStorePath={store}
FileLogPath={store}
{validation}
{ssl}
[SESSION]
{qualifier}"""


class QuickFixClient:
    """A QuickFIX initiator signing its Logon as Coinbase's Python samples do (``toAdmin``)."""

    def __init__(self, port: int, creds: tuple[str, str, str], store: Path, *,
                 tls: bool = False, extra_logon: list[tuple[int, str]] | None = None,
                 secret: str | None = None, qualifier: str = "", strict: bool = False) -> None:
        """``qualifier``: QuickFIX's SessionQualifier, for a second session of the same key
        in this process (drop copy beside order entry); ``strict``: validate everything
        against sandex's data dictionaries (``sandex.api.fix.spec``)."""
        assert fix is not None
        self.creds = creds
        self.secret = secret or creds[1]
        self.extra_logon = extra_logon or []
        self.messages: queue.Queue[dict[int, str]] = queue.Queue()
        self.ordered: queue.Queue[list[tuple[int, str]]] = queue.Queue()  # the same, in order
        self.last_fields: list[tuple[int, str]] = []  # every field of the last one expected
        self.logouts: queue.Queue[str] = queue.Queue()
        self.logged_on = threading.Event()
        self.session_id: Any = None
        store.mkdir(parents=True, exist_ok=True)
        ssl_text = "SSLEnable=Y\nSSLValidateCertificates=N\nSSLProtocols=+TLSv1_2\n" if tls \
            else ""
        path = store / "client.cfg"
        validation = STRICT.format(transport=spec.TRANSPORT, application=spec.APPLICATION) \
            if strict else LENIENT
        path.write_text(SETTINGS.format(
            key=creds[0], port=port, store=store, ssl=ssl_text, validation=validation,
            qualifier=f"SessionQualifier={qualifier}\n" if qualifier else ""))
        settings = fix.SessionSettings(str(path))
        self.app = _App(self)
        storage = fix.FileStoreFactory(settings)
        logs = fix.FileLogFactory(settings)
        factory = fix.SSLSocketInitiator if tls else fix.SocketInitiator
        self.initiator = factory(self.app, storage, settings, logs)

    def start(self, wait: bool = True) -> None:
        self.initiator.start()
        if wait:
            assert self.logged_on.wait(10), f"no logon: {self.logout_text(0.1)}"

    def stop(self) -> None:
        """Log out and destroy the engine: only then does QuickFIX forget the session (its
        registry is global, and the next client of the same key reuses the session id)."""
        if self.initiator is not None:
            self.initiator.stop()
            self.initiator = None
            gc.collect()

    def logout_text(self, timeout: float = 5.0) -> str | None:
        try:
            return self.logouts.get(timeout=timeout)
        except queue.Empty:
            return None

    def send(self, msg_type: str, body: list[tuple[int, str]]) -> None:
        message = fix.Message()
        header = message.getHeader()
        header.setField(fix.BeginString("FIXT.1.1"))
        header.setField(fix.MsgType(msg_type))
        for tag, value in body:
            message.setField(tag, value)
        fix.Session.sendToTarget(message, self.session_id)

    def send_raw(self, message: Any) -> None:
        fix.Session.sendToTarget(message, self.session_id)

    def expect(self, msg_type: str, timeout: float = 10.0,
               where: dict[int, str] | None = None) -> dict[int, str]:
        """The next application message of ``msg_type`` (others of other types fail)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                message = self.messages.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise AssertionError(f"no {msg_type} within {timeout} s") from None
            self.last_fields = self.ordered.get_nowait()
            if where and any(message.get(t) != v for t, v in where.items()):
                continue
            assert message[35] == msg_type, message
            return message


def _fields(message: Any) -> dict[int, str]:
    text = message.toString()
    fields: dict[int, str] = {}
    for item in text.split(SOH):
        if "=" in item:
            tag, _, value = item.partition("=")
            fields.setdefault(int(tag), value)
    return fields


if fix is not None:
    class _App(fix.Application):  # type: ignore[misc]
        def __init__(self, client: QuickFixClient) -> None:
            super().__init__()
            self.client = client

        def onCreate(self, session_id: Any) -> None:
            self.client.session_id = session_id

        def onLogon(self, session_id: Any) -> None:
            self.client.logged_on.set()

        def onLogout(self, session_id: Any) -> None:
            self.client.logged_on.clear()

        def toAdmin(self, message: Any, session_id: Any) -> None:
            msg_type = fix.MsgType()
            message.getHeader().getField(msg_type)
            if msg_type.getValue() != fix.MsgType_Logon:
                return
            key, _, passphrase = self.client.creds
            header = message.getHeader()
            stamp = header.getField(52)
            seq = header.getField(34)
            signature = sign(self.client.secret, stamp, seq, key, passphrase)
            message.setField(fix.EncryptMethod(0))
            message.setField(fix.ResetSeqNumFlag(True))
            message.setField(fix.Username(key))
            message.setField(fix.Password(passphrase))
            message.setField(fix.RawDataLength(len(signature)))
            message.setField(fix.RawData(signature))
            for tag, value in self.client.extra_logon:
                message.setField(tag, value)

        def fromAdmin(self, message: Any, session_id: Any) -> None:
            fields = _fields(message)
            if fields.get(35) == "5":
                self.client.logouts.put(fields.get(58, ""))

        def toApp(self, message: Any, session_id: Any) -> None:
            return

        def fromApp(self, message: Any, session_id: Any) -> None:
            self.client.ordered.put([(int(t), v) for t, _, v in (
                item.partition("=") for item in message.toString().split(SOH) if "=" in item)])
            self.client.messages.put(_fields(message))
else:  # pragma: no cover
    _App = None  # type: ignore[assignment,misc]
