"""The population read model as the API's reports use it: opened for the report, caught up
with the event store first, so a report sees every event accepted before it was asked for,
and closed afterwards (the app keeps no connection of its own to the view)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from eventsourcing.persistence import IntegrityError

from adapters.eventstore import InjectionLedger
from adapters.readmodel import open_view
from adapters.report_source import ReadModelReportSource
from api.projections_cmd import view_env
from api.settings import Settings
from application.usecases import catch_up_view

_CATCH_UP = threading.Lock()


@contextmanager
def report_source(settings: Settings, ledger: InjectionLedger) -> Iterator[ReadModelReportSource]:
    """The read model, caught up, as the reports' source."""
    opened = open_view(view_env(settings))
    try:
        # Another process moving the view at the same moment leaves it as current.
        with _CATCH_UP, suppress(IntegrityError):
            catch_up_view(ledger, opened.view)
        yield ReadModelReportSource(opened.view, ledger.mapper)
    finally:
        opened.close()


def app_report_source(state: Any) -> Any:
    """:func:`report_source` for the app whose ``state`` this is."""
    return report_source(state.settings, state.ledger)
