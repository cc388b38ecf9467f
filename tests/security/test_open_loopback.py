"""Secure by default: with no key configured, only the machine itself is served, and
``injtrack serve`` refuses to listen on anything but loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main
from api.settings import Settings


def test_with_no_keys_the_quick_start_works_from_loopback(tmp_path: Path) -> None:
    app = create_app(Settings(persistence="memory"))
    remote = TestClient(app, client=("203.0.113.9", 50000))
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.get("/v1/policies").status_code == 200
        assert remote.get("/v1/policies").status_code == 401
        assert local.get("/v1/policies").status_code == 200


def test_the_first_key_closes_the_open_service(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(persistence="memory"))) as client:
        assert client.get("/v1/patients/p-1/history").status_code == 200
        client.app.state.access.keys.create("auditor", ["auditor"])  # type: ignore[attr-defined]
        client.app.state.access._open_checked_at = -1e9  # type: ignore[attr-defined]
        assert client.get("/v1/patients/p-1/history").status_code == 401


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::"])
def test_serve_refuses_a_non_loopback_host_without_keys(
    host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INJTRACK_DATABASE_URL", raising=False)
    monkeypatch.delenv("INJTRACK_PERSISTENCE", raising=False)
    code = main(["serve", "--host", host, "--port", "1", "--db", str(tmp_path / "s.sqlite")])
    assert code == 2
    assert "no API key is configured" in capsys.readouterr().err
