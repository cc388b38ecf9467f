"""``injtrack import FILE.jsonl``: the API's validation and rules, idempotent, order-proof,
resumable, and never stopped by a bad line."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.eventstore import InjectionLedger
from api.cli import main
from application.bulk_import import AUTHORIZATION_REQUEST
from application.usecases import Tracker
from domain.commands import Authorize
from tests.datain.conftest import (
    END,
    Run,
    patients_of,
    population_file,
    stored_state,
    write_lines,
)
from tests.support import FakeClock, on_backends

SQLITE = on_backends("sqlite")


@SQLITE
def test_a_population_imports_once_and_a_second_run_reports_every_line_a_duplicate(
    tmp_path: Path, run_import: Run, ledger: InjectionLedger
) -> None:
    path, truth = population_file(tmp_path / "pop.jsonl", 60)
    lines = path.read_text().splitlines()
    first, rejected = run_import(path)
    assert rejected == []
    assert first.lines == len(lines)
    assert first.duplicate == truth.counts["duplicate_lines"]
    assert first.recorded + first.duplicate == len(lines)
    state = stored_state(ledger, patients_of(path))
    second, rejected = run_import(path)
    assert rejected == []
    assert (second.recorded, second.duplicate) == (0, len(lines))
    assert stored_state(ledger, patients_of(path)) == state


@SQLITE
def test_every_authorization_is_decided_as_the_generator_planned(
    tmp_path: Path, run_import: Run, ledger: InjectionLedger
) -> None:
    path, truth = population_file(tmp_path / "pop.jsonl", 60)
    summary, _ = run_import(path)
    assert sum(summary.authorizations.values()) == len(truth.authorizations)
    stored = {}
    for patient in patients_of(path):
        for line in map(json.loads, path.read_text().splitlines()):
            if line["type"] == AUTHORIZATION_REQUEST and line["patient_id"] == patient:
                found = ledger.find_authorization(patient, line["authorization_id"])
                assert found is not None
                stored[line["authorization_id"]] = found.decision
    assert stored == truth.authorizations


def _sample_decisions(ledger: InjectionLedger, clock: FakeClock, path: Path) -> list[str]:
    """The decision now for a sample of the file's requests (moved to the end date)."""
    tracker = Tracker(ledger, clock)
    requests = [
        json.loads(line)
        for line in path.read_text().splitlines()
        if json.loads(line)["type"] == AUTHORIZATION_REQUEST
    ]
    out = []
    for body in random.Random(4).sample(requests, 25):
        body = dict(body, procedure=dict(body["procedure"], date_of_service=END.isoformat()))
        from api.lines import parse_line

        command = parse_line(body)
        assert isinstance(command, Authorize)
        decision = tracker.decide(command)
        out.append(f"{body['patient_id']} {decision.decision} {decision.next_eligible_date}")
    return out


BIG_IMPORT = pytest.mark.skipif(
    not os.environ.get("INJTRACK_BIG_IMPORT"),
    reason="10,000 patients (~120,000 lines) take minutes: set INJTRACK_BIG_IMPORT=1; the "
    "default run imports 50-60 patients",
)


@SQLITE
@pytest.mark.parametrize(
    "patients", [50, pytest.param(10_000, marks=[pytest.mark.slow, BIG_IMPORT], id="10000")]
)
def test_the_same_file_shuffled_or_sorted_by_date_imports_to_the_same_state(
    tmp_path: Path,
    run_import: Run,
    ledger: InjectionLedger,
    make_ledger: Any,
    make_settings: Any,
    clock: FakeClock,
    patients: int,
) -> None:
    path, _ = population_file(tmp_path / "pop.jsonl", patients)
    lines = path.read_text().splitlines()
    shuffled = lines[:]
    random.Random(1).shuffle(shuffled)
    by_date = write_lines(tmp_path / "date.jsonl", _by_date(lines))
    other = write_lines(tmp_path / "shuffled.jsonl", shuffled)
    run_import(path)
    expected = stored_state(ledger, patients_of(path))
    decisions = _sample_decisions(ledger, clock, path)
    for n, variant in enumerate((other, by_date)):
        store = make_ledger(make_settings(db=tmp_path / f"other{n}.sqlite"))
        summary, rejected = run_import(variant, store, batch_size=37)
        assert rejected == []
        assert summary.recorded + summary.duplicate == len(lines)
        assert stored_state(store, patients_of(path)) == expected
        assert _sample_decisions(store, clock, path) == decisions


def _by_date(lines: list[str]) -> list[str]:
    from application.population import clinical_date_of

    return sorted(lines, key=lambda line: clinical_date_of(json.loads(line)) or "9999")


@SQLITE
def test_an_outcome_before_its_procedure_and_a_void_before_its_target_are_imported(
    tmp_path: Path, run_import: Run, ledger: InjectionLedger
) -> None:
    path = write_lines(
        tmp_path / "late.jsonl",
        [
            json.dumps(
                {
                    "type": "event_voided",
                    "event_id": "v1",
                    "patient_id": "p1",
                    "voided_event_id": "o1",
                    "reason": "wrong chart",
                }
            ),
            json.dumps(
                {
                    "type": "outcome_reported",
                    "event_id": "o1",
                    "patient_id": "p1",
                    "procedure_event_id": "e1",
                    "assessed_on": "2025-01-20",
                    "pain_relief_percent": 70,
                }
            ),
            json.dumps(
                {
                    "type": "procedure_performed",
                    "event_id": "e1",
                    "patient_id": "p1",
                    "date_of_service": "2025-01-06",
                    "region": "lumbar",
                    "codes": [{"cpt": "64483"}],
                }
            ),
        ],
    )
    summary, rejected = run_import(path)
    assert rejected == []
    assert summary.recorded == 3
    assert ledger.recording_order("p1") == ["e1", "o1", "v1"]


BAD_LINES = [
    ("not json", "body", "invalid JSON"),
    (
        '{"type": "procedure_performed", "event_id": "b1", "date_of_service": "2025-01-06", '
        '"region": "lumbar", "codes": [{"cpt": "64483"}]}',
        "patient_id",
        "Field required",
    ),
    (
        '{"type": "procedure_performed", "event_id": "b2", "patient_id": "p1", '
        '"date_of_service": "2025-01-06", "region": "lumbar", "codes": [{"cpt": "99999"}]}',
        "codes",
        "unknown CPT code '99999'",
    ),
    (
        '{"type": "procedure_performed", "event_id": "b3", "patient_id": "p1", '
        '"date_of_service": "2025-13-06", "region": "lumbar", "codes": [{"cpt": "64483"}], '
        '"colour": "red"}',
        "colour",
        "unknown field",
    ),
    (
        '{"type": "outcome_reported", "event_id": "b4", "patient_id": "p1", '
        '"procedure_event_id": "nowhere", "assessed_on": "2025-01-20", "pain_relief_percent": 70}',
        "procedure_event_id",
        "not a recorded procedure",
    ),
    (
        '{"type": "procedure_performed", "event_id": "good-1", "patient_id": "p1", '
        '"date_of_service": "2025-01-07", "region": "lumbar", "codes": [{"cpt": "64493"}]}',
        "event_id",
        "different content",
    ),
    (
        '{"type": "authorization_request", "authorization_id": "a9", "patient_id": "p1", '
        '"policy_set": "no-such-set", "procedure": {"date_of_service": "2025-01-06", '
        '"region": "lumbar", "codes": [{"cpt": "64483"}]}}',
        "policy_set",
        "no-such-set",
    ),
    (
        '{"type": "procedure_performed", "event_id": "b6", "patient_id": "p1", '
        '"date_of_service": "2031-01-06", "region": "lumbar", "codes": [{"cpt": "64483"}]}',
        "date_of_service",
        "in the future",
    ),
]


@SQLITE
def test_bad_lines_are_rejected_with_line_number_and_reason_and_the_good_ones_imported(
    tmp_path: Path, run_import: Run, ledger: InjectionLedger
) -> None:
    good = [
        {
            "type": "procedure_performed",
            "event_id": f"good-{n}",
            "patient_id": "p1",
            "date_of_service": f"2025-01-{n + 5:02d}",
            "region": "lumbar",
            "codes": [{"cpt": "64483"}],
        }
        for n in range(1, 4)
    ]
    lines = [json.dumps(g) for g in good] + [text for text, _, _ in BAD_LINES] + [""]
    path = write_lines(tmp_path / "bad.jsonl", lines)
    summary, rejected = run_import(path)
    assert summary.recorded == 3
    assert summary.rejected == len(BAD_LINES)
    by_line = {r.line: r for r in rejected}
    for n, (_, field, message) in enumerate(BAD_LINES, start=4):
        reasons = by_line[n].reasons
        assert any(r.field == field and message in r.message for r in reasons), (n, reasons)
    assert by_line[9].status == 409
    assert {r.event_id for r in ledger.patient_events("p1") for r in [r.event]} >= {
        "good-1",
        "good-2",
        "good-3",
    }


def authorization_line(authorization_id: str, day: str, patient_id: str = "p1") -> str:
    return json.dumps(
        {
            "type": AUTHORIZATION_REQUEST,
            "authorization_id": authorization_id,
            "patient_id": patient_id,
            "policy_set": "nia",
            "procedure": {
                "date_of_service": day,
                "region": "lumbar",
                "codes": [{"cpt": "64483"}],
            },
        }
    )


@SQLITE
def test_an_authorization_resent_with_other_content_is_rejected_409_not_a_duplicate(
    tmp_path: Path, run_import: Run
) -> None:
    first, _ = run_import(
        write_lines(tmp_path / "a.jsonl", [authorization_line("a1", "2025-01-06")])
    )
    assert first.recorded == 1
    resent = [authorization_line("a1", "2025-01-06"), authorization_line("a1", "2025-01-07")]
    summary, rejected = run_import(write_lines(tmp_path / "b.jsonl", resent))
    assert (summary.recorded, summary.duplicate, summary.rejected) == (0, 1, 1)
    [rejection] = rejected
    assert (rejection.line, rejection.status) == (2, 409)
    assert "different content" in rejection.reasons[0].message


@SQLITE
def test_a_waves_authorization_requests_are_looked_up_once_not_once_per_request(
    tmp_path: Path, run_import: Run, ledger: InjectionLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [authorization_line(f"a{n}", "2025-01-06", patient_id=f"p{n}") for n in range(5)]
    path = write_lines(tmp_path / "a.jsonl", lines)
    single: list[tuple[str, str]] = []
    together: list[int] = []
    find_one, find_many = ledger.find_authorization, ledger.find_authorizations

    def one(patient_id: str, authorization_id: str) -> Any:
        single.append((patient_id, authorization_id))
        return find_one(patient_id, authorization_id)

    def many(keys: Any) -> Any:
        keys = list(keys)
        together.append(len(keys))
        return find_many(keys)

    monkeypatch.setattr(ledger, "find_authorization", one)
    monkeypatch.setattr(ledger, "find_authorizations", many)
    summary, _ = run_import(path)
    assert (summary.recorded, single, together) == (5, [], [5])
    summary, _ = run_import(path)
    assert (summary.duplicate, single, together) == (5, [], [5, 5])


def test_the_cli_writes_rejects_prints_the_summary_and_exits_1_when_anything_was_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = population_file(tmp_path / "pop.jsonl", 8)
    with path.open("a") as f:
        f.write("{broken\n")
    db = tmp_path / "cli.sqlite"
    code = main(["import", str(path), "--db", str(db), "--quiet", "--batch", "50"])
    out = capsys.readouterr().out
    assert code == 1
    assert "1 rejected" in out and "duplicate" in out
    rejects = [json.loads(line) for line in Path(f"{path}.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [len(path.read_text().splitlines())]
    assert rejects[0]["reasons"][0]["field"] == "body"
    # Again: everything a duplicate, the bad line rejected again.
    assert main(["import", str(path), "--db", str(db), "--quiet"]) == 1
    assert " 0 recorded" in capsys.readouterr().out


def test_stdin_is_read_with_a_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = population_file(tmp_path / "pop.jsonl", 5)
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    monkeypatch.chdir(tmp_path)
    assert main(["import", "-", "--db", str(tmp_path / "s.sqlite"), "--quiet"]) == 0
    assert " 0 rejected" in capsys.readouterr().out


@SQLITE
@pytest.mark.slow
def test_an_import_killed_midway_resumes_and_ends_in_the_same_state(
    tmp_path: Path, run_import: Run, ledger: InjectionLedger, make_ledger: Any, make_settings: Any
) -> None:
    path, _ = population_file(tmp_path / "pop.jsonl", 80)
    db = tmp_path / "killed.sqlite"
    command = [
        sys.executable,
        "-m",
        "api.cli",
        "import",
        str(path),
        "--db",
        str(db),
        "--quiet",
        "--batch",
        "25",
    ]
    env = dict(os.environ, INJTRACK_PERSISTENCE="sqlite")
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoint = Path(f"{path}.import-checkpoint")
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = json.loads(checkpoint.read_text())["groups_done"]
    assert done >= 1
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after" in resumed.stdout
    assert not checkpoint.exists()
    run_import(path)  # the same file into a clean store, in one go
    store = make_ledger(make_settings(db=db))
    assert stored_state(store, patients_of(path)) == stored_state(ledger, patients_of(path))


@SQLITE
@pytest.mark.slow
@BIG_IMPORT
def test_ten_thousand_patients_import_once_and_a_second_run_is_all_duplicates(
    tmp_path: Path, run_import: Run, ledger: InjectionLedger
) -> None:
    path, truth = population_file(tmp_path / "pop.jsonl", 10_000)
    lines = sum(1 for _ in path.open())
    first, rejected = run_import(path)
    assert rejected == [] and first.recorded + first.duplicate == lines
    assert first.duplicate == truth.counts["duplicate_lines"]
    second, rejected = run_import(path)
    assert rejected == [] and (second.recorded, second.duplicate) == (0, lines)
