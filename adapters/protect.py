"""Protection of patient data at rest, beside the eventsourcing library's own cipher.

The event store is encrypted (AES-GCM) and compressed by the library itself, switched on by
its ``CIPHER_TOPIC`` / ``CIPHER_KEY`` / ``COMPRESSOR_TOPIC`` environment (see
:meth:`api.settings.Settings.library_env`). What the library does not cover is protected
here with the same key material:

- stream ids: :class:`domain.events.StreamIds` keyed with the stream-id secret;
- the read model's rows: :class:`Protector` seals a row's content with the library's own
  AES-GCM cipher class and replaces the patient id (the only column the view is queried by)
  with a keyed hash;
- database files: :func:`create_private_file` creates SQLite files readable by their owner
  only (SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

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
    """Seals read-model rows. ``None`` keys mean no protection (the identity)."""

    def __init__(self, cipher_key: str | None = None, secret: bytes | None = None) -> None:
        self.enabled = cipher_key is not None
        self._cipher = (
            AESCipher(Environment(env={"CIPHER_KEY": cipher_key})) if cipher_key else None
        )
        self._secret = secret or b""

    def match_key(self, patient_id: str) -> str:
        """What the view stores (and is queried by) in place of a patient id: a keyed hash
        when protected, the id itself otherwise."""
        if not self.enabled:
            return patient_id
        digest = hmac.new(self._secret, f"view-patient/{patient_id}".encode(), hashlib.sha256)
        return digest.hexdigest()

    def seal(self, record: dict[str, Any]) -> bytes:
        assert self._cipher is not None
        return self._cipher.encrypt(json.dumps(record, sort_keys=True).encode())

    def unseal(self, sealed: bytes) -> dict[str, Any]:
        assert self._cipher is not None
        value: dict[str, Any] = json.loads(self._cipher.decrypt(bytes(sealed)))
        return value


NO_PROTECTION = Protector()
