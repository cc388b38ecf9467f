"""Test support shared by every test package: the fake clock, backend selection, store probes.

Import from here (``from tests.support import FakeClock, on_backends, store_size``); the
fixtures themselves are in ``tests/conftest.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from adapters.eventstore import InjectionLedger
from api.settings import Settings
from policies.engine import PolicySet

BACKENDS = ("memory", "sqlite", "postgres")
DURABLE_BACKENDS = ("sqlite", "postgres")
START = datetime(2025, 3, 10, 14, 30, tzinfo=UTC)


@dataclass
class FakeClock:
    """A settable UTC clock. ``clock()`` and ``clock.now()`` both read it."""

    current: datetime = START

    def now(self) -> datetime:
        return self.current

    __call__ = now

    def today(self) -> date:
        """Today's date in UTC, as the service sees it."""
        return self.current.astimezone(UTC).date()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; returns the new now."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a clock does not run backwards; use set() to jump")
        self.current += step
        return self.current

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock is timezone-aware (UTC); give an aware datetime")
        self.current = instant.astimezone(UTC)


@dataclass(frozen=True)
class Backend:
    """One event store configuration: ``name`` is memory | sqlite | postgres."""

    name: str
    settings: Settings

    @property
    def durable(self) -> bool:
        return self.name != "memory"


def backend_params(*names: str) -> list[Any]:
    """``pytest.param`` per backend name, the PostgreSQL one marked ``postgres``."""
    return [
        pytest.param(n, id=n, marks=[pytest.mark.postgres] if n == "postgres" else [])
        for n in names
    ]


def on_backends(*names: str) -> pytest.MarkDecorator:
    """Run a test that uses the ``backend`` fixture (directly or through ``ledger``,
    ``client``, ...) only on these stores, e.g. ``@on_backends("sqlite", "postgres")``."""
    unknown = set(names) - set(BACKENDS)
    if unknown:
        raise ValueError(f"unknown backends {sorted(unknown)}; choose from {BACKENDS}")
    return pytest.mark.parametrize("backend", backend_params(*names), indirect=True)


def store_size(ledger: InjectionLedger) -> int:
    """The highest notification id in the store (0 when empty): unchanged after a request
    means the request wrote nothing."""
    return ledger.recorder.max_notification_id() or 0


def amended_set(
    policy_set: PolicySet, rule_id: str, name: str | None = None, **params: Any
) -> PolicySet:
    """A copy of ``policy_set`` (renamed when ``name`` is given) with the parameters of one
    rule changed, as a policy team's amended copy would be."""
    guidelines = tuple(
        replace(
            g,
            rules=tuple(
                replace(r, params={**r.params, **params}) if r.id == rule_id else r for r in g.rules
            ),
        )
        for g in policy_set.guidelines
    )
    return replace(policy_set, name=name or policy_set.name, guidelines=guidelines)


def run_in_threads(count: int, work: Callable[[int], None], name: str = "worker") -> None:
    """``work(n)`` for n in ``range(count)``, each in its own thread, started together;
    fails the test if one is still running after 120 s."""
    threads = [threading.Thread(target=work, args=(n,), name=f"{name}-{n}") for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), f"a {name} is still running after 120 s"
