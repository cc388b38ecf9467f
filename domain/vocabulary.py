"""The contract's controlled vocabularies, one enum each."""

from __future__ import annotations

from enum import StrEnum


class Laterality(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"


class Intent(StrEnum):
    DIAGNOSTIC = "diagnostic"
    THERAPEUTIC = "therapeutic"
    TRIAL = "trial"
    IMPLANT = "implant"
    REPLACEMENT = "replacement"
    REVISION = "revision"
    REMOVAL = "removal"


class Agent(StrEnum):
    LOCAL_ANESTHETIC = "local_anesthetic"
    STEROID = "steroid"
    OPIOID = "opioid"
    ANTISPASMODIC = "antispasmodic"
    OTHER = "other"


class Indication(StrEnum):
    ACUTE_PAIN = "acute_pain"
    CHRONIC_PAIN = "chronic_pain"
    PTSD = "ptsd"
    SPASTICITY = "spasticity"
    CANCER_PAIN = "cancer_pain"
    SYNOVIAL_CYST = "synovial_cyst"
    INTRATHECAL_TRIAL = "intrathecal_trial"
    FACET_CYST_ASPIRATION = "facet_cyst_aspiration"
    STEM_CELL = "stem_cell"
    # Purposes some guidelines exclude by name (NIA_CG_300/408 exclusions, Washington's
    # facet neurotomy limits, NIA_CG_310's "no other medical indications").
    POST_OPERATIVE_PAIN = "post_operative_pain"
    SURGICAL_ANESTHESIA = "surgical_anesthesia"
    CHEMOTHERAPY = "chemotherapy"
    HEADACHE = "headache"


class Approach(StrEnum):
    INTERLAMINAR = "interlaminar"
    CAUDAL = "caudal"
    TRANSFORAMINAL = "transforaminal"
    INTRA_ARTICULAR = "intra_articular"
    MEDIAL_BRANCH = "medial_branch"


class SurgeryKind(StrEnum):
    FUSION = "fusion"
    DECOMPRESSION = "decompression"
    OTHER = "other"


class DeviceReason(StrEnum):
    MALFUNCTION = "malfunction"
    BATTERY_DEPLETION = "battery_depletion"
    RECALL = "recall"
    IMPENDING_FAILURE = "impending_failure"
    NEWER_TECHNOLOGY = "newer_technology"
    LEAD_MIGRATION = "lead_migration"
    LOSS_OF_EFFECTIVENESS = "loss_of_effectiveness"
    INTOLERANCE = "intolerance"
    INFECTION = "infection"
    PAINFUL_GENERATOR_SITE = "painful_generator_site"
    NEUROLOGICAL_DEFICIT = "neurological_deficit"
    PATIENT_DEMAND = "patient_demand"


class EventType(StrEnum):
    """The ``type`` of an event as clients send it and history shows it."""

    PROCEDURE_PERFORMED = "procedure_performed"
    OUTCOME_REPORTED = "outcome_reported"
    SURGERY_PERFORMED = "surgery_performed"
    PATHOLOGY_DIAGNOSED = "pathology_diagnosed"
    EVENT_VOIDED = "event_voided"
    AUTHORIZATION_REQUESTED = "authorization_requested"
    AUTHORIZATION_DECIDED = "authorization_decided"
