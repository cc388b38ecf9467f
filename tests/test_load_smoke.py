"""A few seconds of the load run (``scripts/load.py``) against a real ``injtrack serve`` on
127.0.0.1, on SQLite and PostgreSQL: authenticated eligibility and ingestion from concurrent
clients, and not one error. The 60-second, 32-client run and its numbers are in the README."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import postgres_url
from tests.support import backend_params


def _load_module() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "scripts" / "load.py"
    spec = importlib.util.spec_from_file_location("injtrack_load", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("store", backend_params("sqlite", "postgres"))
def test_a_short_load_run_has_no_errors(store: str, request: pytest.FixtureRequest) -> None:
    schema = request.getfixturevalue("postgres_schema") if store == "postgres" else None
    load = _load_module()
    result = load.run_load(
        store, clients=8, duration=3, patients=40, postgres_url=postgres_url(), schema=schema
    )
    assert result["errors"] == 0, result["first_errors"]
    assert result["by_kind"]["eligibility"]["requests"] > 0
    assert result["by_kind"]["ingestion"]["requests"] > 0
