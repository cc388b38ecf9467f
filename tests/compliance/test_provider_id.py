"""A procedure may name its rendering provider (``provider_id``); events without one stay
valid, and the read model carries it for the compliance report's counts by provider."""

from __future__ import annotations

from adapters.eventstore import InjectionLedger
from adapters.readmodel import catch_up
from projections.state import fold
from tests.builders import parse, procedure
from tests.conftest import SettingsFactory
from tests.projections.conftest import OpenReadModel


def test_a_procedure_names_its_provider_and_the_read_model_keeps_it(
    ledger: InjectionLedger, make_settings: SettingsFactory, open_read_model: OpenReadModel
) -> None:
    ledger.record_batch(
        parse(procedure("a", on="2025-01-10", provider_id="npi-1"), procedure("b", on="2025-02-10"))
    )
    state = fold(ledger.patient_events("p-001"))
    assert [(p.event_id, p.provider_id) for p in state.procedures] == [("a", "npi-1"), ("b", None)]
    view = open_read_model(make_settings())
    catch_up(view, ledger.recorder, ledger.mapper, ledger.name)
    assert [(r["event_id"], r["provider_id"]) for r in view.procedure_rows()] == [
        ("a", "npi-1"),
        ("b", None),
    ]


def test_resending_an_event_without_a_provider_is_still_a_duplicate(
    ledger: InjectionLedger,
) -> None:
    ledger.record_batch(parse(procedure("a", on="2025-01-10")))
    again = ledger.record_batch(parse(procedure("a", on="2025-01-10")))
    assert [r.status for r in again] == ["duplicate"]
    other = parse(procedure("a", on="2025-01-10", provider_id="npi-9"))
    try:
        ledger.record_batch(other)
    except Exception as exc:  # the same id with different content is a conflict
        assert type(exc).__name__ == "EventIdConflict"
    else:
        raise AssertionError("a different provider on the same event id must conflict")
