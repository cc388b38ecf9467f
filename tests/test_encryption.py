"""Encryption at rest and unguessable stream ids: with ``INJTRACK_CIPHER_KEY`` and
``INJTRACK_STREAM_ID_SECRET`` set, the raw rows of SQLite and PostgreSQL hold no patient id,
code or date in clear, stream ids cannot be recomputed from a patient id without the secret,
a wrong key refuses to start, and new database files are readable by their owner only."""

from __future__ import annotations

import re
import stat
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.eventstore import InjectionLedger
from adapters.protect import StoreKeyMismatch, generate_secrets
from adapters.readmodel import ReadModel, open_view
from adapters.report_source import ReadModelReportSource
from api.app import build_ledger
from api.cli import main
from api.projections_cmd import view_env
from api.settings import Settings
from application.usecases import catch_up_view
from domain.events import PUBLIC_STREAM_IDS, StreamIds
from tests.builders import outcome, procedure
from tests.conftest import ClientFactory, SettingsFactory, postgres_url
from tests.support import Backend, on_backends

PATIENT = "MBR-7734-SECRET"
CODE = "64483"
DAY = "2025-03-03"
ASSESSED = "2025-03-05"


def secrets_settings(make_settings: SettingsFactory, **extra: Any) -> Settings:
    generated = generate_secrets()
    return make_settings(
        cipher_key=SecretStr(generated["INJTRACK_CIPHER_KEY"]),
        stream_id_secret=SecretStr(generated["INJTRACK_STREAM_ID_SECRET"]),
        **extra,
    )


def record_some(client: TestClient) -> None:
    batch = [
        procedure("proc-1", on=DAY, codes=[CODE], patient_id=PATIENT),
        outcome("out-1", of="proc-1", on=ASSESSED, patient_id=PATIENT),
    ]
    assert client.post("/v1/events", json={"events": batch}).status_code == 200
    authorization = {
        "patient_id": PATIENT,
        "policy_set": "nia",
        "authorization_id": "AUTH-1",
        "procedure": {
            "date_of_service": "2025-03-09",
            "region": "lumbar",
            "codes": [{"cpt": CODE}],
        },
    }
    assert client.post("/v1/authorizations", json=authorization).status_code == 200


CLEAR = [PATIENT, CODE, DAY, ASSESSED, "2025-03-09"]


def in_clear(value: str, text: str) -> bool:
    """``value`` stands in ``text`` as a value of its own: not inside a run of hex digits
    (a code like 64483 turns up by chance in hex dumps, uuids and request ids, which the
    probe reads too; stored in clear it sits between quotes, commas or spaces)."""
    return re.search(rf"(?<![0-9a-fA-F]){re.escape(value)}(?![0-9a-fA-F])", text) is not None


def raw_text(backend: Backend, settings: Settings, *, view: bool = False) -> str:
    """Every byte the store (or, with ``view``, the read model) holds, as text: the SQLite
    files with their WAL, or every row of the PostgreSQL schema's tables (``bytea`` also
    decoded from hex)."""
    if backend.name == "sqlite":
        path = settings.effective_view_db if view else settings.db
        chunks = [p.read_bytes().decode("latin-1") for p in path.parent.glob(path.name + "*")]
        assert chunks
        return "\n".join(chunks)
    schema = settings.postgres_schema
    out: list[str] = []
    with psycopg.connect(postgres_url()) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            ).fetchall()
            if name.startswith("injtrack_view_") == view
        ]
        assert tables
        for table in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall():
                out.append(row)
                for hex_ in re.findall(r"\\\\x([0-9a-f]+)", row):
                    out.append(bytes.fromhex(hex_).decode("latin-1"))
    return "\n".join(out)


def caught_up_view(settings: Settings) -> ReadModel:
    ledger = build_ledger(settings)
    opened = open_view(view_env(settings))
    try:
        catch_up_view(ledger, opened.view)
    finally:
        ledger.close()
    return opened.view


@on_backends("sqlite", "postgres")
def test_the_raw_store_holds_no_patient_id_code_or_date_in_clear(
    make_settings: SettingsFactory, make_client: ClientFactory, backend: Backend
) -> None:
    settings = secrets_settings(make_settings)
    client = make_client(settings=settings)
    record_some(client)
    history = client.get(f"/v1/patients/{PATIENT}/history").json()
    assert [e["event_id"] for e in history["events"]][:2] == ["proc-1", "out-1"]

    text = raw_text(backend, settings)
    assert text  # the probe reads something
    found = [value for value in CLEAR if in_clear(value, text)]
    assert found == []


@on_backends("sqlite", "postgres")
def test_without_the_cipher_the_same_probe_finds_them(
    make_settings: SettingsFactory, make_client: ClientFactory, backend: Backend
) -> None:
    """The probe above can fail: without a key the values are there to find."""
    settings = make_settings()
    record_some(make_client(settings=settings))
    text = raw_text(backend, settings)
    assert [value for value in CLEAR if in_clear(value, text)] == CLEAR


@on_backends("sqlite", "postgres")
def test_the_raw_read_model_holds_no_patient_id_in_clear_and_still_answers_by_it(
    make_settings: SettingsFactory, make_client: ClientFactory, backend: Backend
) -> None:
    """Reports filter the read model by date and code in SQL, so those columns stay
    readable there; the patient id is stored deterministically encrypted."""
    settings = secrets_settings(make_settings)
    record_some(make_client(settings=settings))
    view = caught_up_view(settings)
    [row] = view.procedure_rows(PATIENT)
    assert (row["patient_id"], row["event_id"], row["date_of_service"]) == (PATIENT, "proc-1", DAY)
    assert [a["patient_id"] for a in view.authorization_rows()] == [PATIENT]
    assert view.status("InjectionLedger", build_ledger(settings).recorder).patients == 1

    assert PATIENT not in raw_text(backend, settings, view=True)

    if backend.name == "sqlite":  # the probe can fail: without a key the id is there
        plain = make_settings(
            db=settings.db.with_name("plain.sqlite"), view_db=settings.db.with_name("plain.view")
        )
        record_some(make_client(settings=plain))
        caught_up_view(plain)
        assert PATIENT in raw_text(backend, plain, view=True)


@on_backends("sqlite", "postgres")
def test_stored_stream_ids_cannot_be_recomputed_without_the_secret(
    make_settings: SettingsFactory, make_client: ClientFactory, make_ledger: Any
) -> None:
    settings = secrets_settings(make_settings)
    record_some(make_client(settings=settings))
    ledger: InjectionLedger = make_ledger(settings)
    stored = {n.originator_id for n in ledger.recorder.select_notifications(None, 1000)}
    keyed = settings.stream_ids
    assert stored == {keyed.ledger(PATIENT), keyed.region(PATIENT, "lumbar")}

    guesses = [PUBLIC_STREAM_IDS, StreamIds(b"x" * 32)]
    for ids in guesses:
        assert ids.ledger(PATIENT) not in stored
        assert ids.region(PATIENT, "lumbar") not in stored


@on_backends("sqlite")
def test_a_wrong_key_or_secret_refuses_to_start(
    make_settings: SettingsFactory, make_client: ClientFactory
) -> None:
    settings = secrets_settings(make_settings)
    record_some(make_client(settings=settings))
    other = generate_secrets()
    wrong_key = settings.model_copy(update={"cipher_key": SecretStr(other["INJTRACK_CIPHER_KEY"])})
    wrong_secret = settings.model_copy(
        update={"stream_id_secret": SecretStr(other["INJTRACK_STREAM_ID_SECRET"])}
    )
    no_cipher = settings.model_copy(update={"cipher_key": None, "stream_id_secret": None})
    for refused, what in (
        (wrong_key, "INJTRACK_CIPHER_KEY"),
        (wrong_secret, "INJTRACK_STREAM_ID_SECRET"),
        (no_cipher, "INJTRACK_CIPHER_KEY"),
    ):
        with pytest.raises(StoreKeyMismatch, match=what):
            build_ledger(refused)
    build_ledger(settings).close()  # the right keys still open it


@on_backends("sqlite")
def test_a_plaintext_store_opened_with_a_key_refuses_to_start(
    make_settings: SettingsFactory, make_client: ClientFactory
) -> None:
    settings = make_settings()
    record_some(make_client(settings=settings))
    with pytest.raises(StoreKeyMismatch):
        build_ledger(secrets_settings(make_settings))


@on_backends("sqlite")
def test_serve_with_a_wrong_key_exits_2_without_showing_it(
    make_settings: SettingsFactory,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = secrets_settings(make_settings)
    record_some(make_client(settings=settings))
    wrong = generate_secrets()
    monkeypatch.setenv("INJTRACK_PERSISTENCE", "sqlite")
    monkeypatch.setenv("INJTRACK_CIPHER_KEY", wrong["INJTRACK_CIPHER_KEY"])
    assert settings.stream_id_secret is not None
    monkeypatch.setenv("INJTRACK_STREAM_ID_SECRET", settings.stream_id_secret.get_secret_value())
    assert main(["serve", "--db", str(settings.db), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "refusing to start" in err
    assert wrong["INJTRACK_CIPHER_KEY"] not in err


def test_keys_cipher_prints_two_environment_lines_that_configure_the_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "cipher"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "INJTRACK_CIPHER_KEY",
        "INJTRACK_STREAM_ID_SECRET",
    ]
    values = dict(line.split("=", 1) for line in lines)
    settings = Settings(
        persistence="memory",
        cipher_key=SecretStr(values["INJTRACK_CIPHER_KEY"]),
        stream_id_secret=SecretStr(values["INJTRACK_STREAM_ID_SECRET"]),
    )
    assert settings.cipher_env()["CIPHER_KEY"] == values["INJTRACK_CIPHER_KEY"]
    assert main(["keys", "cipher"]) == 0
    assert capsys.readouterr().out.splitlines() != lines  # fresh every time


@pytest.mark.parametrize(
    "fields",
    [
        {"cipher_key": SecretStr(generate_secrets()["INJTRACK_CIPHER_KEY"])},
        {"stream_id_secret": SecretStr("s" * 40)},
        {"cipher_key": SecretStr("bm90LWEta2V5"), "stream_id_secret": SecretStr("s" * 40)},
        {
            "cipher_key": SecretStr(generate_secrets()["INJTRACK_CIPHER_KEY"]),
            "stream_id_secret": SecretStr("short"),
        },
    ],
    ids=["key-alone", "secret-alone", "key-not-aes", "secret-too-short"],
)
def test_incomplete_or_malformed_secrets_are_refused_without_showing_them(
    fields: dict[str, SecretStr],
) -> None:
    with pytest.raises(ValueError) as caught:
        Settings(persistence="memory", **fields).library_env()
    for value in fields.values():
        assert value.get_secret_value() not in str(caught.value)


@on_backends("sqlite")
def test_new_database_files_are_readable_by_their_owner_only(
    make_settings: SettingsFactory, make_client: ClientFactory, tmp_path: Path
) -> None:
    settings = make_settings(
        db=tmp_path / "fresh" / "store.sqlite", view_db=tmp_path / "fresh" / "view.sqlite"
    )
    record_some(make_client(settings=settings))
    caught_up_view(settings)
    files = sorted(settings.db.parent.glob("*.sqlite*"))
    assert settings.db in files
    assert settings.effective_view_db in files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@on_backends("sqlite")
def test_the_compliance_report_reads_real_patient_ids_from_a_protected_read_model(
    make_settings: SettingsFactory, make_client: ClientFactory
) -> None:
    settings = secrets_settings(make_settings)
    record_some(make_client(settings=settings))
    view = caught_up_view(settings)
    ledger = build_ledger(settings)
    try:
        source = ReadModelReportSource(view, ledger.mapper)
        span = (date(2025, 1, 1), date(2025, 12, 31))
        assert [r.patient_id for r in source.procedure_refs(*span)] == [PATIENT]
        assert [r.patient_id for r in source.authorization_refs(*span)] == [PATIENT]
        assert [s.patient_id for s in source.patient_states(None, None)] == [PATIENT]
        assert set(source.patient_events([PATIENT])) == {PATIENT}
        assert len(source.patient_events([PATIENT])[PATIENT]) == 4
    finally:
        ledger.close()


@on_backends("sqlite")
def test_projections_with_a_wrong_key_exit_2_without_a_traceback(
    make_settings: SettingsFactory,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = secrets_settings(make_settings)
    record_some(make_client(settings=settings))
    wrong = generate_secrets()
    monkeypatch.setenv("INJTRACK_PERSISTENCE", "sqlite")
    monkeypatch.setenv("INJTRACK_VIEW_DB", str(settings.effective_view_db))
    for name, value in wrong.items():
        monkeypatch.setenv(name, value)
    assert main(["projections", "status", "--db", str(settings.db)]) == 2
    err = capsys.readouterr().err
    assert "refusing" in err
    assert "Traceback" not in err
