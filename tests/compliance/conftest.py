"""Fixtures of the compliance and audit tests: the read model fixture of the projection
tests (``open_read_model``) is shared here."""

from __future__ import annotations

from tests.datain.conftest import run_import
from tests.projections.conftest import open_read_model

__all__ = ["open_read_model", "run_import"]
