"""VAPID keys (RFC 8292): loaded from the settings, checked as a pair, or freshly made.

Both keys travel as unpadded base64url: the private key as its 32-byte scalar, the public key
as the 65-byte uncompressed P-256 point the browser's ``applicationServerKey`` takes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lib.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

    from lib.config import Settings

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
PUBLIC_KEY_BYTES = 65
PRIVATE_KEY_BYTES = 32


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded or padded base64url; ``ValueError`` for anything else."""
    if not _BASE64URL.match(text) or len(text.rstrip("=")) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


@dataclass(frozen=True)
class VapidKeys:
    """The application server's identity towards push services."""

    private_key: str
    public_key: str
    subject: str

    def signing_key(self) -> ec.EllipticCurvePrivateKey:
        from cryptography.hazmat.primitives.asymmetric import ec

        scalar = int.from_bytes(b64url_decode(self.private_key), "big")
        return ec.derive_private_key(scalar, ec.SECP256R1())


def public_key_of(private_key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    point = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url_encode(point)


def generate(subject: str) -> VapidKeys:
    """A new key pair."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(PRIVATE_KEY_BYTES, "big")
    return VapidKeys(b64url_encode(scalar), public_key_of(key), subject)


def from_settings(settings: Settings) -> VapidKeys | None:
    """The configured keys, or ``None`` when push is off; ``ConfigError`` if they do not pair."""
    if settings.vapid_private_key is None or settings.vapid_public_key is None:
        return None
    keys = VapidKeys(
        settings.vapid_private_key.get_secret_value().strip(),
        settings.vapid_public_key.strip(),
        settings.vapid_subject,
    )
    try:
        raw = b64url_decode(keys.private_key)
        if len(raw) != PRIVATE_KEY_BYTES:
            raise ValueError(f"{len(raw)} bytes, expected {PRIVATE_KEY_BYTES}")
        derived = public_key_of(keys.signing_key())
    except ValueError as exc:
        raise ConfigError(
            f"VAPID_PRIVATE_KEY is not a base64url P-256 private key ({exc})",
            variable="VAPID_PRIVATE_KEY",
        ) from None
    if b64url_decode_or_none(keys.public_key) != b64url_decode(derived):
        raise ConfigError(
            "VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY",
            variable="VAPID_PUBLIC_KEY",
        )
    return keys


def b64url_decode_or_none(text: str) -> bytes | None:
    try:
        return b64url_decode(text)
    except ValueError:
        return None
