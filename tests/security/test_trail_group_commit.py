"""Group commit of the access trail: concurrent requests' entries are committed together by
one writer, each request answers only once its own entries are committed, and a request
whose entries could not be committed answers 503 (nobody gets an answer the trail lacks)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.access import AccessEntry, GroupCommit, SQLiteAccessStore
from tests.builders import procedure
from tests.security.conftest import keyed
from tests.support import on_backends


def _entry(n: int, patient_id: str | None = None) -> AccessEntry:
    return AccessEntry(
        at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        request_id=f"req-{n}",
        key_name="payer-key",
        role="payer",
        method="POST",
        route="/v1/eligibility",
        patient_id=patient_id or f"p-{n}",
        status=200,
        outcome="ok",
    )


class GatedStore(SQLiteAccessStore):
    """A real SQLite trail whose first append waits at a gate (to hold the writer busy) and
    whose appends numbered in ``failing`` fail (as on a full disk)."""

    def __init__(self, path: Path, failing: frozenset[int] = frozenset()) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.inside = threading.Event()
        self.failing = failing
        self.calls = 0

    def append(self, entries: Sequence[AccessEntry]) -> None:
        self.calls += 1
        if self.calls == 1:
            self.inside.set()
            self.gate.wait(10)
        if self.calls in self.failing:
            raise OSError("database or disk is full")
        super().append(entries)


class Told:
    """What each submitter was told, once it was."""

    def __init__(self) -> None:
        self.outcomes: dict[int, object] = {}
        self.events: dict[int, threading.Event] = {}

    def submit(self, trail: GroupCommit, n: int, entries: list[AccessEntry]) -> None:
        self.events[n] = threading.Event()

        def committed(error: BaseException | None) -> None:
            self.outcomes[n] = error if error is not None else "committed"
            self.events[n].set()

        trail.submit(entries, committed)

    def wait(self) -> dict[int, object]:
        for event in self.events.values():
            assert event.wait(10)
        return self.outcomes


def test_entries_submitted_during_a_commit_are_committed_together_in_the_next_one(
    tmp_path: Path,
) -> None:
    store = GatedStore(tmp_path / "trail.sqlite")
    trail = GroupCommit(store)
    told = Told()
    try:
        told.submit(trail, 0, [_entry(0)])
        assert store.inside.wait(10)  # the writer is inside the first commit, held there
        for n in range(1, 21):
            told.submit(trail, n, [_entry(n), _entry(n, "shared")])
        store.gate.set()
        outcomes = told.wait()
    finally:
        trail.close()
    assert outcomes == dict.fromkeys(range(21), "committed")
    assert trail.groups == 2  # the first request's commit, then all twenty together
    total, entries = store.query(limit=1000)
    assert total == 41
    assert store.query(patient_id="shared")[0] == 20
    assert {e.request_id for e in entries} == {f"req-{n}" for n in range(21)}
    store.close()


def test_a_failed_group_commit_is_told_to_every_request_of_the_group_and_stores_none_of_it(
    tmp_path: Path,
) -> None:
    store = GatedStore(tmp_path / "trail.sqlite", failing=frozenset({2}))
    trail = GroupCommit(store)
    told = Told()
    try:
        told.submit(trail, 0, [_entry(0)])
        assert store.inside.wait(10)
        for n in range(1, 6):  # queued behind the first commit: the second group, which fails
            told.submit(trail, n, [_entry(n), _entry(n, "shared")])
        store.gate.set()
        outcomes = dict(told.wait())
        told.submit(trail, 6, [_entry(6)])  # the trail works again
        assert told.wait()[6] == "committed"
    finally:
        trail.close()
    assert outcomes[0] == "committed"
    failed = [outcomes[n] for n in range(1, 6)]
    assert all(isinstance(e, OSError) and str(e) == "database or disk is full" for e in failed)
    total, entries = store.query(limit=100)
    assert total == 2 and [e.request_id for e in entries] == ["req-0", "req-6"]
    assert store.query(patient_id="shared")[0] == 0  # nothing of the failed group
    store.close()


def test_closing_commits_what_is_queued_and_a_later_submit_starts_the_writer_again(
    tmp_path: Path,
) -> None:
    store = SQLiteAccessStore(tmp_path / "trail.sqlite")
    trail = GroupCommit(store)
    for n in range(50):
        trail.submit([_entry(n)], lambda error: None)
    trail.close()
    assert store.query()[0] == 50
    trail.append([_entry(50)])  # waits for its commit
    assert store.query()[0] == 51
    trail.close()
    store.close()


@on_backends("memory", "sqlite", "postgres")
def test_concurrent_requests_are_all_on_the_trail_each_once(client: TestClient) -> None:
    ring = keyed(client)
    headers = ring.headers("payer")
    body = {
        "patient_id": "p-many",
        "policy_set": "nia",
        "procedure": {
            "date_of_service": "2025-03-01",
            "region": "lumbar",
            "codes": [{"cpt": "64483"}],
        },
    }

    def ask(n: int) -> int:
        r = client.post(
            "/v1/eligibility", json=body, headers=headers | {"X-Request-ID": f"many-{n}"}
        )
        return r.status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(ask, range(60)))
    assert statuses == [200] * 60
    log = client.get(
        "/v1/access-log",
        params={"patient_id": "p-many", "limit": 1000},
        headers=ring.headers("auditor"),
    ).json()
    ids = [e["request_id"] for e in log["entries"] if e["route"] == "/v1/eligibility"]
    assert sorted(ids) == sorted(f"many-{n}" for n in range(60))


@on_backends("memory", "sqlite", "postgres")
def test_when_the_trail_cannot_be_written_the_client_gets_a_503_not_the_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = keyed(client)
    store = client.app.state.access.store  # type: ignore[attr-defined]

    def full_disk(entries: Sequence[AccessEntry]) -> None:
        raise OSError("database or disk is full")

    monkeypatch.setattr(store, "append", full_disk)
    r = client.post(
        "/v1/events",
        json={"events": [procedure(patient_id="p-x")]},
        headers=ring.headers("submitter") | {"X-Request-ID": "unrecorded"},
    )
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert r.headers["x-request-id"] == "unrecorded"
    assert r.json()["request_id"] == "unrecorded"
    assert "access trail" in r.json()["message"]
    assert "results" not in r.json()

    monkeypatch.undo()
    ok = client.get("/v1/patients/p-x/history", headers=ring.headers("auditor"))
    assert ok.status_code == 200
