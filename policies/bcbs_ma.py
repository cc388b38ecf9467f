"""The ``bcbs-ma`` set as data: Blue Cross medical policy 254, Orthopedic Applications of
Stem Cell Therapy. Every investigational code (stem-cell and cellular therapies, allogeneic
tissue injections) is not_eligible with the policy's own words and no next eligible date;
anything else has no guideline in this set (a 422).
"""

from __future__ import annotations

from datetime import date

from policies.citations import BCBS_STEM_CELLS
from policies.engine import Guideline, GuidelineVersion, Rule

STEM_CELL_THERAPY = Guideline(
    id="BCBS_MA_254",
    title="Blue Cross medical policy 254: Orthopedic Applications of Stem Cell Therapy",
    source=BCBS_STEM_CELLS,
    families=frozenset({"investigational"}),
    versions=(
        GuidelineVersion("254", date(2010, 12, 1), {}, "medical policy 254, effective 12/01/2010"),
    ),
    rules=(
        Rule(
            "bcbs.stem_cell.investigational",
            "not_covered",
            "Stem cell therapy and the listed cellular therapy codes are investigational for "
            "all orthopedic applications.",
            {
                "message": "investigational under Blue Cross medical policy 254: not covered on "
                "any date"
            },
        ),
    ),
)

BCBS_MA_GUIDELINES: tuple[Guideline, ...] = (STEM_CELL_THERAPY,)
