"""Protection of patient data at rest, beside the eventsourcing library's own cipher.

The event store is encrypted (AES-GCM) and compressed by the library itself, switched on by
its ``CIPHER_TOPIC`` / ``CIPHER_KEY`` / ``COMPRESSOR_TOPIC`` environment (see
:meth:`api.settings.Settings.library_env`). What the library does not cover is protected
here with the same key material:

- stream ids: :class:`domain.events.StreamIds` keyed with the stream-id secret;
- the read model: :class:`Protector` stores patient ids deterministically encrypted
  (AES-SIV), so the view still matches and groups by them; the events it copies are the
  store's encrypted ones;
- database files: :func:`create_private_file` creates SQLite files readable by their owner
  only (SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from eventsourcing.cryptography import AESCipher

CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"
COMPRESSOR_TOPIC = "eventsourcing.compressor:ZlibCompressor"
CIPHER_KEY_VARIABLE = "INJTRACK_CIPHER_KEY"
STREAM_SECRET_VARIABLE = "INJTRACK_STREAM_ID_SECRET"
MIN_SECRET_LENGTH = 32


class StoreKeyMismatch(RuntimeError):
    """The store cannot be read with the configured keys (wrong cipher key, a store written
    with or without encryption, or stream ids derived with another secret). The service
    refuses to start rather than serve garbage or an empty history."""


def generate_secrets() -> dict[str, str]:
    """A fresh cipher key (256-bit AES, base64, as the library's cipher reads it) and
    stream-id secret, as environment variable names and values."""
    return {
        CIPHER_KEY_VARIABLE: AESCipher.create_key(32),
        STREAM_SECRET_VARIABLE: base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def check_cipher_key(value: str) -> None:
    """Raise ValueError (never showing the value) unless it is a base64 AES key."""
    try:
        raw = base64.b64decode(value.encode(), validate=True)
    except ValueError:
        raise ValueError(f"{CIPHER_KEY_VARIABLE} is not base64") from None
    if len(raw) not in AESCipher.KEY_SIZES:
        raise ValueError(
            f"{CIPHER_KEY_VARIABLE} must decode to 16, 24 or 32 bytes, not {len(raw)}; "
            "generate one with 'injtrack keys cipher'"
        )


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and readable by its owner only (0600) if it does not exist, so
    SQLite (which opens it next) and its ``-wal``/``-shm`` files never exist more widely
    readable. An existing file is left as it is."""
    if str(path) in ("", ":memory:") or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class Protector:
    """Conceals patient ids in the read model. With a cipher key, a patient id is stored as
    its deterministic AES-SIV encryption (key derived from the cipher key): the same id
    always gives the same token, so the view still matches, groups and joins by it, and
    :meth:`reveal` gives the id back to the code that reads the view. Without a key both
    are the identity."""

    PREFIX = "p1:"

    def __init__(self, cipher_key: str | None = None) -> None:
        self.enabled = bool(cipher_key)
        self._siv: AESSIV | None = None
        if cipher_key:
            derived = hmac.new(
                base64.b64decode(cipher_key), b"injtrack/view/patient-id", hashlib.sha512
            ).digest()
            self._siv = AESSIV(derived)

    def conceal(self, patient_id: str) -> str:
        if self._siv is None:
            return patient_id
        token = self._siv.encrypt(patient_id.encode(), None)
        return self.PREFIX + base64.urlsafe_b64encode(token).decode().rstrip("=")

    def reveal(self, stored: str) -> str:
        if self._siv is None:
            return stored
        if not stored.startswith(self.PREFIX):
            raise StoreKeyMismatch(
                "the read model holds patient ids written without INJTRACK_CIPHER_KEY; "
                "rebuild it (injtrack projections rebuild)"
            )
        body = stored[len(self.PREFIX) :]
        try:
            token = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._siv.decrypt(token, None).decode()
        except (ValueError, InvalidTag):
            raise StoreKeyMismatch(
                "the read model was written with another INJTRACK_CIPHER_KEY; rebuild it "
                "(injtrack projections rebuild)"
            ) from None


NO_PROTECTION = Protector()
