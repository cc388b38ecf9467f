"""The CPT catalog: every procedure code the tracker accepts, as data.

One row per code says which family it belongs to, whether it is a primary code or an add-on
(and of which primary), the regions it may be billed in, the approach it implies and the
indication it requires. Nothing else in the project hard-codes CPT codes; it asks this module.

The family of a procedure is derived from its primary code and its indication, never sent by
clients: 62320-62327 with indication ``intrathecal_trial`` are an intrathecal trial rather
than an epidural steroid injection, 64999 is only a facet cyst aspiration and 20930 only a
stem-cell injection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Region(StrEnum):
    """Spinal region of a patient-region stream. ``lumbar`` is lumbosacral: it includes
    sacral/caudal epidurals and the sacroiliac joint."""

    CERVICAL = "cervical"
    THORACIC = "thoracic"
    LUMBAR = "lumbar"


class Family(StrEnum):
    ESI = "esi"
    FACET = "facet"
    RFA = "rfa"
    SIJ = "sij"
    SYMPATHETIC = "sympathetic"
    SCS = "scs"
    PUMP = "pump"
    INTRATHECAL_TRIAL = "intrathecal_trial"
    CYST_ASPIRATION = "cyst_aspiration"
    INVESTIGATIONAL = "investigational"


class RegionRule(StrEnum):
    CERVICAL_THORACIC = "cervical_thoracic"
    LUMBAR = "lumbar"
    ANY = "any"

    def allows(self, region: Region) -> bool:
        if self is RegionRule.ANY:
            return True
        if self is RegionRule.LUMBAR:
            return region is Region.LUMBAR
        return region in (Region.CERVICAL, Region.THORACIC)


@dataclass(frozen=True, slots=True)
class CptCode:
    """One catalog row."""

    code: str
    family: Family
    description: str
    add_on_to: str | None = None  # the primary code an add-on belongs to
    regions: RegionRule = RegionRule.ANY
    approach: str | None = None  # approach implied by the code (esi only)
    required_indication: str | None = None  # the code is accepted only with this indication
    trial_indication_family: bool = False  # 62320-62327: intrathecal trial with that indication
    never_limited: bool = False  # pump analysis / refill

    @property
    def is_add_on(self) -> bool:
        return self.add_on_to is not None


CT = RegionRule.CERVICAL_THORACIC
LU = RegionRule.LUMBAR

_ROWS: tuple[CptCode, ...] = (
    # Epidural steroid injections (NIA_CG_300). 62320-62323 interlaminar/caudal, 64479-64484
    # transforaminal. With indication intrathecal_trial 62320-62327 are intrathecal trials.
    CptCode(
        "62320",
        Family.ESI,
        "Interlaminar epidural, cervical/thoracic",
        regions=CT,
        approach="interlaminar",
        trial_indication_family=True,
    ),
    CptCode(
        "62321",
        Family.ESI,
        "Interlaminar epidural, cervical/thoracic, imaging",
        regions=CT,
        approach="interlaminar",
        trial_indication_family=True,
    ),
    CptCode(
        "62322",
        Family.ESI,
        "Interlaminar/caudal epidural, lumbar/sacral",
        regions=LU,
        approach="interlaminar",
        trial_indication_family=True,
    ),
    CptCode(
        "62323",
        Family.ESI,
        "Interlaminar/caudal epidural, lumbar/sacral, imaging",
        regions=LU,
        approach="interlaminar",
        trial_indication_family=True,
    ),
    CptCode(
        "62324",
        Family.INTRATHECAL_TRIAL,
        "Catheter infusion, cervical/thoracic",
        required_indication="intrathecal_trial",
        trial_indication_family=True,
    ),
    CptCode(
        "62325",
        Family.INTRATHECAL_TRIAL,
        "Catheter infusion, cervical/thoracic, imaging",
        required_indication="intrathecal_trial",
        trial_indication_family=True,
    ),
    CptCode(
        "62326",
        Family.INTRATHECAL_TRIAL,
        "Catheter infusion, lumbar/sacral",
        required_indication="intrathecal_trial",
        trial_indication_family=True,
    ),
    CptCode(
        "62327",
        Family.INTRATHECAL_TRIAL,
        "Catheter infusion, lumbar/sacral, imaging",
        required_indication="intrathecal_trial",
        trial_indication_family=True,
    ),
    CptCode(
        "64479",
        Family.ESI,
        "Transforaminal epidural, cervical/thoracic, single level",
        regions=CT,
        approach="transforaminal",
    ),
    CptCode(
        "64480",
        Family.ESI,
        "Transforaminal epidural, cervical/thoracic, each added level",
        add_on_to="64479",
        regions=CT,
        approach="transforaminal",
    ),
    CptCode(
        "64483",
        Family.ESI,
        "Transforaminal epidural, lumbar/sacral, single level",
        regions=LU,
        approach="transforaminal",
    ),
    CptCode(
        "64484",
        Family.ESI,
        "Transforaminal epidural, lumbar/sacral, each added level",
        add_on_to="64483",
        regions=LU,
        approach="transforaminal",
    ),
    # Facet joint injections and medial branch blocks (NIA_CG_301).
    CptCode("64490", Family.FACET, "Facet injection, cervical/thoracic, single level", regions=CT),
    CptCode(
        "64491",
        Family.FACET,
        "Facet injection, cervical/thoracic, second level",
        add_on_to="64490",
        regions=CT,
    ),
    CptCode(
        "64492",
        Family.FACET,
        "Facet injection, cervical/thoracic, third level",
        add_on_to="64490",
        regions=CT,
    ),
    CptCode("64493", Family.FACET, "Facet injection, lumbar/sacral, single level", regions=LU),
    CptCode(
        "64494",
        Family.FACET,
        "Facet injection, lumbar/sacral, second level",
        add_on_to="64493",
        regions=LU,
    ),
    CptCode(
        "64495",
        Family.FACET,
        "Facet injection, lumbar/sacral, third level",
        add_on_to="64493",
        regions=LU,
    ),
    CptCode(
        "0213T", Family.FACET, "Facet injection with ultrasound, cervical/thoracic", regions=CT
    ),
    CptCode(
        "0214T",
        Family.FACET,
        "Facet injection with ultrasound, cervical/thoracic, second",
        add_on_to="0213T",
        regions=CT,
    ),
    CptCode(
        "0215T",
        Family.FACET,
        "Facet injection with ultrasound, cervical/thoracic, third",
        add_on_to="0213T",
        regions=CT,
    ),
    CptCode("0216T", Family.FACET, "Facet injection with ultrasound, lumbar/sacral", regions=LU),
    CptCode(
        "0217T",
        Family.FACET,
        "Facet injection with ultrasound, lumbar/sacral, second",
        add_on_to="0216T",
        regions=LU,
    ),
    CptCode(
        "0218T",
        Family.FACET,
        "Facet injection with ultrasound, lumbar/sacral, third",
        add_on_to="0216T",
        regions=LU,
    ),
    # Facet denervation / radiofrequency ablation (NIA_CG_302).
    CptCode("64633", Family.RFA, "Facet denervation, cervical/thoracic, single joint", regions=CT),
    CptCode(
        "64634",
        Family.RFA,
        "Facet denervation, cervical/thoracic, each added joint",
        add_on_to="64633",
        regions=CT,
    ),
    CptCode("64635", Family.RFA, "Facet denervation, lumbar/sacral, single joint", regions=LU),
    CptCode(
        "64636",
        Family.RFA,
        "Facet denervation, lumbar/sacral, each added joint",
        add_on_to="64635",
        regions=LU,
    ),
    # Sacroiliac joint injection (NIA_CG_305).
    CptCode("27096", Family.SIJ, "Sacroiliac joint injection", regions=LU),
    # Sympathetic nerve blocks (NIA_CG_404).
    CptCode("64510", Family.SYMPATHETIC, "Stellate ganglion block"),
    CptCode("64517", Family.SYMPATHETIC, "Superior hypogastric plexus block"),
    CptCode("64520", Family.SYMPATHETIC, "Lumbar or thoracic paravertebral sympathetic block"),
    CptCode("64530", Family.SYMPATHETIC, "Celiac plexus block"),
    # Spinal cord stimulation (NIA_CG_405).
    CptCode("63650", Family.SCS, "Percutaneous implantation of neurostimulator electrodes"),
    CptCode("63655", Family.SCS, "Laminectomy for implantation of neurostimulator electrodes"),
    CptCode("63661", Family.SCS, "Removal of percutaneous neurostimulator electrodes"),
    CptCode("63662", Family.SCS, "Removal of laminectomy neurostimulator electrodes"),
    CptCode("63663", Family.SCS, "Revision of percutaneous neurostimulator electrodes"),
    CptCode("63664", Family.SCS, "Revision of laminectomy neurostimulator electrodes"),
    CptCode("63685", Family.SCS, "Insertion or replacement of spinal neurostimulator generator"),
    CptCode("63688", Family.SCS, "Revision or removal of spinal neurostimulator generator"),
    # Implantable infusion pumps (NIA_CG_310).
    CptCode("62350", Family.PUMP, "Implantation of intrathecal/epidural catheter"),
    CptCode("62351", Family.PUMP, "Implantation of intrathecal/epidural catheter, laminectomy"),
    CptCode("62355", Family.PUMP, "Removal of intrathecal/epidural catheter"),
    CptCode("62360", Family.PUMP, "Implantation of subcutaneous reservoir"),
    CptCode("62361", Family.PUMP, "Implantation of non-programmable pump"),
    CptCode("62362", Family.PUMP, "Implantation of programmable pump"),
    CptCode("62365", Family.PUMP, "Removal of reservoir or pump"),
    CptCode("62367", Family.PUMP, "Pump analysis", never_limited=True),
    CptCode("62368", Family.PUMP, "Pump analysis with reprogramming", never_limited=True),
    CptCode(
        "62369", Family.PUMP, "Pump analysis with reprogramming and refill", never_limited=True
    ),
    CptCode(
        "62370",
        Family.PUMP,
        "Pump analysis with reprogramming and refill by physician",
        never_limited=True,
    ),
    CptCode("95990", Family.PUMP, "Pump refill and maintenance", never_limited=True),
    CptCode("95991", Family.PUMP, "Pump refill and maintenance by physician", never_limited=True),
    # Facet cyst aspiration (Cohere Neck Pain), unlisted code.
    CptCode(
        "64999",
        Family.CYST_ASPIRATION,
        "Unlisted procedure, nervous system",
        required_indication="facet_cyst_aspiration",
    ),
    # Investigational services (Cohere tissue-based injections, Blue Cross policy 254).
    CptCode("0627T", Family.INVESTIGATIONAL, "Allogeneic disc injection, lumbar, fluoroscopy"),
    CptCode("0628T", Family.INVESTIGATIONAL, "Allogeneic disc injection, each added level"),
    CptCode("0629T", Family.INVESTIGATIONAL, "Allogeneic disc injection, lumbar, CT"),
    CptCode("0630T", Family.INVESTIGATIONAL, "Allogeneic disc injection, CT, each added level"),
    CptCode("0263T", Family.INVESTIGATIONAL, "Autologous bone marrow cell therapy, complete"),
    CptCode("0264T", Family.INVESTIGATIONAL, "Autologous bone marrow cell therapy, no harvest"),
    CptCode("0265T", Family.INVESTIGATIONAL, "Autologous bone marrow cell harvest only"),
    CptCode("0489T", Family.INVESTIGATIONAL, "Autologous adipose-derived cell harvest"),
    CptCode("0490T", Family.INVESTIGATIONAL, "Autologous adipose-derived cell injection"),
    CptCode("0565T", Family.INVESTIGATIONAL, "Autologous cellular implant, knee, harvest"),
    CptCode("0566T", Family.INVESTIGATIONAL, "Autologous cellular implant, knee, injection"),
    CptCode(
        "20930",
        Family.INVESTIGATIONAL,
        "Allograft for spine surgery (stem cell use)",
        required_indication="stem_cell",
    ),
)

CATALOG: dict[str, CptCode] = {row.code: row for row in _ROWS}

# The approach (interlaminar/caudal vs transforaminal) of esi codes; used by the esi rule
# that allows a repeat after a poor response when the approach changes.
TRANSFORAMINAL = "transforaminal"


class CatalogError(ValueError):
    """A list of codes breaks the catalog; ``field`` names the offending request field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def lookup(code: str) -> CptCode:
    try:
        return CATALOG[code]
    except KeyError:
        raise CatalogError("codes", f"unknown CPT code {code!r}") from None


@dataclass(frozen=True, slots=True)
class Classification:
    """What a procedure's code list means: its primary row, its family and implied approach."""

    primary: CptCode
    family: Family
    approach: str | None
    never_limited: bool


def classify(codes: Sequence[str], region: Region, indication: str | None) -> Classification:
    """Check a procedure's codes against the catalog and derive its family.

    Raises :class:`CatalogError` naming the field and why: unknown code, not allowed in the
    region, not exactly one primary code, an add-on without its primary, or a code that needs
    a particular indication.
    """
    if not codes:
        raise CatalogError("codes", "at least one code is required")
    rows = [lookup(code) for code in codes]
    for row in rows:
        if not row.regions.allows(region):
            allowed = "cervical or thoracic" if row.regions is CT else "lumbar"
            raise CatalogError(
                "codes",
                f"CPT {row.code} is not allowed in region {region.value} (only {allowed})",
            )
    primaries = [row for row in rows if not row.is_add_on]
    if len(primaries) != 1:
        raise CatalogError(
            "codes",
            f"exactly one primary code is required, got {len(primaries)}"
            + (f" ({', '.join(r.code for r in primaries)})" if primaries else ""),
        )
    primary = primaries[0]
    for row in rows:
        if row.is_add_on and row.add_on_to != primary.code:
            raise CatalogError(
                "codes",
                f"add-on code {row.code} needs its primary code {row.add_on_to}",
            )
    if primary.required_indication and indication != primary.required_indication:
        raise CatalogError(
            "indication",
            f"CPT {primary.code} is accepted only with indication {primary.required_indication!r}",
        )
    family = primary.family
    approach = primary.approach
    if primary.trial_indication_family and indication == "intrathecal_trial":
        family = Family.INTRATHECAL_TRIAL
        approach = None
    return Classification(
        primary=primary, family=family, approach=approach, never_limited=primary.never_limited
    )


def units_of(codes: Sequence[tuple[str, int]], *cpts: str) -> int:
    """Total units billed for the given codes."""
    return sum(units for cpt, units in codes if cpt in cpts)
