"""The population read model as the API's reports use it: opened for the report, caught up
with the event store first, so a report sees every event accepted before it was asked for,
and closed afterwards (the app keeps no connection of its own to the view)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from eventsourcing.persistence import IntegrityError

from adapters.report_source import ReadModelReportSource
from api.ledger import InjectionLedger
from api.projections_cmd import view_env
from api.settings import Settings
from projections.readmodel import catch_up, open_view

_CATCH_UP = threading.Lock()


@contextmanager
def report_source(settings: Settings, ledger: InjectionLedger) -> Iterator[ReadModelReportSource]:
    """The read model, caught up, as the reports' source."""
    opened = open_view(view_env(settings))
    try:
        with _CATCH_UP:
            # Another process moving the view at the same moment leaves it as current.
            with suppress(IntegrityError):
                catch_up(opened.view, ledger.recorder, ledger.mapper, ledger.name)
        yield ReadModelReportSource(opened.view, ledger.mapper)
    finally:
        opened.close()


def app_report_source(state: Any) -> Any:
    """:func:`report_source` for the app whose ``state`` this is."""
    return report_source(state.settings, state.ledger)
