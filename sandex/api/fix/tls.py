"""The FIX listeners' TLS: a self-signed certificate (made once) and Coinbase's TLS 1.2 ciphers.

The certificate and key are written to ``<data dir>/fix/`` the first time (an ``--ephemeral``
venue writes them to a temporary directory), by the ``cryptography`` package if it is
installed, else by the ``openssl`` command. Clients connect with verification off, or trust
``fix/cert.pem`` (subject ``CN=localhost``, SAN ``localhost`` and ``127.0.0.1``).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import ssl
import subprocess
from pathlib import Path

CIPHERS = ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:"
           "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384")  # Coinbase's, in its order


class TlsUnavailable(RuntimeError):
    """Neither ``cryptography`` nor ``openssl`` could make the certificate."""


def certificate(directory: Path) -> tuple[Path, Path]:
    """``(cert.pem, key.pem)`` in ``directory``, made if missing."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True)
    # Made under temporary names, then renamed: venues starting together never read half a file.
    token = f".{os.getpid()}.tmp"
    new_cert, new_key = cert.with_name(cert.name + token), key.with_name(key.name + token)
    try:
        try:
            _with_cryptography(new_cert, new_key)
        except ImportError:
            _with_openssl(new_cert, new_key)
        new_key.chmod(0o600)
        os.replace(new_key, key)
        os.replace(new_cert, cert)
    finally:
        for path in (new_cert, new_key):
            path.unlink(missing_ok=True)
    return cert, key


def _with_cryptography(cert_path: Path, key_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _with_openssl(cert_path: Path, key_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TlsUnavailable("no TLS certificate: install the cryptography package or openssl,"
                             " or serve FIX in plaintext (--fix-plaintext)")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key_path),
         "-out", str(cert_path), "-days", "3650", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.2 only, Coinbase's four ECDHE-RSA ciphers."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(CIPHERS)
    context.load_cert_chain(cert, key)
    return context
