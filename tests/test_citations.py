"""The guideline citations: complete, short, well formed, and verbatim in their source files.

The source files are not part of the project. The checks against them run when the seeds
folder is found (``/work/shared/seeds`` or ``../shared/seeds`` next to the repository) and are
skipped, saying so, otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies.engine import Citation
from policies.loader import load_library
from policies.sources import find_in_source, quotes

LIBRARY = load_library()
GUIDELINES = {g.id: g for s in LIBRARY.sets.values() for g in s.guidelines}
# Every quote of the shipped documents, named "<guideline> <what it stands for>".
CITATIONS: dict[str, Citation] = {
    f"{q.guideline} {q.what}": q.citation for g in GUIDELINES.values() for q in quotes(g)
}
SOURCE_FILES = frozenset(g.source for g in GUIDELINES.values())
RULE_IDS = {
    name
    for g in GUIDELINES.values()
    for r in g.rules
    if r.citation is not None
    for name in (r.id, r.key)
}
# The policy-history quotes, by the version of the guideline they introduced.
HISTORY = {
    "nia.history.esi_sustained_2_months": ("NIA_CG_300", "2024"),
    "nia.history.sij_sustained": ("NIA_CG_305", "2024"),
    "nia.history.bilateral_window": ("NIA_CG_301", "2024"),
}

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_CANDIDATES = (Path("/work/shared/seeds"), REPO_ROOT.parent / "shared" / "seeds")
SEEDS_DIR = next((p for p in SEEDS_CANDIDATES if (p / "INDEX.md").is_file()), None)
needs_seeds = pytest.mark.skipif(
    SEEDS_DIR is None,
    reason="source guidelines not found (looked in "
    + ", ".join(str(p) for p in SEEDS_CANDIDATES)
    + "); the project does not ship them",
)

REQUIRED_IDS = [
    "nia.common.initial_criteria",
    "nia.common.repeat_pain_and_therapy",
    "nia.common.same_day",
    "nia.common.cross_region_7_days",
    "nia.esi.initial_phase",
    "nia.esi.initial_interval",
    "nia.esi.initial_response",
    "nia.esi.therapeutic_sustained_relief",
    "nia.esi.first_year_cap",
    "nia.esi.annual_cap",
    "nia.esi.transforaminal_levels",
    "nia.facet.diagnostic_phase_max",
    "nia.facet.diagnostic_interval",
    "nia.facet.diagnostic_response",
    "nia.facet.therapeutic_response",
    "nia.facet.annual_cap",
    "nia.rfa.diagnostic_block_prerequisite",
    "nia.rfa.repeat_sustained_relief",
    "nia.rfa.opposite_side",
    "nia.rfa.annual_cap",
    "nia.sij.initial_interval",
    "nia.sij.initial_response",
    "nia.sij.therapeutic_sustained_relief",
    "nia.sij.annual_cap",
    "nia.sij.provocative_exam",
    "nia.sympathetic.interval",
    "nia.sympathetic.response",
    "nia.sympathetic.ptsd_caps",
    "nia.sympathetic.acute_cap",
    "nia.sympathetic.chronic_cap",
    "nia.scs.trial_criteria",
    "nia.scs.implant_after_trial",
    "nia.scs.revision_reasons",
    "nia.intrathecal_trial.opioid_tolerance",
    "nia.pump.implant_after_trial",
    "nia.pump.replacement_reasons",
    "nia.history.esi_sustained_2_months",
    "nia.history.sij_sustained",
    "nia.history.bilateral_window",
    "wa.esi.six_month_cap",
    "wa.esi.no_improvement_limit",
    "wa.sij.improvement_required",
    "wa.facet.intra_articular_not_covered",
    "wa.facet.therapeutic_mbb_not_covered",
    "wa.rfa.thoracic_not_covered",
    "wa.rfa.cervical_levels",
    "wa.rfa.lumbar_levels",
    "wa.rfa.diagnostic_blocks",
    "wa.rfa.repeat_sustained",
    "cohere.esi.six_month_cap",
    "cohere.esi.interval",
    "cohere.esi.second_response",
    "cohere.esi.third_sustained",
    "cohere.facet.second_response",
    "cohere.facet.repeat_sustained",
    "cohere.facet.fusion_exclusion",
    "cohere.rfa.diagnostic_blocks",
    "cohere.rfa.repeat_interval",
    "cohere.rfa.repeat_response",
    "cohere.cyst.repeat_interval",
    "cohere.cyst.repeat_sustained",
    "cohere.tissue.investigational",
    "cohere_ma.pump.implant_after_trial",
    "cohere_ma.pump.cancer_pain_relief",
    "cohere_ma.pump.replacement_reasons",
    "cohere_ma.pump.newer_technology",
    "cohere_ma.intrathecal_trial.criteria",
    "bcbs.stem_cell.investigational",
    "guideline.NIA_CG_300",
    "guideline.NIA_CG_408",
    "guideline.NIA_CG_301",
    "guideline.NIA_CG_302",
    "guideline.NIA_CG_305",
    "guideline.NIA_CG_310",
    "guideline.NIA_CG_405",
    "guideline.NIA_CG_404",
]

RULE_ID = re.compile(r"^(guideline\.[A-Z0-9_]+|[a-z_]+\.[a-z_]+\.[a-z0-9_]+)$")


def _has_citation(name: str) -> bool:
    if name.startswith("guideline."):
        g = GUIDELINES.get(name.removeprefix("guideline."))
        return g is not None and g.title_citation is not None
    if name in HISTORY:
        gid, vid = HISTORY[name]
        return any(v.id == vid and v.citations for v in GUIDELINES[gid].versions)
    return name in RULE_IDS


def test_every_rule_named_in_the_issues_has_a_citation() -> None:
    missing = [rule for rule in REQUIRED_IDS if not _has_citation(rule)]
    assert missing == []


@pytest.mark.parametrize("rule", sorted(RULE_IDS))
def test_rule_ids_are_well_formed(rule: str) -> None:
    assert RULE_ID.match(rule), rule


@pytest.mark.parametrize("rule", sorted(CITATIONS))
def test_citation_is_well_formed(rule: str) -> None:
    citation = CITATIONS[rule]
    assert citation.quote.strip(), "empty quote"
    assert citation.quote == citation.quote.strip(), "quote has leading/trailing whitespace"
    assert len(citation.quote) <= 400, f"quote is {len(citation.quote)} characters"
    assert citation.source in SOURCE_FILES
    assert citation.section.strip(), "empty section"


@needs_seeds
def test_every_source_file_is_listed_in_the_seeds_index() -> None:
    assert SEEDS_DIR is not None
    index = (SEEDS_DIR / "INDEX.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\b\d{3}_[0-9a-f]{16}\.txt\b", index))
    assert {c.source for c in CITATIONS.values()} <= listed
    assert listed >= SOURCE_FILES


@needs_seeds
@pytest.mark.parametrize("rule", sorted(CITATIONS))
def test_quote_is_verbatim_in_its_source(rule: str) -> None:
    assert SEEDS_DIR is not None
    citation = CITATIONS[rule]
    assert find_in_source(citation, SEEDS_DIR), (
        f"{rule}: quote not found in {citation.source}: {citation.quote!r}"
    )


# ---- find_in_source forgives whitespace and typographic quotes/dashes, nothing else --------

SOURCE_TEXT = (
    "Note: It is generally considered **not medically\n  necessary** to do\tthis.\n"
    "The patient\u2019s \u201cinability\u201d \u2013 see 2\u20133 months.\n"
)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    (tmp_path / "doc.txt").write_text(SOURCE_TEXT, encoding="utf-8")
    return tmp_path


def _found(quote: str, seeds: Path, source: str = "doc.txt") -> bool:
    return find_in_source(Citation(quote, source, "Test — Section"), seeds)


@pytest.mark.parametrize(
    "quote",
    [
        "It is generally considered **not medically necessary** to do this.",
        "It is generally considered **not   medically\nnecessary** to do this.",
        'The patient\'s "inability" - see 2-3 months.',
        "The patient\u2019s \u201cinability\u201d \u2014 see 2\u20133 months.",
        "  considered **not medically necessary**  ",
    ],
)
def test_find_in_source_ignores_whitespace_and_typography(quote: str, seeds: Path) -> None:
    assert _found(quote, seeds)


@pytest.mark.parametrize(
    "quote",
    [
        "it is generally considered **not medically necessary** to do this.",  # case
        "It is generally considered not medically necessary to do this.",  # markup
        "It is generally considered **not medically necessary** to do that.",  # a word
        "It is generally considered **notmedically necessary**",  # whitespace removed
        "see 2-4 months",
        "",
        "   ",
    ],
)
def test_find_in_source_is_otherwise_literal(quote: str, seeds: Path) -> None:
    assert not _found(quote, seeds)


def test_find_in_source_is_false_for_a_missing_file(seeds: Path) -> None:
    assert not _found("It is generally considered", seeds, source="absent.txt")
