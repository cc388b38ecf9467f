"""Seeded random eligibility requests over every shipped policy set, and the JSON the API
returns for each: the corpus that pins the policy documents' decisions.

The requests are drawn from ``random.Random(seed)`` only (no clock, no hypothesis database),
so the same seed draws the same requests on any machine. Each request is a patient history
(procedures of every family in several regions, outcomes, surgeries, pathologies, voids) and
a proposed procedure with random attributes and clinical facts, decided under one set.

``python -m tests.policies.golden`` rewrites ``golden_decisions.txt`` (one line per request:
index, decision, a digest of the API's JSON). Run it only for a deliberate policy change,
and say in the commit which decisions moved and why.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from domain.catalog import CATALOG, CatalogError, Region, classify
from policies.engine import PolicyLookupError
from tests.policies.conftest import History, propose

GOLDEN = Path(__file__).with_name("golden_decisions.txt")
SEED = 20261201
COUNT = 4000
SETS = ("nia", "nia-wa", "cohere", "cohere-ma", "bcbs-ma")
CODES = sorted(CATALOG)
REGIONS = [r.value for r in Region]
INTENTS = ["diagnostic", "therapeutic", "trial", "implant", "replacement", "revision", "removal"]
AGENTS = [None, "local_anesthetic", "steroid", "opioid", "antispasmodic", "other"]
INDICATIONS = [
    None,
    "acute_pain",
    "chronic_pain",
    "ptsd",
    "spasticity",
    "cancer_pain",
    "synovial_cyst",
    "intrathecal_trial",
    "facet_cyst_aspiration",
    "stem_cell",
]
APPROACHES = [None, "interlaminar", "caudal", "transforaminal", "intra_articular", "medial_branch"]
LATERALITY = [None, "left", "right", "bilateral"]
LEVELS = {
    "cervical": ["C2-C3", "C3-C4", "C4-C5", "C5-C6", "C6-C7", "C7-T1"],
    "thoracic": ["T4-T5", "T5-T6", "T6-T7"],
    "lumbar": ["L3-L4", "L4-L5", "L5-S1"],
}
DEVICE_REASONS = [
    "malfunction",
    "battery_depletion",
    "recall",
    "impending_failure",
    "newer_technology",
    "lead_migration",
    "infection",
    "patient_demand",
]
ANY: frozenset[str] = frozenset()
_NIA = frozenset({"esi", "facet", "rfa", "sij", "sympathetic", "scs", "pump", "intrathecal_trial"})
SET_FAMILIES = {
    "nia": _NIA,
    "nia-wa": _NIA,
    "cohere": frozenset({"esi", "facet", "rfa", "cyst_aspiration", "investigational"}),
    "cohere-ma": frozenset({"pump", "intrathecal_trial"}),
    "bcbs-ma": frozenset({"investigational"}),
}
BOOL_FACTS = [
    "active_conservative_therapy",
    "initial_criteria_met",
    "special_circumstances",
    "multi_region_medical_reason",
    "synovial_cyst_confirmed",
    "positive_provocative_exam",
    "opioid_naive",
]


@dataclass(frozen=True)
class Request:
    index: int
    policy_set: str
    history: History
    on: date
    codes: tuple[tuple[str, int], ...]
    attributes: dict[str, Any]
    clinical: dict[str, Any]


def _codes(
    rng: random.Random, region: str, indication: str | None, families: frozenset[str] = ANY
) -> tuple[tuple[str, int], ...]:
    """A primary code (and sometimes an add-on of it) the catalog accepts in ``region``, of
    one of ``families`` when one fits within a few draws."""
    for attempt in range(400):
        primary = rng.choice(CODES)
        row = CATALOG[primary]
        if row.is_add_on:
            continue
        codes = [(primary, 1)]
        addons = [c for c in CODES if CATALOG[c].add_on_to == primary]
        if addons and rng.random() < 0.3:
            codes.append((rng.choice(addons), rng.choice([1, 1, 2, 3])))
        try:
            kind = classify([c for c, _ in codes], Region(region), indication)
        except CatalogError:
            continue
        if families and attempt < 200 and kind.family.value not in families:
            continue
        return tuple(codes)
    raise RuntimeError("no code fits")  # pragma: no cover


def _attributes(rng: random.Random, region: str) -> dict[str, Any]:
    levels = rng.sample(LEVELS[region], rng.choice([0, 1, 1, 2, 3]))
    return {
        "region": region,
        "intent": rng.choice(INTENTS[:2] * 4 + INTENTS),
        "laterality": rng.choice(LATERALITY),
        "levels": sorted(levels),
        "agent": rng.choice(AGENTS),
        "indication": rng.choice(INDICATIONS[:3] * 3 + INDICATIONS),
        "approach": rng.choice(APPROACHES),
        "device_type": rng.choice([None, "rechargeable", "non_rechargeable"]),
    }


def _history(rng: random.Random, start: date, families: frozenset[str]) -> History:
    history = History()
    day = start
    for n in range(rng.choice([0, 1, 2, 3, 4, 5, 6, 8])):
        day += timedelta(days=rng.choice([1, 3, 7, 10, 14, 21, 30, 45, 60, 90, 150, 400]))
        region = rng.choice(REGIONS[2:] * 3 + REGIONS)
        attributes = _attributes(rng, region)
        codes = _codes(rng, region, attributes["indication"], families)
        event_id = f"proc-{n}"
        history.procedure(event_id, day, codes, **attributes)
        for k in range(rng.choice([0, 1, 1, 2, 3])):
            history.outcome(
                event_id,
                day + timedelta(days=rng.choice([1, 3, 7, 14, 30, 45, 60, 75, 100, 130])),
                rng.choice([0, 10, 30, 40, 50, 60, 70, 80, 85, 100]),
                functional=rng.random() < 0.3,
                event_id=f"out-{n}-{k}",
            )
        if rng.random() < 0.05:
            history.void(event_id)
        if rng.random() < 0.07:
            history.surgery(
                f"surg-{n}",
                day + timedelta(days=5),
                region=region,
                levels=rng.sample(LEVELS[region], 1),
                kind=rng.choice([None, "fusion", "decompression"]),
            )
        if rng.random() < 0.05:
            history.pathology(f"path-{n}", day + timedelta(days=2), region=region)
    return history


def _clinical(rng: random.Random) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if rng.random() < 0.8:
        facts["pain_score"] = rng.choice([3, 5, 6, 7, 9])
    for fact in BOOL_FACTS:
        roll = rng.random()
        if roll < 0.55:
            facts[fact] = fact not in {"opioid_naive", "special_circumstances"}
        elif roll < 0.75:
            facts[fact] = fact in {"opioid_naive", "special_circumstances"}
    if rng.random() < 0.5:
        facts["device_reason"] = rng.choice(DEVICE_REASONS)
    return facts


def requests(seed: int = SEED, count: int = COUNT) -> Iterator[Request]:
    rng = random.Random(seed)
    for index in range(count):
        policy_set = rng.choice(SETS)
        families = SET_FAMILIES[policy_set] if rng.random() < 0.85 else ANY
        start = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 5 * 365))
        history = _history(rng, start, families)
        last = max((e.event.date_of_service for e in history.events if hasattr(e.event, "date_of_service")), default=start)  # fmt: skip
        on = last + timedelta(days=rng.choice([0, 1, 5, 7, 13, 14, 20, 30, 45, 61, 90, 200]))
        region = rng.choice(REGIONS[2:] * 2 + REGIONS)
        attributes = _attributes(rng, region)
        codes = _codes(rng, region, attributes["indication"], families)
        yield Request(index, policy_set, history, on, codes, attributes, _clinical(rng))


def answer(request: Request, decide: Any) -> str:
    """The API's JSON for a request (``decide(policy_set, state, proposed, clinical)`` returns
    the JSON text), or the 422 message of a request the set cannot decide."""
    proposed = propose(request.on, request.codes, **request.attributes)
    try:
        return str(decide(request.policy_set, request.history.state(), proposed, request.clinical))
    except PolicyLookupError as exc:
        return f"422 {exc.field}: {exc.message}"


def line(request: Request, text: str) -> str:
    verdict = text.split('"', 4)[3] if text.startswith("{") else "422"
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    return f"{request.index} {request.policy_set} {verdict} {digest}"


def api_decide(policy_set: str, state: Any, proposed: Any, clinical: dict[str, Any]) -> str:
    """Decide as ``POST /v1/eligibility`` does and return its response body."""
    from api.schemas.eligibility import EligibilityOut
    from policies import registry
    from policies.engine import decide

    decision = decide(registry.get(policy_set), state, proposed, clinical)
    return EligibilityOut.of(decision).model_dump_json()


def lines() -> list[str]:
    return [line(r, answer(r, api_decide)) for r in requests()]


if __name__ == "__main__":
    GOLDEN.write_text("\n".join(lines()) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
