"""Code systems and codes the FHIR mapping reads (checked against
``shared/reference/standards.md`` §3 and DICOM CID 4031 "Common Anatomic Region").

Data only: which system URIs name CPT and HCPCS, which SNOMED CT body sites are which spinal
region, which SNOMED CT qualifiers and billing modifiers are which laterality.
"""

from __future__ import annotations

from typing import Final

from domain.catalog import Region
from domain.vocabulary import Laterality

CPT_SYSTEM: Final = "http://www.ama-assn.org/go/cpt"
# CMS names HCPCS with its release page; both schemes are seen in the wild (CARIN uses
# https). CPT codes are HCPCS Level I, so a catalog code under a HCPCS system is accepted too.
HCPCS_SYSTEMS: Final = frozenset(
    {
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    }
)
BILLING_SYSTEMS: Final = frozenset({CPT_SYSTEM, *HCPCS_SYSTEMS})

SNOMED_SYSTEM: Final = "http://snomed.info/sct"
UCUM_SYSTEM: Final = "http://unitsofmeasure.org"
LOINC_SYSTEM: Final = "http://loinc.org"

# SNOMED CT body structures -> our region. Our ``lumbar`` region is lumbosacral: sacral
# epidurals, caudal approaches and the sacroiliac joint belong to it.
SNOMED_REGION: Final[dict[str, Region]] = {
    "122494005": Region.CERVICAL,  # Cervical spine
    "122495006": Region.THORACIC,  # Thoracic spine
    "122496007": Region.LUMBAR,  # Lumbar spine
    "1217253001": Region.LUMBAR,  # Lumbo-sacral spine
    "1217254007": Region.LUMBAR,  # Sacro-coccygeal spine
    "54735007": Region.LUMBAR,  # Sacrum
    "39723000": Region.LUMBAR,  # Sacroiliac joint
    "64688005": Region.LUMBAR,  # Coccyx
}

# SNOMED CT laterality qualifiers, and the attribute that carries one in a post-coordinated
# expression (``122496007:272741003=7771000``).
SNOMED_LATERALITY: Final[dict[str, Laterality]] = {
    "7771000": Laterality.LEFT,
    "24028007": Laterality.RIGHT,
    "51440002": Laterality.BILATERAL,
}
SNOMED_LATERALITY_ATTRIBUTE: Final = "272741003"

# Claim line modifiers: LT/RT are HCPCS Level II modifiers, 50 (bilateral) is a CPT modifier.
MODIFIER_LATERALITY: Final[dict[str, Laterality]] = {
    "LT": Laterality.LEFT,
    "RT": Laterality.RIGHT,
    "50": Laterality.BILATERAL,
}

TARGET_BODY_STRUCTURE_URL: Final = (
    "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure"
)

# Our own code system for spinal levels (``L4-L5``, ``C5-C6``, ``L5-S1``): SNOMED has no
# pre-coordinated concept for every interspace, so levels are coded here or in
# ``bodySite.text``.
LEVEL_SYSTEM: Final = "https://injection-tracker.example/fhir/CodeSystem/spinal-level"
