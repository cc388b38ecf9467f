"""API keys: created by the CLI (shown once, alone on the last line), stored only as salted
hashes in the service's own database, listed without secrets, revoked at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app, open_access
from api.cli import main
from api.settings import Settings
from tests.support import on_backends


def _create(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> str:
    assert main(["keys", "create", "--db", str(db), *args]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    return out[-1]


def test_keys_create_prints_the_key_once_alone_on_its_last_line_and_stores_only_a_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.sqlite"
    key = _create(capsys, db, "--role", "payer", "--role", "auditor", "--name", "claims bot")
    assert key.startswith("ijt_") and " " not in key
    secret = key.split("_", 2)[2]
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("store.sqlite-*"))
    assert secret.encode() not in raw
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, roles, salt, key_hash FROM injtrack_api_keys").fetchall()
    assert rows[0][:2] == ("claims bot", "payer,auditor")
    assert len(rows[0][2]) == 32 and len(rows[0][3]) == 64
    assert main(["keys", "list", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "claims bot" in listing and "payer,auditor" in listing and secret not in listing
    assert (db.stat().st_mode & 0o077) == 0


def test_keys_create_refuses_an_unknown_role_and_a_taken_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.sqlite"
    assert main(["keys", "create", "--db", str(db), "--role", "root", "--name", "x"]) == 2
    assert "unknown role 'root'" in capsys.readouterr().err
    _create(capsys, db, "--role", "admin", "--name", "ops")
    assert main(["keys", "create", "--db", str(db), "--role", "admin", "--name", "ops"]) == 2
    assert "already named 'ops'" in capsys.readouterr().err
    assert main(["keys", "revoke", "--db", str(db), "nobody"]) == 2


@on_backends("sqlite", "postgres")
def test_a_revoked_key_is_refused_at_once_and_a_rotated_one_works(make_settings) -> None:
    settings: Settings = make_settings()
    access = open_access(settings)
    try:
        old = access.keys.create("payer system", ["payer"]).key
    finally:
        access.close()
    with TestClient(create_app(settings)) as client:
        hdr = {"Authorization": f"Bearer {old}"}
        assert client.get("/v1/policies", headers=hdr).status_code == 200
        # Rotation: a new key for the same holder, then the old one revoked.
        keys = client.app.state.access.keys  # type: ignore[attr-defined]
        new = keys.create("payer system 2026", ["payer"]).key
        keys.revoke("payer system")
        assert client.get("/v1/policies", headers=hdr).status_code == 401
        assert (
            client.get("/v1/policies", headers={"Authorization": f"Bearer {new}"}).status_code
            == 200
        )
        assert [k.active for k in keys.list()] == [False, True]


def test_a_key_with_a_wrong_secret_is_unknown(client: TestClient) -> None:
    keys = client.app.state.access.keys  # type: ignore[attr-defined]
    key = keys.create("auditor", ["auditor"]).key
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert keys.verify(forged) is None
    assert keys.verify(key) is not None
