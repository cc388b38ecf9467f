"""Liveness and store reachability."""

from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> dict[str, str]:
    ledger = request.app.state.ledger
    ledger.recorder.max_notification_id()  # touches the store: fails loudly when it is down
    return {"status": "ok", "persistence": request.app.state.settings.effective_persistence}
