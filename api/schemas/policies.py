"""Response models of the policy administration endpoints."""

from __future__ import annotations

from pydantic import BaseModel


class PolicyReloadOut(BaseModel):
    """The sets now served after a reload (every set swapped at once)."""

    reloaded: bool
    sets: list[str]
    folders: list[str]
