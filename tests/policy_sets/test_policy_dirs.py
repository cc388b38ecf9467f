"""A payer's own policies: two YAML files in a folder named by ``INJTRACK_POLICY_DIRS``, and no
Python, add a set the service lists and decides with; a broken document is refused at start
and on reload (with file and line) while the running sets keep answering."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main
from api.policies_cmd import install_sighup_reload
from api.settings import Settings
from policies import registry
from policies.loader import LIBRARY, PolicyLoadError

NOW = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
REQUEST = {
    "patient_id": "p-1",
    "policy_set": "acme-bcbs",
    "procedure": {
        "date_of_service": "2025-03-03",
        "region": "lumbar",
        "codes": [{"cpt": "0627T"}],
    },
}


@pytest.fixture(autouse=True)
def shipped_library_afterwards() -> Iterator[None]:
    yield
    registry.load()


@pytest.fixture
def payer(tmp_path: Path) -> Path:
    """A copy of the shipped ``bcbs-ma`` set under the id ``acme-bcbs``: two YAML files."""
    root = tmp_path / "payer-policies"
    folder = root / "acme-bcbs"
    folder.mkdir(parents=True)
    text = (LIBRARY / "bcbs-ma" / "set.yaml").read_text(encoding="utf-8")
    (folder / "set.yaml").write_text(text.replace("id: bcbs-ma", "id: acme-bcbs"), encoding="utf-8")
    shutil.copy(LIBRARY / "bcbs-ma" / "BCBS_MA_254.yaml", folder / "BCBS_MA_254.yaml")
    return root


def _client(monkeypatch: pytest.MonkeyPatch, payer: Path) -> TestClient:
    monkeypatch.setenv("INJTRACK_POLICY_DIRS", str(payer))
    return TestClient(create_app(Settings(persistence="memory"), lambda: NOW))


def _decide(client: TestClient) -> Any:
    response = client.post("/v1/eligibility", json=REQUEST)
    assert response.status_code == 200, response.text
    return response.json()


def _break(payer: Path) -> Path:
    doc = payer / "acme-bcbs" / "BCBS_MA_254.yaml"
    text = doc.read_text(encoding="utf-8").replace("kind: not_covered", "kind: crystal_ball")
    doc.write_text(text, encoding="utf-8")
    return doc


def test_a_set_in_a_policy_dir_is_listed_and_decides(
    monkeypatch: pytest.MonkeyPatch, payer: Path
) -> None:
    client = _client(monkeypatch, payer)
    listed = {s["name"]: s for s in client.get("/v1/policies").json()["sets"]}
    assert {"nia", "nia-wa", "cohere", "cohere-ma", "bcbs-ma", "acme-bcbs"} <= set(listed)
    assert listed["acme-bcbs"]["guidelines"] == listed["bcbs-ma"]["guidelines"]
    assert listed["acme-bcbs"]["authorization_window"] == {"before": "P7D", "after": "P60D"}
    body = _decide(client)
    assert body["decision"] == "not_eligible"
    assert body["policy"]["set"] == "acme-bcbs"
    assert [r["rule"] for r in body["reasons"]] == ["bcbs.stem_cell.investigational"]


def test_a_set_may_extend_a_shipped_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "payer" / "nia-plus"
    folder.mkdir(parents=True)
    (folder / "set.yaml").write_text(
        "id: nia-plus\ntitle: NIA and nothing more\nextends: nia\nguidelines: []\n"
    )
    client = _client(monkeypatch, tmp_path / "payer")
    listed = {s["name"]: s for s in client.get("/v1/policies").json()["sets"]}
    assert listed["nia-plus"]["extends"] == "nia"
    assert [g["id"] for g in listed["nia-plus"]["guidelines"]] == [
        g["id"] for g in listed["nia"]["guidelines"]
    ]


def test_a_broken_document_is_refused_at_start_with_file_and_line(
    monkeypatch: pytest.MonkeyPatch, payer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _break(payer)
    monkeypatch.setenv("INJTRACK_POLICY_DIRS", str(payer))
    with pytest.raises(PolicyLoadError) as refused:
        create_app(Settings(persistence="memory"), lambda: NOW)
    assert [str(p) for p in refused.value.problems] == [
        "acme-bcbs/BCBS_MA_254.yaml:23 rules[0].kind: bcbs.stem_cell.investigational: "
        "unknown rule kind 'crystal_ball'"
    ]
    monkeypatch.setenv("INJTRACK_PERSISTENCE", "memory")
    assert main(["serve", "--port", "1"]) == 2  # refuses before listening
    err = capsys.readouterr().err
    assert "refusing to start" in err and "BCBS_MA_254.yaml:23 rules[0].kind" in err


def test_a_broken_document_is_refused_on_reload_and_the_running_sets_keep_answering(
    monkeypatch: pytest.MonkeyPatch, payer: Path
) -> None:
    client = _client(monkeypatch, payer)
    before = _decide(client)
    _break(payer)
    refused = client.post("/v1/policies/reload")
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {
            "field": "acme-bcbs/BCBS_MA_254.yaml:23 rules[0].kind",
            "message": "bcbs.stem_cell.investigational: unknown rule kind 'crystal_ball'",
        }
    ]
    assert "keep answering" in refused.json()["message"]
    assert _decide(client) == before


def test_a_reload_swaps_in_the_amended_documents(
    monkeypatch: pytest.MonkeyPatch, payer: Path
) -> None:
    client = _client(monkeypatch, payer)
    doc = payer / "acme-bcbs" / "BCBS_MA_254.yaml"
    doc.write_text(
        doc.read_text(encoding="utf-8").replace("not covered on any", "never covered on any"),
        encoding="utf-8",
    )
    assert "never covered" not in _decide(client)["reasons"][0]["message"]
    reloaded = client.post("/v1/policies/reload")
    assert reloaded.status_code == 200, reloaded.text
    assert "acme-bcbs" in reloaded.json()["sets"]
    assert "never covered" in _decide(client)["reasons"][0]["message"]


def test_sighup_and_injtrack_policies_reload_reload_the_server(
    monkeypatch: pytest.MonkeyPatch, payer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(Settings(persistence="memory", policy_dirs=str(payer)), lambda: NOW)
    previous = signal.getsignal(signal.SIGHUP)
    install_sighup_reload()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"

        _break(payer)
        assert main(["policies", "reload", "--url", url]) == 1
        assert "BCBS_MA_254.yaml:23 rules[0].kind" in capsys.readouterr().err
        assert "acme-bcbs" in registry.sets()

        shutil.rmtree(payer / "acme-bcbs")
        assert main(["policies", "reload", "--pid", str(os.getpid())]) == 0
        for _ in range(200):
            if "acme-bcbs" not in registry.sets():
                break
            time.sleep(0.02)
        assert "acme-bcbs" not in registry.sets()
        assert main(["policies", "reload", "--url", url]) == 0
        assert "serving bcbs-ma" in capsys.readouterr().out
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        signal.signal(signal.SIGHUP, previous)


def test_the_cli_serves_and_checks_the_policy_dirs_too(
    monkeypatch: pytest.MonkeyPatch,
    payer: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INJTRACK_POLICY_DIRS", str(payer))
    assert main(["policies", "check"]) == 0
    assert "6 policy sets" in capsys.readouterr().out
    _break(payer)
    assert main(["policies", "check"]) == 1
    assert "acme-bcbs/BCBS_MA_254.yaml:23 rules[0].kind" in capsys.readouterr().err
    # A command that decides (an import of authorization requests) refuses before reading.
    assert main(["import", str(tmp_path / "nothing.jsonl"), "--db", str(tmp_path / "db")]) == 2
    assert "BCBS_MA_254.yaml:23 rules[0].kind" in capsys.readouterr().err
    assert not (tmp_path / "db").exists()
