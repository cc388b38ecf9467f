"""The service's configuration: one settings object, read from ``INJTRACK_*`` variables.

The persistence part is handed to the eventsourcing library as its ``env`` (never written
into ``os.environ``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.protect import (
    CIPHER_KEY_VARIABLE,
    CIPHER_TOPIC,
    COMPRESSOR_TOPIC,
    MIN_SECRET_LENGTH,
    STREAM_SECRET_VARIABLE,
    check_cipher_key,
)
from adapters.sqlite_store import CACHE_KIB as SQLITE_CACHE_KIB
from adapters.sqlite_store import TOPIC as SQLITE_TOPIC
from domain.events import PUBLIC_STREAM_IDS, StreamIds
from interop.cdshooks.auth import CdsClient
from interop.cdshooks.crd import CrdVersion

Persistence = Literal["sqlite", "postgres", "memory"]


class CdsPayer(BaseModel):
    """Which policy set decides CDS Hooks calls for a payer (or one of its plans).

    ``payer`` matches a ``Coverage.payor`` reference (``Organization/acme``), identifier value
    or display; ``plan``, when given, must equal a ``Coverage.class`` value of type plan, group
    or subplan (a plan entry wins over a payer-only entry)."""

    model_config = ConfigDict(extra="forbid")

    payer: str = Field(min_length=1)
    plan: str | None = None
    policy_set: str = Field(min_length=1)
    label: str | None = None  # the card source label; default: the payer string
    prior_authorization: bool = True  # the set's services need prior authorization
    policy_links: dict[str, str] = {}  # guideline id -> public URL of the policy document


class Settings(BaseSettings):
    """``INJTRACK_DB`` (SQLite file, default ``./injtrack.sqlite``), ``INJTRACK_DATABASE_URL``
    (PostgreSQL, wins when set), ``INJTRACK_PERSISTENCE`` (force ``memory`` for throwaway
    runs), ``INJTRACK_VIEW_DB`` (the read model's SQLite file, default beside the store),
    ``INJTRACK_POSTGRES_SCHEMA`` (schema for tables, default ``public``),
    ``INJTRACK_MAX_BODY_BYTES`` (request body limit, 413 above it, default 4 MiB),
    ``INJTRACK_LOG_LEVEL`` (default ``INFO``), ``INJTRACK_SQLITE_CACHE_MB`` (SQLite page
    cache of each connection to the event store, default 16; 0 keeps SQLite's 2 MiB; see
    :mod:`adapters.sqlite_store`),
    ``INJTRACK_FHIR_MEMBER_IDENTIFIER_SYSTEM`` (FHIR import: the identifier system whose value
    is our ``patient_id``; unset, the ``Patient/<id>`` logical id is; see
    :class:`interop.fhir.mapping.PatientIdentityRule`; the CDS Hooks service uses the same
    rule), ``INJTRACK_POLICY_DIRS`` (colon-separated folders of ``<set-id>/set.yaml`` policy
    documents loaded beside the shipped library), ``INJTRACK_CIPHER_KEY`` and
    ``INJTRACK_STREAM_ID_SECRET`` (encryption at rest and keyed stream ids, set together;
    ``injtrack keys cipher`` generates both), and the ``INJTRACK_CDS_*`` entries of the CDS
    Hooks / CRD service (registered clients, payers, CRD version; the README's
    "CDS Hooks / CRD" section)."""

    model_config = SettingsConfigDict(env_prefix="INJTRACK_", extra="ignore")

    db: Path = Path("./injtrack.sqlite")
    database_url: str | None = None
    persistence: Persistence | None = None
    view_db: Path | None = None
    postgres_schema: str | None = None
    postgres_pool_size: int = Field(default=5, ge=1, le=100)
    aggregate_cache_size: int = Field(default=10_000, ge=0)
    sqlite_cache_mb: int = Field(default=16, ge=0, le=4096)
    write_retries: int = Field(default=20, ge=0, le=1000)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    fhir_member_identifier_system: str | None = None
    policy_dirs: str | None = None
    cipher_key: SecretStr | None = None
    stream_id_secret: SecretStr | None = None

    @property
    def encrypted(self) -> bool:
        """Encryption at rest is on (``INJTRACK_CIPHER_KEY`` set)."""
        return self.cipher_key is not None

    def check_secrets(self) -> None:
        """Raise ValueError (naming variables, never values) unless the cipher key and the
        stream-id secret are both set and well formed, or both unset."""
        if (self.cipher_key is None) != (self.stream_id_secret is None):
            raise ValueError(
                f"{CIPHER_KEY_VARIABLE} and {STREAM_SECRET_VARIABLE} are set together or not at "
                "all; generate both with 'injtrack keys cipher'"
            )
        if self.cipher_key is not None:
            check_cipher_key(self.cipher_key.get_secret_value())
        if (
            self.stream_id_secret is not None
            and len(self.stream_id_secret.get_secret_value()) < MIN_SECRET_LENGTH
        ):
            raise ValueError(
                f"{STREAM_SECRET_VARIABLE} must be at least {MIN_SECRET_LENGTH} characters"
            )

    @property
    def stream_ids(self) -> StreamIds:
        """Stream ids keyed with the stream-id secret when encryption is on, else public."""
        self.check_secrets()
        if self.stream_id_secret is None:
            return PUBLIC_STREAM_IDS
        return StreamIds(self.stream_id_secret.get_secret_value().encode())

    @property
    def policy_folders(self) -> list[Path] | None:
        """The payer's policy folders (``None``: not configured, the sets being served stay)."""
        if self.policy_dirs is None:
            return None
        return [Path(p) for p in self.policy_dirs.split(os.pathsep) if p.strip()]

    # CDS Hooks / Da Vinci CRD (see the README's "CDS Hooks / CRD" section).
    cds_clients: list[CdsClient] = []  # registered EHRs and their key sets (JSON)
    cds_payers: list[CdsPayer] = []  # payer/plan -> policy set (JSON)
    cds_default_policy_set: str = "nia"
    cds_payer_label: str = "injection-tracker"
    cds_prior_authorization: bool = True  # for calls no cds_payers entry matches
    cds_policy_links: dict[str, str] = {}  # guideline id -> URL, for every payer
    cds_crd_version: CrdVersion = CrdVersion.STU2
    cds_public_base_url: str | None = None  # the base URL clients call (JWT aud), if proxied
    cds_jwt_max_lifetime_seconds: int = Field(default=300, ge=1, le=3600)

    @property
    def effective_persistence(self) -> Persistence:
        if self.persistence is not None:
            return self.persistence
        return "postgres" if self.database_url else "sqlite"

    @property
    def effective_view_db(self) -> Path:
        if self.view_db is not None:
            return self.view_db
        return self.db.with_name(self.db.name + ".view")

    def library_env(self) -> dict[str, str]:
        """The eventsourcing ``env`` for the event store."""
        env: dict[str, str] = {
            "AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache_size),
        }
        kind = self.effective_persistence
        if kind == "memory":
            env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
        elif kind == "sqlite":
            env["PERSISTENCE_MODULE"] = SQLITE_TOPIC  # eventsourcing.sqlite, cache sized
            env["SQLITE_DBNAME"] = str(self.db)
            env["SQLITE_LOCK_TIMEOUT"] = "30"
            env[SQLITE_CACHE_KIB] = str(self.sqlite_cache_mb * 1024)
        elif kind == "postgres":
            env["PERSISTENCE_MODULE"] = "eventsourcing.postgres"
            env.update(postgres_env(self.database_url or ""))
            env["POSTGRES_POOL_SIZE"] = str(self.postgres_pool_size)
            # Test a pooled connection before use, so one the server dropped (restart,
            # pg_terminate_backend) is replaced instead of failing the next request.
            env["POSTGRES_PRE_PING"] = "y"
            if self.postgres_schema:
                env["POSTGRES_SCHEMA"] = self.postgres_schema
        env.update(self.cipher_env())
        return env

    def cipher_env(self) -> dict[str, str]:
        """The library's cipher and compressor, when ``INJTRACK_CIPHER_KEY`` is set: every
        stored event's state is compressed, then encrypted with AES-GCM."""
        self.check_secrets()
        if self.cipher_key is None:
            return {}
        return {
            "CIPHER_TOPIC": CIPHER_TOPIC,
            "CIPHER_KEY": self.cipher_key.get_secret_value(),
            "COMPRESSOR_TOPIC": COMPRESSOR_TOPIC,
        }


def postgres_env(url: str) -> dict[str, str]:
    """Split ``postgresql://user:password@host:port/dbname`` into the library's variables."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        # Never echo the URL: it may carry the password.
        raise ValueError(
            "INJTRACK_DATABASE_URL must be a postgresql:// URL, "
            f"not a {parts.scheme or 'scheme-less'}:// one"
        )
    env = {
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
    return env
