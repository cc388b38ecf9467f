"""Liveness and store reachability."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SettingsDep, TrackerDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(tracker: TrackerDep, settings: SettingsDep) -> dict[str, str]:
    tracker.ledger.recorder.max_notification_id()  # touches the store: fails loudly when down
    return {"status": "ok", "persistence": settings.effective_persistence}
