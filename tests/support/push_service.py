"""A Web Push service on loopback that accepts pushes the way real ones do.

For each ``subscribe()`` it plays a browser too: it makes the P-256 key pair and the 16-byte
auth secret and hands out the ``PushSubscription`` JSON (endpoint ``https://127.0.0.1:<port>/
push/<id>``). A POST to an endpoint is checked as RFC 8030/8291/8292 say and as
``pywebpush``/``py_vapid``/``http_ece`` send it:

- ``Authorization: vapid t=<JWT>, k=<public key>``: the JWT's ES256 signature verifies against
  ``k``, ``aud`` is this service's origin, ``exp`` is in the future and at most 24 h ahead,
  ``sub`` is a ``mailto:`` or ``https:`` URL (401 otherwise); ``k`` is the key the subscription
  was made with, when one was given (403 otherwise);
- ``TTL`` is present (400), ``Urgency`` one of very-low/low/normal/high and ``Topic`` at most 32
  base64url characters (400);
- ``Content-Encoding: aes128gcm`` and a body that ``http_ece`` decrypts with the subscription's
  private key and auth secret (400 otherwise).

Accepted pushes are recorded with their plaintext (``received``). The answer is 201 with a
``Location``, unless the service is told otherwise for an endpoint or for all: 404, 410, 429
(with ``Retry-After``), or ``"hang"`` (read the request, never answer until ``stop()``);
``latency_s`` delays every answer like a round trip to a real push service. It
serves TLS with a certificate made for 127.0.0.1; ``ca_file`` is what a client must trust
(``REQUESTS_CA_BUNDLE``).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import http_ece
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Reply = int | Literal["hang"]
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserSubscription:
    """What a browser keeps for one subscription: the endpoint and its private keys."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    server_key: str | None = None

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def to_json(self) -> dict[str, Any]:
        """``PushSubscription.toJSON()``."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }


@dataclass(frozen=True)
class Received:
    """One push the service accepted, decrypted."""

    endpoint: str
    payload: dict[str, Any]
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict[str, Any]
    at: float = field(default_factory=time.time)


class PushService:
    """The service; ``origin`` is what VAPID ``aud`` must be."""

    def __init__(self, *, host: str = "127.0.0.1", latency_s: float = 0.0) -> None:
        self.host = host
        self.latency_s = latency_s
        """How long each answer waits, as a push service across a network would."""
        self._subs: dict[str, BrowserSubscription] = {}
        self._replies: dict[str | None, tuple[Reply, int | None]] = {None: (201, None)}
        self._times: dict[str | None, int | None] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.received: list[Received] = []
        self.rejected: list[tuple[str, int, str]] = []
        self.hung = 0
        self.requests = 0
        self._dir = tempfile.mkdtemp(prefix="openmanager-push-")
        self.ca_file, context = _tls(host, self._dir)
        self._httpd = _Server((host, 0), _Handler)
        self._httpd.app = self
        self._httpd.socket = context.wrap_socket(
            self._httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = int(self._httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        return f"https://{self.host}:{self.port}"

    # -- setup ---------------------------------------------------------------------------

    def subscribe(self, server_key: str | None = None) -> BrowserSubscription:
        """A new subscription, as ``PushManager.subscribe`` would make with ``server_key``."""
        sub = BrowserSubscription(
            endpoint=f"{self.origin}/push/{uuid.uuid4().hex}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=os.urandom(16),
            server_key=server_key,
        )
        with self._lock:
            self._subs[sub.endpoint] = sub
        return sub

    def reply(
        self,
        status: Reply,
        *,
        endpoint: str | None = None,
        retry_after: int | None = None,
        times: int | None = None,
    ) -> None:
        """Answer ``status`` (201, 404, 410, 429, 5xx or ``"hang"``) to one endpoint or to
        all; with ``times``, only to that many requests, then 201 again."""
        with self._lock:
            self._replies[endpoint] = (status, retry_after)
            self._times[endpoint] = times

    def payloads(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r.payload for r in self.received if endpoint in (None, r.endpoint)]

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> PushService:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="push-service", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> PushService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one request ---------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        endpoint = self.origin + path
        with self._lock:
            self.requests += 1
            sub = self._subs.get(endpoint)
            status, retry_after = self._next_reply(endpoint)
        if sub is None:
            return self._reject(endpoint, 404, "no such subscription")
        try:
            claims = self._check_vapid(headers.get("authorization", ""), sub)
        except _Refused as exc:
            return self._reject(endpoint, exc.status, exc.reason)
        ttl_text = headers.get("ttl")
        if ttl_text is None or not ttl_text.isdigit():
            return self._reject(endpoint, 400, "TTL header missing or not a number")
        urgency, topic = headers.get("urgency"), headers.get("topic")
        if urgency is not None and urgency not in URGENCIES:
            return self._reject(endpoint, 400, f"bad Urgency {urgency!r}")
        if topic is not None and (len(topic) > 32 or not set(topic) <= _B64URL):
            return self._reject(endpoint, 400, f"bad Topic {topic!r}")
        if headers.get("content-encoding") != "aes128gcm":
            return self._reject(endpoint, 400, "Content-Encoding must be aes128gcm")
        try:
            plain = http_ece.decrypt(
                body, private_key=sub.private_key, auth_secret=sub.auth_secret, version="aes128gcm"
            )
            payload = json.loads(plain)
        except (http_ece.ECEException, ValueError) as exc:
            return self._reject(endpoint, 400, f"cannot decrypt: {exc}")
        if self.latency_s:
            time.sleep(self.latency_s)
        if status == "hang":
            with self._lock:
                self.hung += 1
            self._release.wait(120)
            return 503, {}
        if status == 201:
            with self._lock:
                self.received.append(
                    Received(endpoint, payload, int(ttl_text), urgency, topic, claims)
                )
            return 201, {"Location": f"{self.origin}/message/{uuid.uuid4().hex}"}
        extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return int(status), extra

    def _next_reply(self, endpoint: str) -> tuple[Reply, int | None]:
        which: str | None = endpoint if endpoint in self._replies else None
        left = self._times.get(which)
        if left is not None:
            if left <= 0:
                return 201, None
            self._times[which] = left - 1
        return self._replies[which]

    def _reject(self, endpoint: str, status: int, reason: str) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.rejected.append((endpoint, status, reason))
        return status, {}

    def _check_vapid(self, header: str, sub: BrowserSubscription) -> dict[str, Any]:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise _Refused(401, "Authorization scheme must be vapid")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = parts.get("t"), parts.get("k")
        if not token or not key:
            raise _Refused(401, "vapid needs t= and k=")
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
            claims: dict[str, Any] = jwt.decode(
                token,
                key=public,
                algorithms=["ES256"],
                audience=self.origin,
                options={"require": ["aud", "exp", "sub"]},
            )
        except (ValueError, jwt.PyJWTError) as exc:
            raise _Refused(401, f"bad VAPID token: {exc}") from None
        if claims["exp"] > time.time() + 24 * 3600:
            raise _Refused(401, "exp more than 24 h ahead")
        if not str(claims["sub"]).startswith(("mailto:", "https://")):
            raise _Refused(401, "sub must be a mailto: or https: URL")
        if sub.server_key is not None and unb64url(key) != unb64url(sub.server_key):
            raise _Refused(403, "k is not the key the subscription was made with")
        return claims


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: PushService


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra = self.server.app.handle(self.path, headers, body)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read ``received`` and ``rejected`` instead."""

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # TLS errors, resets and timeouts of a client going away
            self.close_connection = True


def _tls(host: str, directory: str) -> tuple[str, ssl.SSLContext]:
    """A self-signed certificate for ``host``; returns (its PEM file, the server context)."""
    key = ec.generate_private_key(ec.SECP256R1())
    # A name of its own: a client trusting several services finds each one's certificate.
    common_name = f"openmanager test push service {uuid.uuid4().hex[:8]}"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = os.path.join(directory, "cert.pem")
    key_file = os.path.join(directory, "key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context
