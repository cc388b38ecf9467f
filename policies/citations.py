"""The guideline sentences behind every policy rule: short verbatim quotes, as data.

Each rule of the policy layer answers a reviewer with the payer's own words. This module
holds those words: for every rule id (``<set>.<family>.<rule>``, e.g.
``nia.esi.initial_interval``) one :class:`Citation` with a short verbatim quote (one sentence
or clause) from the source guideline, the file it comes from and the guideline section it
sits under. Policy definitions look their citation up here by rule id; ``guideline.<ID>``
entries quote each guideline's own title line.

The source files live outside the project (``../shared/seeds/``, named by its ``INDEX.md``)
and are never shipped: the quotes are all the project keeps of them.
:func:`find_in_source` checks, when the folder is at hand, that a quote really occurs in its
file. It forgives only what text extraction varies: runs of whitespace (line breaks inside a
quote that spans list items, tabs in title lines) and typographic quotes and dashes.
Everything else is literal, including the documents' emphasis markers (``**``) and footnote
marks where a quote has to run across them.

Section naming convention: ``"<guideline> — <heading>"``, where ``<guideline>`` is the
guideline id and title for NIA (``"NIA_CG_300 Epidural Spine Injections"``), the document name
and version for the others (``"Cohere Neck Pain V3.0"``), and ``<heading>`` is the heading of
the document under which the sentence stands, title-cased, with a sub-heading after a second
``—`` where the document has one (``"Service: Epidural Steroid Injections — General
Guidelines"``). Washington State limits are under ``"Legislative Requirements — Washington"``
of the NIA guideline that prints them; policy history lines name the history entry's date;
the ``guideline.<ID>`` title quotes have the heading ``Title``.

Where the issue's rule is an interpretation, the quote is the sentence it interprets; where a
document has no sentence for exactly what a rule does, the nearest one is quoted and a comment
above the entry says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NIA = "002_fc2de44da7ae47dd.txt"
COHERE_NECK = "003_7b9ff1361290faac.txt"
COHERE_TISSUE = "000_1677e384dbe4ebfe.txt"
COHERE_MA_PUMPS = "004_360f9122cf201a7f.txt"
BCBS_STEM_CELLS = "001_d49e9b8430e4a577.txt"

SOURCE_FILES: frozenset[str] = frozenset(
    {NIA, COHERE_NECK, COHERE_TISSUE, COHERE_MA_PUMPS, BCBS_STEM_CELLS}
)


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim quote from a source guideline, with where it stands."""

    quote: str  # verbatim text from the source (whitespace may be normalised)
    source: str  # file name, e.g. "002_fc2de44da7ae47dd.txt"
    section: str  # guideline id or document, and the heading the sentence sits under


# Section prefixes (see the module docstring for the convention).
_ESI = "NIA_CG_300 Epidural Spine Injections"
_ESI_TRIALS = (
    "NIA_CG_408 Epidural Spine Injections and Single Injection Trials for Intrathecal Pumps"
)
_FACET = "NIA_CG_301 Paravertebral Facet Joint Injections or Blocks"
_RFA = "NIA_CG_302 Paravertebral Facet Joint Denervation (Radiofrequency Neurolysis)"
_SIJ = "NIA_CG_305 Sacroiliac Joint Injections"
_PUMP = "NIA_CG_310 Implantable Infusion Pump Insertion"
_SCS = "NIA_CG_405 Spinal Cord Stimulation"
_SYMP = "NIA_CG_404 Sympathetic Nerve Blocks"
_NECK = "Cohere Neck Pain V3.0"
_TISSUE = "Cohere Spinal Allogeneic Tissue-Based Injections V1.0"
_MA_PUMPS = "Cohere Medicare Advantage Intrathecal Pain Pumps V2"
_BCBS = "Blue Cross Medical Policy 254 Orthopedic Applications of Stem Cell Therapy"

_WA = "Legislative Requirements — Washington"
_ESI_REPEAT = f"{_ESI} — Indications for Repeat Injections"
_FACET_REPEAT = f"{_FACET} — Indications for Repeat Injections"
_RFA_REPEAT = f"{_RFA} — Indications for Repeat Procedures"
_SIJ_REPEAT = f"{_SIJ} — Indications for Repeat Injections"
_SYMP_REPEAT = f"{_SYMP} — Frequency of Repeat Injections"
_NECK_ESI = f"{_NECK} — Service: Epidural Steroid Injections"
_NECK_FACET = f"{_NECK} — Service: Subsequent Facet Injection/Medial Branch Block"
_NECK_RFA = f"{_NECK} — Service: Initial/Subsequent Radiofrequency Ablation (RFA)"
_NECK_CYST = f"{_NECK} — Service: Facet Cyst Aspiration"
_MA_INDICATIONS = f"{_MA_PUMPS} — Medical Necessity Criteria — Indications"


def _nia(quote: str, section: str) -> Citation:
    return Citation(quote, NIA, section)


CITATIONS: dict[str, Citation] = {
    # ---- guideline title lines -------------------------------------------------------------
    "guideline.NIA_CG_300": _nia(
        "Clinical guidelines: EPIDURAL SPINE INJECTIONS",
        f"{_ESI} — Title",
    ),
    "guideline.NIA_CG_408": _nia(
        "Clinical guidelines: EPIDURAL SPINE INJECTIONS AND SINGLE INJECTION TRIALS FOR "
        "INTRATHECAL PUMPS",
        f"{_ESI_TRIALS} — Title",
    ),
    "guideline.NIA_CG_301": _nia(
        "Clinical guidelines: PARAVERTEBRAL FACET JOINT INJECTIONS OR BLOCKS",
        f"{_FACET} — Title",
    ),
    "guideline.NIA_CG_302": _nia(
        "Clinical guidelines: PARAVERTEBRAL FACET JOINT DENERVATION (RADIOFREQUENCY NEUROLYSIS)",
        f"{_RFA} — Title",
    ),
    "guideline.NIA_CG_305": _nia(
        "Clinical guidelines: SACROILIAC JOINT INJECTIONS",
        f"{_SIJ} — Title",
    ),
    "guideline.NIA_CG_310": _nia(
        "Clinical guidelines: IMPLANTABLE INFUSION PUMP INSERTION",
        f"{_PUMP} — Title",
    ),
    "guideline.NIA_CG_405": _nia(
        "Clinical guidelines: Spinal Cord Stimulation",
        f"{_SCS} — Title",
    ),
    "guideline.NIA_CG_404": _nia(
        "Clinical guideline: SYMPATHETIC NERVE BLOCKS",
        f"{_SYMP} — Title",
    ),
    "guideline.COHERE_NECK_PAIN": Citation(
        "Neck Pain Clinical Guidelines for Medical Necessity Review Version: V3.0",
        COHERE_NECK,
        f"{_NECK} — Title",
    ),
    "guideline.COHERE_TISSUE_INJECTIONS": Citation(
        "Spinal Allogeneic Tissue-Based Injections Clinical Guidelines for Medical Necessity "
        "Review Version: 1.0",
        COHERE_TISSUE,
        f"{_TISSUE} — Title",
    ),
    "guideline.COHERE_MA_INTRATHECAL_PUMPS": Citation(
        "Cohere Medicare Advantage Policy -Intrathecal Pain Pumps",
        COHERE_MA_PUMPS,
        f"{_MA_PUMPS} — Title",
    ),
    "guideline.BCBS_MA_254": Citation(
        "Orthopedic Applications of Stem Cell Therapy (Including Allograft and Bone Substitute "
        "Products Used with Autologous Bone Marrow)",
        BCBS_STEM_CELLS,
        f"{_BCBS} — Title",
    ),
    # ---- nia: common to the injection guidelines (quoted from NIA_CG_300) ------------------
    "nia.common.initial_criteria": _nia(
        "Any injection performed at least two years from prior injections in the same region "
        "will be considered a new episode of care and the **INITIAL** injection requirements "
        "must be met for approval.",
        f"{_ESI} — General Information",
    ),
    # Two consecutive list items (pain level, then conservative therapy); the footnote mark
    # of the first stands between them in the source.
    "nia.common.repeat_pain_and_therapy": _nia(
        "The individual continues to have pain causing functional disability or average pain "
        "level ≥ 6 on a scale of 0 to 10^{2, 3, 5} - The individual is engaged in ongoing "
        "active conservative therapy*, unless the medical reason this treatment cannot be done "
        "is clearly documented",
        _ESI_REPEAT,
    ),
    "nia.common.same_day": _nia(
        "It is generally considered **not medically necessary** to perform multiple "
        "interventional pain procedures on the same date of service.",
        f"{_ESI_REPEAT} — Note",
    ),
    "nia.common.same_day_other_region": _nia(
        "Documentation of a medical reason to perform injections in different regions on the "
        "same day can be provided and will be considered on a case-by-case basis",
        f"{_ESI_REPEAT} — Note",
    ),
    "nia.common.same_day_synovial_cyst": _nia(
        "Different types of injections in the same spinal region (cervical, thoracic, or "
        "lumbar) should not be done on the same day with the exception of a facet injection "
        "and ESI performed during the same session for a synovial cyst confirmed on imaging.",
        f"{_ESI_REPEAT} — Note",
    ),
    "nia.common.cross_region_7_days": _nia(
        "If different spinal regions are being treated, injections should be administered at "
        "intervals of no sooner than 7 days unless a medical reason is provided to necessitate "
        "injecting multiple regions on the same date of service",
        _ESI_REPEAT,
    ),
    # ---- nia esi (NIA_CG_300) ----------------------------------------------------------------
    "nia.esi.initial_phase": _nia(
        "Up to 3 epidural injections may be performed in the initial treatment phase",
        _ESI_REPEAT,
    ),
    "nia.esi.initial_interval": _nia(
        "Up to 3 epidural injections may be performed in the initial treatment phase, no sooner "
        "than 2 weeks apart",
        _ESI_REPEAT,
    ),
    "nia.esi.initial_response": _nia(
        "Up to 3 epidural injections may be performed in the initial treatment phase, no sooner "
        "than 2 weeks apart, provided that at least 30% pain relief or significant documented "
        "functional improvement is obtained",
        _ESI_REPEAT,
    ),
    # The exception of nia.esi.initial_response (different levels or approach).
    "nia.esi.different_level_or_technique": _nia(
        "If an injection during the initial treatment phase is unsuccessful, another injection "
        "may be performed at a different level in the **same spinal region** or with a change "
        "in technique",
        _ESI_REPEAT,
    ),
    "nia.esi.therapeutic_sustained_relief": _nia(
        "Epidural injections may only be repeated after the initial treatment phase if the "
        "individual has had at least 50% pain relief or significant documented functional "
        "improvement for a **minimum of 2 months** after each therapeutic injection",
        _ESI_REPEAT,
    ),
    "nia.esi.first_year_cap": _nia(
        "In the first year of treatment, a total of 6 epidural injections may be performed "
        "**per spinal region** (this includes a series of 3 injections in the initial treatment "
        "phase and 3 additional therapeutic injections)",
        _ESI_REPEAT,
    ),
    "nia.esi.annual_cap": _nia(
        "After the first year of treatment, a maximum of 4 epidural injections may be performed "
        "in a 12-month period **per spinal region**.",
        _ESI_REPEAT,
    ),
    "nia.esi.annual_cap_special_circumstances": _nia(
        "If special circumstances are documented (e.g., elderly individual with severe spinal "
        "stenosis and not an operative candidate), then repeat injections are limited to a "
        "maximum of 6 epidural injections in a 12-month period per spinal region.",
        _ESI_REPEAT,
    ),
    "nia.esi.transforaminal_levels": _nia(
        "No more than 2 levels of transforaminal blocks should be done in one day.",
        f"{_ESI} — Indications for Epidural Spine Injections or Selective Nerve Blocks — Note",
    ),
    # ---- nia facet (NIA_CG_301) ------------------------------------------------------------
    "nia.facet.diagnostic_phase_max": _nia(
        "In the diagnostic phase, a maximum of 2 procedures may be performed.",
        _FACET_REPEAT,
    ),
    "nia.facet.diagnostic_interval": _nia(
        "Up to 2 injections may be performed in the initial diagnostic phase, no sooner than 2 "
        "weeks apart",
        _FACET_REPEAT,
    ),
    "nia.facet.diagnostic_interval_local_anesthetic": _nia(
        "If the most recent injection was a diagnostic block with local anesthetic only, there "
        "must be at least 7 days between injections",
        _FACET_REPEAT,
    ),
    "nia.facet.diagnostic_response": _nia(
        "Up to 2 injections may be performed in the initial diagnostic phase, no sooner than 2 "
        "weeks apart, provided at least 50% pain relief or significant documented functional "
        "improvement is obtained",
        _FACET_REPEAT,
    ),
    # The exception of nia.facet.diagnostic_response (different levels or approach).
    "nia.facet.different_level_or_technique": _nia(
        "If the first injection is unsuccessful, a second injection may be performed at a "
        "different spinal level or with a change in technique",
        _FACET_REPEAT,
    ),
    "nia.facet.therapeutic_response": _nia(
        "Facet joint injections may only be repeated after the initial diagnostic phase if the "
        "individual has had at least 50% pain relief or significant documented functional "
        "improvement for a **minimum of 2 months** after each therapeutic injection",
        _FACET_REPEAT,
    ),
    # The facet exception to nia.common.repeat_pain_and_therapy.
    "nia.facet.diagnostic_therapy_exemption": _nia(
        "Diagnostic injections within 1 month of the previous injection do not require "
        "documentation of ongoing active conservative therapy",
        _FACET_REPEAT,
    ),
    # "unusual circumstances" is what special_circumstances lifts the cap for.
    "nia.facet.annual_cap": _nia(
        "A maximum of 4 facet injections may be performed in a 12-month period **per spinal "
        "region** (except under unusual circumstances, such as a recurrent injury).",
        _FACET_REPEAT,
    ),
    "nia.facet.bilateral_pair": _nia(
        "Unilateral injections performed at the same level on the right vs. left within 1 month "
        "of each other would be considered as one procedure toward the total number of facet "
        "procedures allowed per 12 months.",
        _FACET_REPEAT,
    ),
    # ---- nia rfa (NIA_CG_302) --------------------------------------------------------------
    "nia.rfa.diagnostic_block_prerequisite": _nia(
        "Positive response to at least one local anesthetic block of the facet joint nerves "
        "(medial branch blocks), with at least 70% pain relief or improved ability to function",
        f"{_RFA} — Indications for Paravertebral Facet Joint Denervation/Radiofrequency Neurolysis",
    ),
    "nia.rfa.repeat_sustained_relief": _nia(
        "Positive response to prior radiofrequency denervation procedures with at least 50% "
        "pain relief or improved ability to function for at least 4 months",
        _RFA_REPEAT,
    ),
    "nia.rfa.opposite_side": _nia(
        "Opposite side denervation procedures performed at the same level(s) within 1 month of "
        "the first side do not require follow-up information to be submitted.",
        _RFA_REPEAT,
    ),
    "nia.rfa.opposite_side_no_interval": _nia(
        "There is no minimum timeframe required between these procedures on the right vs left.",
        _RFA_REPEAT,
    ),
    "nia.rfa.annual_cap": _nia(
        "A maximum of 2 facet denervation procedures may be performed in a 12-month period "
        "**per spinal region**",
        _RFA_REPEAT,
    ),
    "nia.rfa.bilateral_pair": _nia(
        "Unilateral radiofrequency denervation's performed at the same level(s) on the right vs "
        "left within 1 month of each other would be considered as one procedure toward the "
        "total number of radiofrequency procedures allowed per 12 months.",
        _RFA_REPEAT,
    ),
    # ---- nia sij (NIA_CG_305) --------------------------------------------------------------
    "nia.sij.initial_phase": _nia(
        "Up to 2 sacroiliac joint injections may be performed in the initial treatment phase",
        _SIJ_REPEAT,
    ),
    "nia.sij.initial_interval": _nia(
        "Up to 2 sacroiliac joint injections may be performed in the initial treatment phase, no "
        "sooner than 2 weeks apart",
        _SIJ_REPEAT,
    ),
    "nia.sij.initial_response": _nia(
        "Up to 2 sacroiliac joint injections may be performed in the initial treatment phase, no "
        "sooner than 2 weeks apart, provided that at least 50% pain relief or significant "
        "documented functional improvement is obtained",
        _SIJ_REPEAT,
    ),
    "nia.sij.therapeutic_sustained_relief": _nia(
        "Sacroiliac joint injections may only be repeated after the initial treatment phase if "
        "the individual has had at least 50% pain relief or significant documented functional "
        "improvement for a **minimum of 2 months** after each therapeutic injection",
        _SIJ_REPEAT,
    ),
    "nia.sij.annual_cap": _nia(
        "A maximum of 4 sacroiliac joint injections may be performed in a 12-month period",
        _SIJ_REPEAT,
    ),
    "nia.sij.provocative_exam": _nia(
        "For individuals that have received other interventional pain injections in the "
        "lumbar/sacral region (e.g., epidural steroid injection or facet joint injection) since "
        "the last SIJ injection, repeat positive provocative exam findings are required",
        _SIJ_REPEAT,
    ),
    # ---- nia sympathetic (NIA_CG_404) --------------------------------------------------------
    "nia.sympathetic.interval": _nia(
        "It has been at least one week since the prior sympathetic nerve block",
        _SYMP_REPEAT,
    ),
    "nia.sympathetic.response": _nia(
        "The previous sympathetic nerve block resulted in at least 50% pain relief or "
        "significant documented functional improvement for at least the duration of the local "
        "anesthetic",
        f"{_SYMP_REPEAT} — For the Treatment of Pain",
    ),
    "nia.sympathetic.ptsd_response": _nia(
        "The previous stellate ganglion block resulted in at least 50% reduction in symptoms or "
        "significant documented functional improvement for at least the duration of the local "
        "anesthetic",
        f"{_SYMP_REPEAT} — For the Treatment of PTSD",
    ),
    "nia.sympathetic.ptsd_caps": _nia(
        "No more than three blocks in the first 12 weeks, with no more than 6 blocks per year",
        f"{_SYMP_REPEAT} — For the Treatment of PTSD",
    ),
    "nia.sympathetic.acute_cap": _nia(
        "For acute pain, no more than 6 sympathetic block procedures per region per year",
        f"{_SYMP_REPEAT} — For the Treatment of Pain",
    ),
    "nia.sympathetic.chronic_cap": _nia(
        "For chronic pain, no more than 4 sympathetic block procedures per region per year",
        f"{_SYMP_REPEAT} — For the Treatment of Pain",
    ),
    # ---- nia devices and trials (NIA_CG_405, NIA_CG_408, NIA_CG_310) ------------------------
    "nia.scs.trial_criteria": _nia(
        "A spinal cord stimulation trial is appropriate when ALL the following criteria are met",
        f"{_SCS} — Indications for Spinal Cord Stimulation (SCS)",
    ),
    "nia.scs.implant_after_trial": _nia(
        "Documentation of a successful trial of the temporary SCS device providing at least 50% "
        "reduction in pain and significant functional improvement for a minimum duration of 3 "
        "days",
        f"{_SCS} — Indications for Spinal Cord Stimulation (SCS) — Permanent Stimulator",
    ),
    "nia.scs.same_device_type": _nia(
        "The same type of stimulator device will be used",
        f"{_SCS} — Indications for Spinal Cord Stimulation (SCS) — Permanent Stimulator",
    ),
    # The heading sentence and its list items, which name the reasons.
    "nia.scs.revision_reasons": _nia(
        "Revision or removal of a spinal cord stimulator device is indicated with ONE of the "
        "following: - Migration of lead(s) - Loss of effectiveness - Intolerance by the "
        "individual - Infection - Painful generator site - Development of neurological deficits "
        "- Patient demand",
        f"{_SCS} — Indications for Spinal Cord Stimulation (SCS) — Revision or Removal",
    ),
    # The guideline says no more than this about opioid tolerance; the spasticity trial
    # (antispasmodic agent) has its own criteria without it.
    "nia.intrathecal_trial.opioid_tolerance": _nia(
        "Intrathecal trials are not indicated in opiate-naïve individuals.",
        f"{_ESI_TRIALS} — Intraspinal Drug Trials for Chronic Intractable Pain or Spasticity",
    ),
    "nia.pump.implant_after_trial": _nia(
        "Documentation of a successful trial of intraspinal (intrathecal or epidural) opioid "
        "medication administered as a bolus or by continuous infusion providing at least 50% "
        "pain relief with tolerable side effects",
        f"{_PUMP} — Indications for Implantable Infusion Pump Insertion",
    ),
    "nia.pump.replacement_reasons": _nia(
        "Replacement of an Implanted Infusion Pump is indicated with one of the following: - "
        "Documentation of a pump malfunction impairing function or safety - Battery depletion",
        f"{_PUMP} — Indications for Pump Replacement",
    ),
    # Nearest text: the guideline lists the codes it governs and sets criteria only for a
    # trial, a permanent stimulator and a revision or removal; other procedures pass.
    "nia.scs.not_limited": _nia(
        "CPT Codes: 63650, 63655, 63661, 63662, 63663, 63664, 63685, 63688",
        f"{_SCS} — Title",
    ),
    "nia.intrathecal_trial.spasticity": _nia(
        "An intraspinal drug trial for the treatment of spasticity in non-terminal individuals "
        "is appropriate when ALL the following criteria are met",
        f"{_ESI_TRIALS} — Intraspinal Drug Trials for Chronic Intractable Pain or Spasticity",
    ),
    # Nearest text: the codes the guideline governs; refills and pump analyses (62367-62370,
    # 95990, 95991) are not among them and no criteria limit them.
    "nia.pump.not_limited": _nia(
        "CPT Codes: 62350, 62351, 62355, 62360, 62361, 62362",
        f"{_PUMP} — Title",
    ),
    # ---- nia policy history (the versions) -------------------------------------------------
    # The history line reads "6 weeks 2 months": the struck-out old value followed by the new
    # one, as the text extraction left it.
    "nia.history.esi_sustained_2_months": _nia(
        "Changed pain relief period after initial injection: At least 50% or more pain relief "
        "obtained for a minimum of 6 weeks 2 months after initial injections",
        f"{_ESI} — Policy History — January 2022",
    ),
    "nia.history.sij_sustained": _nia(
        "Adjusted time interval for repeat injections from minimum of 6 weeks to 2 months after "
        "each injection",
        f"{_SIJ} — Policy History — May 2023",
    ),
    # Nearest text: the facet history line does not say which interval it extended; read
    # with the guideline it is the right/left pairing window ("within 1 month of each
    # other"). The rfa history lines below are explicit.
    "nia.history.bilateral_window": _nia(
        "Extended the interval from 2 weeks to 1 month",
        f"{_FACET} — Policy History — May 2022",
    ),
    "nia.history.rfa_bilateral_window": _nia(
        "Increased interval time frame from 2 weeks to 1 month for unilateral rf denervation's "
        "performed at same level",
        f"{_RFA} — Policy History — May 2022",
    ),
    "nia.history.rfa_opposite_side_window": _nia(
        "Increased interval time from 2 weeks to 1 month for 2nd side denervation procedures",
        f"{_RFA} — Policy History — May 2022",
    ),
    # ---- nia-wa: Washington HCA limits printed inside the NIA guidelines ---------------------
    "wa.esi.chronic_therapeutic_scope": _nia(
        "Therapeutic epidural injections in the lumbar or cervical-thoracic spine for chronic "
        "pain are a covered benefit when all of the following conditions are met",
        f"{_ESI} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.esi.six_month_cap": _nia(
        "Maximum of three in six months.",
        f"{_ESI} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    # "clinically meaningful improvement" is what the rule reads as meeting 30%.
    "wa.esi.no_improvement_limit": _nia(
        "No more than two without clinically meaningful improvement in pain and function",
        f"{_ESI} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.sij.chronic_therapeutic_scope": _nia(
        "Therapeutic sacroiliac joint injections for chronic pain is a covered benefit when all "
        "of the following conditions are met",
        f"{_SIJ} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.sij.improvement_required": _nia(
        "No more than one without clinically meaningful improvement in pain and function, "
        "subject to agency review",
        f"{_SIJ} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    # The document says "facet injections"; the rule reads them as intra-articular injections
    # (medial branch blocks being named separately in the same sentence).
    "wa.facet.intra_articular_not_covered": _nia(
        "Therapeutic medial branch nerve block injections, intradiscal injections and facet "
        "injections are not a covered benefit.",
        f"{_FACET} — {_WA} — HCA Health Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.facet.therapeutic_mbb_not_covered": _nia(
        "Therapeutic medial branch nerve block injections, intradiscal injections and facet "
        "injections are not a covered benefit.",
        f"{_FACET} — {_WA} — HCA Health Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.rfa.thoracic_not_covered": _nia(
        "Facet Neurotomy for the thoracic spine is **not covered**.",
        f"{_RFA} — {_WA} — Non-Covered Indicators",
    ),
    "wa.rfa.cervical_levels": _nia(
        "Limited to C3 - 4, through C6 -7",
        f"{_RFA} — {_WA} — Cervical Facet Neurotomy",
    ),
    "wa.rfa.cervical_one_joint": _nia(
        "One joint per each intervention",
        f"{_RFA} — {_WA} — Cervical Facet Neurotomy",
    ),
    # The document counts joints per intervention; the rule reads them as levels.
    "wa.rfa.lumbar_levels": _nia(
        "One or two joints per each intervention",
        f"{_RFA} — {_WA} — Lumbar Facet Neurotomy",
    ),
    "wa.rfa.diagnostic_blocks": _nia(
        "Patient must be selected by at least 80% improvement in pain after each of two "
        "differential medial branch blocks, one short-acting; one long-acting",
        f"{_RFA} — {_WA} — Lumbar Facet Neurotomy",
    ),
    "wa.rfa.diagnostic_blocks_cervical": _nia(
        "Patient must be selected by 100% improvement in pain after each of two differential "
        "medial branch blocks, one short-acting; one long-acting",
        f"{_RFA} — {_WA} — Cervical Facet Neurotomy",
    ),
    # "clinically significant improvement" is what the rule reads as meeting 30%; the same
    # clause stands under both the lumbar and the cervical conditions.
    "wa.rfa.repeat_sustained": _nia(
        "with documented, clinically significant improvement in pain and/or function for six "
        "months before further neurotomy at any level",
        f"{_RFA} — {_WA} — Lumbar Facet Neurotomy",
    ),
    # ---- cohere: Neck Pain V3.0 (003) and Tissue-Based Injections V1.0 (000) ------------------
    "cohere.esi.six_month_cap": Citation(
        "When the medical necessity criteria are met, a total of 3 epidural steroid injections "
        "per episode of pain per region may be performed in 6 months.",
        COHERE_NECK,
        f"{_NECK_ESI} — General Guidelines",
    ),
    "cohere.esi.interval": Citation(
        "The patient has had fewer than 3 epidural steroid injections per region within the "
        "past 6 months with at least 3 weeks in between injections",
        COHERE_NECK,
        f"{_NECK_ESI} — Indications",
    ),
    # Nearest text: "Criteria for Subsequent Requests" allows a second injection after one in
    # six months without a threshold; the 50% comes from this indication.
    "cohere.esi.second_response": Citation(
        "with at least 3 weeks in between injections, at which time the patient had 50% "
        "improvement of symptoms.",
        COHERE_NECK,
        f"{_NECK_ESI} — Indications",
    ),
    "cohere.esi.third_sustained": Citation(
        "If the patient has had two or more epidural steroid injections in the past six months "
        "and the previous injection resulted in a 50% improvement of symptoms for three months, "
        "another injection may be considered.",
        COHERE_NECK,
        f"{_NECK_ESI} — General Guidelines",
    ),
    "cohere.facet.second_response": Citation(
        "For second injections, the previous injection must result in greater than 80% relief "
        "of symptoms.",
        COHERE_NECK,
        f"{_NECK_FACET} — General Guidelines",
    ),
    "cohere.facet.repeat_sustained": Citation(
        "If the patient has had greater than or equal to 2 injections, the previous injection "
        "must result in 50% improvement of symptoms for 3 months.",
        COHERE_NECK,
        f"{_NECK_FACET} — General Guidelines",
    ),
    "cohere.facet.fusion_exclusion": Citation(
        "Previous fusion at the symptomatic level",
        COHERE_NECK,
        f"{_NECK_FACET} — Non-Indications",
    ),
    "cohere.rfa.diagnostic_blocks": Citation(
        "The patient has had 2 or more medial branch diagnostic nerve blocks to locate the "
        "target level and they have provided 50% or greater relief of symptoms.",
        COHERE_NECK,
        f"{_NECK_RFA} — Indications",
    ),
    "cohere.rfa.repeat_interval": Citation(
        "Patients may receive a second radiofrequency ablation after 6 months",
        COHERE_NECK,
        f"{_NECK_RFA} — General Guidelines",
    ),
    "cohere.rfa.repeat_response": Citation(
        "Patients may receive a second radiofrequency ablation after 6 months if there was a "
        "50% improvement of symptoms.",
        COHERE_NECK,
        f"{_NECK_RFA} — General Guidelines",
    ),
    "cohere.cyst.first_request": Citation(
        "If this is the first request for a Cyst Aspiration and **ALL** of the following are "
        "**TRUE**",
        COHERE_NECK,
        f"{_NECK_CYST} — Indications",
    ),
    "cohere.cyst.repeat_interval": Citation(
        "Patients may receive a second Cyst Aspiration/Rupture after 3 months",
        COHERE_NECK,
        f"{_NECK_CYST} — General Guidelines",
    ),
    "cohere.cyst.repeat_sustained": Citation(
        "Experience greater than or equal to 50% or more consistent improvement in pain for at "
        "least 3 months.",
        COHERE_NECK,
        f"{_NECK_CYST} — Indications",
    ),
    "cohere.tissue.investigational": Citation(
        "These injections are considered experimental/ investigational for treating "
        "musculoskeletal conditions.",
        COHERE_TISSUE,
        f"{_TISSUE} — Service: Spinal Allogeneic Tissue-Based Injections — Non-Indications",
    ),
    # ---- cohere-ma: Medicare Advantage Intrathecal Pain Pumps V2 (004) ------------------------
    "cohere_ma.pump.implant_after_trial": Citation(
        "The request is for a permanent intrathecal pain pump, and the initial injection or "
        "infusion demonstrates an improvement of at least 50% pain relief (including effects on "
        "the activities of daily living) prior to permanent implantation",
        COHERE_MA_PUMPS,
        f"{_MA_INDICATIONS} — Chronic, Non-Malignant Pain",
    ),
    "cohere_ma.pump.cancer_pain_relief": Citation(
        "The request is for a permanent intrathecal pain pump, and the initial injection or "
        "infusion demonstrates adequate pain relief prior to permanent implantation",
        COHERE_MA_PUMPS,
        f"{_MA_INDICATIONS} — Malignant Cancer-Related Pain",
    ),
    # The list items under "Replacement of an intrathecal pain pump is medically necessary
    # when ANY of the following is TRUE" (the same three under each indication).
    "cohere_ma.pump.replacement_reasons": Citation(
        "The device is not functioning, and the rationale is documented in the chart (e.g., "
        "pump interrogation report, imaging reports, pump flow study, end of battery life); OR "
        "- Device recalled by the manufacturer; OR - Notification received from the pump "
        "indicating an impending failure",
        COHERE_MA_PUMPS,
        f"{_MA_INDICATIONS} — Malignant Cancer-Related Pain — Replacement",
    ),
    "cohere_ma.pump.newer_technology": Citation(
        "Requests for a replacement or upgrade if the current device is functional despite "
        "newer technology being available.",
        COHERE_MA_PUMPS,
        f"{_MA_PUMPS} — Medical Necessity Criteria — Non-Indications",
    ),
    # Nearest text: a refill's description in the policy's code list; the policy sets
    # criteria only for a trial, a permanent pump and a replacement.
    "cohere_ma.pump.not_limited": Citation(
        "Refilling and maintenance of implantable pump or reservoir for drug delivery, spinal "
        "(intrathecal, epidural) or brain (intraventricular), includes electronic analysis of "
        "pump, when performed",
        COHERE_MA_PUMPS,
        f"{_MA_PUMPS} — Procedure Codes (CPT/HCPCS)",
    ),
    # A list item: the trial is one of the requests the indication allows.
    "cohere_ma.intrathecal_trial.criteria": Citation(
        "The request is for an intrathecal pain pump trial",
        COHERE_MA_PUMPS,
        _MA_INDICATIONS,
    ),
    # ---- bcbs-ma: Blue Cross policy 254 (001) -------------------------------------------------
    "bcbs.stem_cell.investigational": Citation(
        "The following CPT codes are considered investigational for Commercial Members: Managed "
        "Care (HMO and POS), PPO, Indemnity, Medicare HMO Blue and Medicare PPO Blue",
        BCBS_STEM_CELLS,
        f"{_BCBS} — CPT Codes / HCPCS Codes / ICD Codes",
    ),
    # ---- criteria the guidelines state beyond intervals, caps and relief (issue 9) --------
    # Initial criteria, one sentence each (the same lines stand under each guideline's
    # indications; quoted from the first guideline that uses the rule).
    "nia.common.initial_pain": _nia(
        "Pain causing functional disability or average pain level of ≥ 6 on a scale of 0 to 10",
        f"{_ESI} — Indications for Epidural Spine Injections or Selective Nerve Blocks",
    ),
    "nia.common.initial_conservative_therapy": _nia(
        "Failure to respond to non-operative conservative therapy* targeting the requested "
        "spinal region for a minimum of 6 weeks in the last 6 months unless the medical reason "
        "this treatment cannot be done is clearly documented",
        f"{_ESI} — Indications for Epidural Spine Injections or Selective Nerve Blocks",
    ),
    "nia.common.initial_duration": _nia(
        "Duration of pain of at least **3 months**",
        f"{_FACET} — Indications for Facet Joint Injections or Medial Branch Nerve Blocks",
    ),
    "nia.esi.acute_pain_criteria": _nia(
        "Duration of pain < 3 months",
        f"{_ESI} — Indications for Epidural Spine Injections or Selective Nerve Blocks",
    ),
    "nia.esi.diagnostic_transforaminal_only": _nia(
        "For a diagnostic transforaminal injection to identify the pain generator for surgical "
        "planning ALL of the following must be met",
        f"{_ESI} — Indications for Epidural Spine Injections or Selective Nerve Blocks",
    ),
    "nia.esi.diagnostic_surgical_plan": _nia(
        "Documentation of a pre-operative evaluation and plan for surgery",
        f"{_ESI} — Indications for Epidural Spine Injections or Selective Nerve Blocks",
    ),
    "nia.esi.diagnostic_max": _nia(
        "Removed 'Therapeutic' from Section Title (since up to 3 diagnostic injections are "
        "allowed by GL)",
        f"{_ESI} — Policy History — May 2022",
    ),
    "nia.esi.exclusion_post_operative": _nia("Post-operative pain control", f"{_ESI} — Exclusions"),
    "nia.esi.exclusion_surgical_anesthesia": _nia(
        "Caudal or spinal anesthesia for surgery", f"{_ESI} — Exclusions"
    ),
    "nia.history.esi_exclusion_anesthesia": _nia(
        "Added caudal or spinal anesthesia for surgery", f"{_ESI} — Policy History — May 2022"
    ),
    "nia.esi.contraindications": _nia(
        "Active systemic or spinal infection - Skin infection at the site of needle puncture - "
        "Severe spinal stenosis resulting in intraspinal obstruction",
        f"{_ESI} — Contraindications for Epidural Injections",
    ),
    "nia.facet.exclusion_atlantoaxial": _nia(
        "Atlantoaxial joint injections (C1-2)", f"{_FACET} — Exclusions"
    ),
    "nia.facet.exclusion_sacral_lateral_branch": _nia(
        "Sacral lateral branch blocks (S1, S2, S3)", f"{_FACET} — Exclusions"
    ),
    # The May 2022 entry added the exclusions section with lateral branch blocks in it; the
    # May 2023 entry named the sacral ones (S1-S3) and added C1-2 and hardware injections.
    "nia.history.facet_exclusions_2022": _nia(
        "Added an Exclusions section, including lateral branch blocks and occipital nerve blocks",
        f"{_FACET} — Policy History — May 2022",
    ),
    "nia.history.facet_exclusions_2023": _nia(
        "Added to exclusions", f"{_FACET} — Policy History — May 2023"
    ),
    "nia.facet.contraindications": _nia(
        "Active systemic or spinal infection - Skin infection at the site of needle puncture - "
        "Inability to obtain percutaneous access to the target facet joint",
        f"{_FACET} — Contraindications for Facet Joint Injections",
    ),
    # Before May 2022 only fluoroscopic or CT guidance qualified: the ultrasound-guided codes
    # (0213T, 0216T) were not among the procedures the guideline allowed.
    "nia.facet.fluoroscopic_or_ct_before_2022": _nia(
        "Add US guidance for procedure as option (in addition to fluoroscopic or CT guidance)",
        f"{_FACET} — Policy History — May 2022",
    ),
    "nia.rfa.exclusion_sacral": _nia(
        "Radiofrequency denervation of the sacroiliac joint and/or sacral lateral branches "
        "(S1, S2, S3)",
        f"{_RFA} — Exclusions",
    ),
    "nia.history.rfa_exclusions": _nia(
        "Added Exclusions section, including Denervation of any nerves other than medial branch "
        "nerves (i.e., sacroiliac joint denervation, sacral lateral branch denervation, etc.)",
        f"{_RFA} — Policy History — May 2022",
    ),
    "nia.rfa.contraindications": _nia(
        "Active systemic or spinal infection - Skin infection at the site of needle puncture",
        f"{_RFA} — Contraindications for Facet Joint Denervation",
    ),
    "nia.sij.contraindications": _nia(
        "Active systemic or spinal infection - Skin infection at the site of needle puncture",
        f"{_SIJ} — Contraindications for Sacroiliac Joint Injections",
    ),
    "nia.sympathetic.ptsd_stellate_only": _nia(
        "Stellate ganglion block can be performed for treatment of PTSD",
        f"{_SYMP} — Indications for Sympathetic Nerve Block — For the Treatment of PTSD",
    ),
    "nia.sympathetic.acute_pain_criteria": _nia(
        "Duration of pain < 3 months",
        f"{_SYMP} — Indications for Sympathetic Nerve Block — For the Treatment of Acute Pain",
    ),
    "nia.sympathetic.chronic_pain_duration": _nia(
        "Duration of pain ≥ 3 months",
        f"{_SYMP} — Indications for Sympathetic Nerve Block — For the Treatment of Chronic Pain",
    ),
    "nia.sympathetic.chronic_one_extremity": _nia(
        "Pain in one upper extremity with or without associated pain on the same side in the "
        "upper trunk, head, or neck",
        f"{_SYMP} — Indications for Sympathetic Nerve Block — For the Treatment of Chronic Pain",
    ),
    "nia.sympathetic.contraindications": _nia(
        "Active systemic or spinal infection - Skin infection at the site of needle puncture",
        f"{_SYMP} — Contraindications for Sympathetic Nerve Blocks",
    ),
    "nia.history.contraindications_added": _nia(
        "Added Contraindications section", f"{_SYMP} — Policy History — May 2022"
    ),
    "nia.scs.trial_requirements": _nia(
        "Failure to respond to non-operative conservative therapy* for a minimum of 6 months "
        "unless the medical reason this treatment cannot be done is clearly documented",
        f"{_SCS} — Indications for Spinal Cord Stimulation (SCS)",
    ),
    "nia.scs.psychological_assessment": _nia(
        "A completed psychological assessment that documents the following",
        f"{_SCS} — Indications for Spinal Cord Stimulation (SCS)",
    ),
    "nia.scs.contraindications": _nia(
        "Active systemic or spinal infection - Body habitus that is insufficient to support the "
        "weight and bulk of the device",
        f"{_SCS} — Contraindications for Spinal Cord Stimulation",
    ),
    "nia.intrathecal_trial.pain_criteria": _nia(
        "Failure to respond to non-operative conservative therapy* targeting the requested "
        "spinal region for a minimum of 12 weeks unless the medical reason this treatment cannot "
        "be done is clearly documented",
        f"{_ESI_TRIALS} — Intraspinal Drug Trials for Chronic Intractable Pain or Spasticity",
    ),
    "nia.intrathecal_trial.spasticity_criteria": _nia(
        "Failure to respond to a minimum of 12 weeks of standard therapies",
        f"{_ESI_TRIALS} — Intraspinal Drug Trials for Chronic Intractable Pain or Spasticity",
    ),
    "nia.intrathecal_trial.contraindications": _nia(
        "Active systemic or spinal infection - Skin infection at the site of needle puncture - "
        "Severe spinal stenosis resulting in intraspinal obstruction - Body habitus that is "
        "insufficient to support the weight and bulk of the device",
        f"{_ESI_TRIALS} — Contraindications",
    ),
    "nia.pump.spasticity_trial": _nia(
        "Documentation of a successful trial of intraspinal (intrathecal or epidural) "
        "antispasmodic medication administered as a bolus or by continuous infusion providing "
        "at least 50% spasm relief with tolerable side effects",
        f"{_PUMP} — Indications for Implantable Infusion Pump Insertion",
    ),
    "nia.pump.implant_requirements": _nia(
        "Documentation of a completed psychological assessment prior to permanent pump insertion",
        f"{_PUMP} — Indications for Implantable Infusion Pump Insertion",
    ),
    "nia.pump.pain_level": _nia(
        "Added OR persistent pain levels 6 or greater on a 10-point scale despite treatment",
        f"{_PUMP} — Policy History — May 2022",
    ),
    "nia.pump.opioid_medication": _nia(
        "At least 12 weeks of oral or transdermal opiate pain medications",
        f"{_PUMP} — Indications for Implantable Infusion Pump Insertion",
    ),
    "nia.history.pump_opioid_medication": _nia(
        "Added requirement of minimum of 12 weeks of oral or transdermal opiate pain medications",
        f"{_PUMP} — Policy History — May 2022",
    ),
    "nia.pump.life_expectancy": _nia(
        "Removed language 'A life expectancy of at least 3 months'",
        f"{_PUMP} — Policy History — May 2023",
    ),
    "nia.pump.other_indications": _nia(
        "There are no other medical indications for other intrathecal treatments except chronic "
        "pain and intractable spasticity.",
        f"{_PUMP} — Contraindications for Implanted Infusion Pump — Note",
    ),
    "nia.pump.contraindications": _nia(
        "Active systemic or spinal infection - Body habitus that is insufficient to support the "
        "weight and bulk of the device",
        f"{_PUMP} — Contraindications for Implanted Infusion Pump",
    ),
    "wa.esi.imaging_guidance": _nia(
        "With fluoroscopic guidance or CT guidance",
        f"{_ESI} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.esi.radicular_pain": _nia(
        "For treatment of radicular pain",
        f"{_ESI} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.esi.conservative_therapy_failed": _nia(
        "After failure of conservative therapy",
        f"{_ESI} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.sij.conservative_therapy_failed": _nia(
        "After failure of conservative therapy; and",
        f"{_SIJ} — {_WA} — HCA Technology Assessment 20160318B Spinal Injections",
    ),
    "wa.rfa.age": _nia(
        "Patient(s) must be over 17 years of age", f"{_RFA} — {_WA} — Lumbar Facet Neurotomy"
    ),
    "wa.rfa.pain_duration": _nia(
        "Has at least six months of continuous low back pain referable to the facet joint",
        f"{_RFA} — {_WA} — Lumbar Facet Neurotomy",
    ),
    "wa.rfa.non_radicular": _nia(
        "The pain is non-radicular pain", f"{_RFA} — {_WA} — Lumbar Facet Neurotomy"
    ),
    "wa.rfa.conservative_therapy_failed": _nia(
        "Condition is unresponsive to other therapies including conservative care",
        f"{_RFA} — {_WA} — Lumbar Facet Neurotomy",
    ),
    "wa.rfa.headache_not_covered": _nia(
        "Facet Neurotomy for headache is **not covered**.",
        f"{_RFA} — {_WA} — Non-Covered Indicators",
    ),
    "cohere.esi.interlaminar_per_session": Citation(
        "One interlaminar injection is recommended at a time.",
        COHERE_NECK,
        f"{_NECK_ESI} — General Guidelines",
    ),
    "cohere.esi.transforaminal_per_session": Citation(
        "Up to two transforaminal injections may be appropriate at a time bilaterally (at the "
        "same nerve level) or unilaterally at adjacent levels.",
        COHERE_NECK,
        f"{_NECK_ESI} — General Guidelines",
    ),
    "cohere.esi.image_guidance": Citation(
        "Perform epidural steroid injections with radiographic image guidance.",
        COHERE_NECK,
        f"{_NECK_ESI} — General Guidelines",
    ),
    "cohere.esi.indications": Citation(
        "The patient is outside the acute period (greater than 4 weeks).",
        COHERE_NECK,
        f"{_NECK_ESI} — Indications",
    ),
    "cohere.esi.non_indications": Citation(
        "Hypersensitivity (or allergy) to steroids.",
        COHERE_NECK,
        f"{_NECK_ESI} — Non-Indications",
    ),
    "cohere.facet.indications": Citation(
        "The patient had advanced imaging that revealed either facet arthritis or "
        "cervical/thoracic spondylosis (arthritis) at the level requested.",
        COHERE_NECK,
        f"{_NECK_FACET} — Indications",
    ),
    "cohere.facet.non_indications": Citation(
        "Coagulopathy or recent use of blood-thinning agents",
        COHERE_NECK,
        f"{_NECK_FACET} — Non-Indications",
    ),
    "cohere.rfa.indications": Citation(
        "The patient failed to show significant improvement in pain or disability level due to "
        "symptoms, despite receiving more than 6 weeks of conservative management",
        COHERE_NECK,
        f"{_NECK_RFA} — Indications",
    ),
    "cohere.rfa.non_indications": Citation(
        "The patient is allergic to local anesthetic.",
        COHERE_NECK,
        f"{_NECK_RFA} — Non-Indications",
    ),
    "cohere.cyst.indications": Citation(
        "Advanced diagnostic imaging confirms compression or displacement of the nerve root.",
        COHERE_NECK,
        f"{_NECK_CYST} — Indications",
    ),
    "cohere.cyst.non_indications": Citation(
        "The patient is allergic to local anesthetic.",
        COHERE_NECK,
        f"{_NECK_CYST} — Non-Indications",
    ),
    "cohere_ma.pump.tolerance": Citation(
        "minimal side effects, and patient tolerance",
        COHERE_MA_PUMPS,
        f"{_MA_INDICATIONS} — Chronic, Non-Malignant Pain",
    ),
    "cohere_ma.cancer_pain.criteria": Citation(
        "Documented life expectancy of three months or more",
        COHERE_MA_PUMPS,
        f"{_MA_INDICATIONS} — Malignant Cancer-Related Pain",
    ),
    "cohere_ma.non_malignant.criteria": Citation(
        "Failure of conservative management (e.g., rest, analgesics, physical therapy, oral or "
        "injectable corticosteroids) must be documented.",
        COHERE_MA_PUMPS,
        f"{_MA_INDICATIONS} — Chronic, Non-Malignant Pain",
    ),
    "cohere_ma.spasticity.criteria": Citation(
        "There must be at least a 6-week trial",
        COHERE_MA_PUMPS,
        f"{_MA_INDICATIONS} — Painful Spasticity",
    ),
    "cohere_ma.pump.contraindications": Citation(
        "With other implanted programmable devices since crosstalk between devices may "
        "inadvertently change the prescription",
        COHERE_MA_PUMPS,
        f"{_MA_PUMPS} — Medical Necessity Criteria — Non-Indications",
    ),
}


_TYPOGRAPHIC = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",  # prime
        "\u201c": '"',  # left double quotation mark
        "\u201d": '"',  # right double quotation mark
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',  # double prime
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
    }
)
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """``text`` with typographic quotes and dashes made ASCII and every whitespace run one
    space, stripped. Nothing else changes: case, punctuation and markup stay as they are."""
    return _WHITESPACE.sub(" ", text.translate(_TYPOGRAPHIC)).strip()


def find_in_source(citation: Citation, seeds_dir: Path) -> bool:
    """Whether ``citation.quote`` occurs in ``seeds_dir / citation.source``, ignoring only
    whitespace differences and typographic quotes and dashes (see :func:`normalise`).

    False when the file is missing or the quote is empty.
    """
    path = Path(seeds_dir) / citation.source
    if not path.is_file():
        return False
    quote = normalise(citation.quote)
    if not quote:
        return False
    return quote in normalise(path.read_text(encoding="utf-8"))
